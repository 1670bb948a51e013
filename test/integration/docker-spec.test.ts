// The Docker Engine capture against the Docker Engine spec: the unversioned `HEAD /_ping` the docker
// CLI sends first is the current API version (spec basePath /v1.41 is version-only, so optional on
// a host that also served /v1.41: spec/load.ts "Optional version base"). Every call is documented and
// nothing is reported as shadow.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAnalysis } from '../../analyzers/analysis.js';
import { loadSpec } from '../../analyzers/spec/load.js';
import { createCollector, DEFAULT_COLLECTOR_OPTIONS } from '../../collectors/collector.js';
import { readCapture } from '../../collectors/source/capture.js';
import type { Exchange } from '../../engine/contracts/exchange.js';
import { Counters } from '../../engine/contracts/counters.js';
import { corpus, needsCorpus } from '../support/paths.js';

async function exchanges(file: string): Promise<Exchange[]> {
  const out: Exchange[] = [];
  const counters = new Counters();
  const collector = createCollector(DEFAULT_COLLECTOR_OPTIONS, (x) => out.push(x), counters);
  const res = await readCapture(file, collector, { counters });
  assert.deepEqual(
    res.problems.filter((p) => p.fatal),
    [],
  );
  collector.finish();
  return out;
}

test('docker-http-upgrade.pcap vs docker-engine v1.41: all calls documented, no shadow', needsCorpus, async () => {
  const spec = await loadSpec(corpus('specs', 'docker-engine', 'v1.41.yaml'));
  const xs = await exchanges(corpus('pcaps', 'zeek', 'http', 'docker-http-upgrade.pcap'));
  const a = createAnalysis({ specs: [spec], previousSpecs: [], overrides: null, pii: null });
  for (const x of xs) a.observe(x);
  const eps = a.endpoints();
  assert.deepEqual(
    eps.map((e) => `${e.method} ${e.path} ${e.documented ? 'documented' : 'undocumented'}`),
    [
      'HEAD /_ping documented',
      'POST /v1.41/containers/create documented',
      'POST /v1.41/containers/{id}/attach documented',
      'POST /v1.41/containers/{id}/resize documented',
      'POST /v1.41/containers/{id}/start documented',
      'POST /v1.41/containers/{id}/wait documented',
    ],
  );
  const ping = eps[0];
  assert.ok(
    ping?.explain.some((l) => l.startsWith('optional version base: v1.41.yaml declares base /v1.41')),
    ping?.explain.join('\n'),
  );
  const findings = a.findings();
  assert.deepEqual(
    findings.filter((f) => f.kind === 'shadow_api'),
    [],
  );
  // /_ping was called, so it is no orphan; /v1.41/_ping is the same operation.
  assert.deepEqual(
    findings
      .filter((f) => f.kind === 'orphan_api' && f.path.endsWith('/_ping'))
      .map((f) => f.method)
      .sort(),
    ['GET'],
  );
  // Conformance (README "Conformance"): what the docker CLI really sends to POST /containers/create
  // against the v1.41 schema (nulls the spec does not mark x-nullable, MemorySwappiness -1 below its
  // minimum 0, empty strings for two enums, DNSNames from a later API version) and the nullable Error
  // of the wait response; every status the daemon answered is declared.
  const conf = findings.filter((f) => f.kind.startsWith('undocumented_') || f.kind === 'schema_mismatch');
  assert.deepEqual([...new Set(conf.map((f) => `${f.kind} ${f.path}`))].sort(), [
    'schema_mismatch /v1.41/containers/create',
    'schema_mismatch /v1.41/containers/{id}/wait',
    'undocumented_parameter /v1.41/containers/create',
  ]);
  const kw = (name: string): unknown => conf.find((f) => f.details['name'] === name)?.details['keywords'];
  assert.deepEqual(kw('/HostConfig/MemorySwappiness'), { minimum: 1 });
  assert.deepEqual(kw('/HostConfig/LogConfig/Type'), { enum: 1 });
  assert.deepEqual(kw('/Env'), { nullable: 1 });
  assert.deepEqual(
    conf.filter((f) => f.kind === 'undocumented_parameter').map((f) => f.details['name']),
    ['/NetworkingConfig/EndpointsConfig/default/DNSNames'],
  );
});
