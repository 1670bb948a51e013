import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COUNTERS, isCounterName, isReported } from '../../contracts/catalogue.js';
import { Counters } from '../../contracts/counters.js';
import { repoRoot } from '../../../test/support/paths.js';
import { catalogueMarkdown, metricsText, README_BEGIN, README_END } from './catalogue-views.js';

test('every catalogue entry is snake_case with a meaning', () => {
  for (const [name, info] of Object.entries(COUNTERS)) {
    assert.match(name, /^[a-z0-9]+(_[a-z0-9]+)*$/, name);
    assert.ok(info.meaning.length > 10, `${name}: meaning`);
  }
  assert.ok(isCounterName('tcp_gap') && !isCounterName('no_such_counter') && !isCounterName('toString'));
  assert.ok(isReported('tcp_gap') && isReported('flow_evicted') && !isReported('packets') && !isReported('nope'));
});

test('/metrics lists every catalogue counter with HELP and TYPE, values from the Counters', () => {
  const c = new Counters();
  c.inc('packets', 7);
  c.max('bus_buffered_peak', 3);
  const text = metricsText(c);
  assert.match(text, /^# HELP apitap_packets frames read from the source \(stat, packets\)$/m);
  assert.match(text, /^# TYPE apitap_packets counter\napitap_packets 7$/m);
  assert.match(text, /^# TYPE apitap_bus_buffered_peak gauge\napitap_bus_buffered_peak 3$/m);
  assert.match(text, /^apitap_tcp_gap 0$/m);
  const samples = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  assert.equal(samples.length, Object.keys(COUNTERS).length);
});

test("the README's counter reference is generated from the catalogue (npm run docs)", () => {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const a = readme.indexOf(README_BEGIN);
  const b = readme.indexOf(README_END);
  assert.ok(a >= 0 && b > a, 'README has the counter markers');
  assert.equal(readme.slice(a, b + README_END.length), catalogueMarkdown(), 'README is stale: run npm run docs');
});
