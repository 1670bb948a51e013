// One linter for the whole tree. Type-aware rules stay off to keep the test run fast;
// tsc --strict already checks types. The import rule below keeps the data flow one way:
// collectors and analyzers meet only at engine/ contracts.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * One boundary: files under `dir` may not import from any of `forbidden` (repository folders), nor from
 * test/ outside their tests. Specifiers are matched as written (relative paths), so both `../analyzers/x.js`
 * and `../../engine/app/y.js` are caught.
 */
function layer(dir, forbidden, why) {
  const patterns = (extra) => [
    ...forbidden.map((f) => ({
      group: [`**/${f}/**`, ...(f.includes('/') ? [`**/${f.split('/')[1]}/**`] : [])],
      message: `${dir}: ${why}`,
    })),
    ...extra,
  ];
  return [
    {
      files: [`${dir}/**/*.ts`],
      ignores: ['**/*.test.ts', '**/testing.ts', '**/testdata/**'],
      rules: {
        'no-restricted-imports': [
          'error',
          { patterns: patterns([{ group: ['**/test/**'], message: `${dir}: product code never imports test/` }]) },
        ],
      },
    },
    {
      files: [`${dir}/**/*.test.ts`, `${dir}/**/testing.ts`, `${dir}/**/testdata/**/*.ts`],
      rules: { 'no-restricted-imports': ['error', { patterns: patterns([]) }] },
    },
  ];
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.cache/**', '.apitap/**', 'deploy/**/*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  // Layers (imports point one way; tests and their helpers may also import test/support):
  //   engine/contracts      imports nothing of ours
  //   collectors/, analyzers/, engine/adapters/   import engine/contracts only (and themselves)
  //   engine/app/           the composition root: imports every layer
  ...layer(
    'engine/contracts',
    ['collectors', 'analyzers', 'engine/adapters', 'engine/app'],
    'contracts import nothing of ours',
  ),
  ...layer('collectors', ['analyzers', 'engine/adapters', 'engine/app'], 'collectors import engine/contracts only'),
  ...layer('analyzers', ['collectors', 'engine/adapters', 'engine/app'], 'analyzers import engine/contracts only'),
  ...layer('engine/adapters', ['collectors', 'analyzers', 'engine/app'], 'adapters import engine/contracts only'),
);
