import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { repoRoot } from '../../test/support/paths.js';

test('http-parser-js is exactly the version parser.ts patches (0.5.10)', () => {
  // parser.ts replaces internals of the library (consumeLine, parseHeader, body states, nextRequest);
  // an upgrade must be deliberate: re-check every override listed in its header, then move this pin.
  const require = createRequire(import.meta.url);
  const pkg = JSON.parse(readFileSync(require.resolve('http-parser-js/package.json'), 'utf8')) as { version: string };
  assert.equal(pkg.version, '0.5.10');
  const own = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  assert.equal(own.dependencies['http-parser-js'], '0.5.10', 'package.json pins the exact version');
});
