// One linter for the whole tree. Type-aware rules stay off to keep the test run fast;
// tsc --strict already checks types. The import rule below keeps the data flow one way:
// collectors and analyzers meet only at engine/ contracts.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

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
  {
    files: ['collectors/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/analyzers/**'], message: 'collectors never import analyzers: meet at engine/contracts' },
          ],
        },
      ],
    },
  },
  {
    files: ['analyzers/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/collectors/**'], message: 'analyzers never import collectors: meet at engine/contracts' },
          ],
        },
      ],
    },
  },
);
