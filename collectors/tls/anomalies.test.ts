import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../../test/support/paths.js';
import { TLS_ANOMALIES, TLS_STATS } from './anomalies.js';

test('TLS counter and anomaly names are snake_case, described, and declared where they are used', () => {
  for (const [k, text] of Object.entries({ ...TLS_ANOMALIES, ...TLS_STATS })) {
    assert.match(k, /^tls_[a-z0-9_]+$/);
    assert.ok(text.length > 10, k);
  }
  const dir = join(repoRoot, 'collectors', 'tls');
  let used = 0;
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.ts') && !x.endsWith('.test.ts'))) {
    const src = readFileSync(join(dir, f), 'utf8');
    for (const m of src.matchAll(/(?:inc|flag)\('(tls_[a-z0-9_]+)'/g)) {
      used++;
      const name = m[1] as string;
      assert.ok(name in TLS_ANOMALIES || name in TLS_STATS, `${f}: ${name}`);
    }
  }
  assert.ok(used >= 10, 'the scan found the counters');
});
