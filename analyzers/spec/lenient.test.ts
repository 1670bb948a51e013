// Lenient loading: every public spec of the corpus loads, and the sloppiness vendors publish (which
// the APIs.guru directory cleans up on intake, so it is crafted here) loads with warnings naming
// JSON pointers. Only files that are not YAML/JSON or not API descriptions are refused, in one line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { corpus } from '../../test/support/paths.js';
import { loadSpec, MAX_SPEC_WARNINGS, parseSpec, SpecError } from './load.js';
import { createSpecIndex } from './match.js';
import { pruneYaml } from './parse.js';
import type { LoadedSpec } from './types.js';

function specFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir).sort()) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...specFiles(p));
    else if (/\.(ya?ml|json)$/i.test(e)) out.push(p);
  }
  return out;
}

const W = (s: LoadedSpec): string[] => s.warnings.map((w) => `${w.pointer}: ${w.message}`);

test('every public spec in the corpus loads (APIs.guru included), with operations', async () => {
  const files = specFiles(corpus('specs'));
  const guru = files.filter((f) => f.includes(`${join('specs', 'apis-guru')}`));
  assert.ok(guru.length >= 49, `${guru.length} APIs.guru specs`);
  let ops = 0;
  let warnings = 0;
  for (const f of files) {
    const s = await loadSpec(f);
    assert.ok(s.operations.length > 0, `${f}: no operations`);
    for (const o of s.operations) {
      assert.ok(o.fullPaths.length > 0 && o.fullPaths.every((p) => p.startsWith('/')), `${f} ${o.method} ${o.path}`);
      assert.match(o.method, /^[A-Z]+$/);
    }
    ops += s.operations.length;
    warnings += s.warningCount;
  }
  // The published figures (README): 64 specs, 1566 operations, 77 warnings (all from APIs.guru's AWS
  // specs, whose path keys carry `#X-Amz-Target=...` or query names after the path).
  assert.equal(files.length, 64);
  assert.equal(ops, 1566);
  assert.equal(warnings, 77);
});

test('server variables: enums expand, free variables stay templates, a default spanning URL parts is substituted', async () => {
  const ebay = await loadSpec(corpus('specs', 'apis-guru/ebay.com/sell-metadata/v1.4.1/openapi.yaml'));
  assert.deepEqual(ebay.hosts, ['api.ebay.com']);
  assert.deepEqual(ebay.basePaths, ['/sell/metadata/v1']);
  const s = parseSpec(
    [
      'openapi: 3.1.0',
      'info: {title: t, version: "1"}',
      'servers:',
      '  - url: https://{region}.api.example.com/v{version}',
      '    variables:',
      '      region: {default: eu, enum: [eu, us]}',
      '      version: {default: "2"}',
      '  - url: "{scheme}://{host}:{port}/base"',
      '    variables: {scheme: {default: https}, host: {default: localhost}, port: {default: "8443"}}',
      'paths:',
      '  /things/{id}: {get: {responses: {"200": {description: ok}}}}',
    ].join('\n'),
    'servers.yaml',
  );
  assert.deepEqual(s.warnings, []);
  assert.deepEqual(s.hosts, []); // the second server applies to any host
  const op = s.operations[0];
  assert.deepEqual(op?.fullPaths, ['/base/things/{id}', '/v{version}/things/{id}']);
  const t = parseSpec(
    [
      'openapi: 3.0.3',
      'info: {title: t, version: "1"}',
      'servers: [{url: "https://{tenant}.example.com/api", variables: {tenant: {default: acme}}}]',
      'paths: {/x: {get: {responses: {"200": {description: ok}}}}}',
    ].join('\n'),
    't.yaml',
  );
  assert.deepEqual(t.hosts, ['{tenant}.example.com']);
  const idx = createSpecIndex([t]);
  assert.equal(idx.match('globex.example.com', 'GET', ['api', 'x'])?.entry.op.path, '/x');
  assert.equal(idx.match('example.com', 'GET', ['api', 'x']), null);
  assert.equal(idx.match('globex.example.org', 'GET', ['api', 'x']), null);
});

test('Swagger 2: host, basePath and schemes; a sloppy host with scheme and path', () => {
  const s = parseSpec(
    'swagger: 2.0\ninfo: {title: t, version: 1.0}\nhost: https://API.example.com/root\nbasePath: /v1\nschemes: [https]\npaths: {/a: {get: {responses: {200: {description: ok}}}}}',
    's2.yaml',
  );
  assert.equal(s.format, 'swagger-2.0');
  assert.deepEqual(s.hosts, ['api.example.com']);
  assert.deepEqual(s.operations[0]?.fullPaths, ['/root/v1/a']);
  assert.ok(W(s).some((w) => w.startsWith('#/swagger: swagger is a number')));
  assert.ok(W(s).some((w) => w.startsWith('#/host: host "https://API.example.com/root" holds a scheme')));
});

// Each crafted case: [name, document, expected warning substrings, check].
const SLOPPY: [string, string, RegExp[], (s: LoadedSpec) => void][] = [
  [
    'nulls where lists and strings are expected',
    `swagger: "2.0"
info: {title: null, version: "1"}
host: null
paths:
  /a:
    parameters: null
    get:
      parameters: null
      security: [{oauth2: null}]
      responses: {200: {description: ok}}
  /b:
    get:
      security: null
      responses: {200: {description: ok}}
securityDefinitions:
  oauth2: {type: oauth2, flow: implicit, authorizationUrl: "https://x/auth", scopes: null}`,
    [
      /#\/host: host is null/,
      /#\/paths\/~1a\/parameters: null where a list of parameters/,
      /#\/paths\/~1a\/get\/parameters: null where a list/,
      /#\/paths\/~1a\/get\/security\/0\/oauth2: scopes are null/,
      /#\/paths\/~1b\/get\/security: security is null/,
      /#\/info\/title: title is null/,
    ],
    (s) => {
      assert.deepEqual(s.hosts, []);
      assert.deepEqual(
        s.operations.map((o) => [o.path, o.security]),
        [
          ['/a', [['oauth2']]],
          ['/b', []],
        ],
      );
    },
  ],
  [
    'servers: null and a server without url',
    `openapi: 3.0.1
info: {title: t, version: "1"}
servers: null
paths:
  /a:
    servers: [{description: no url}]
    get: {responses: {"200": {description: ok}}}`,
    [/#\/servers: null where a list of servers/, /#\/paths\/~1a\/servers\/0: server without url/],
    (s) => assert.deepEqual(s.operations[0]?.fullPaths, ['/a']),
  ],
  [
    'unquoted openapi: 3.0',
    'openapi: 3.0\ninfo: {title: t, version: 1}\npaths: {/a: {get: {responses: {"200": {description: ok}}}}}',
    [/#\/openapi: openapi is a number \(3\)/, /#\/info\/version: version is a number/],
    (s) => {
      assert.equal(s.format, 'openapi-3.0');
      assert.equal(s.apiVersion, '1');
    },
  ],
  [
    'duplicate keys (the later wins)',
    'openapi: 3.0.0\ninfo: {title: t, version: "1"}\npaths:\n  /a:\n    get: {operationId: first, responses: {}}\n    get: {operationId: second, responses: {}}\n',
    [/#: duplicated mapping key \(6:5\)/],
    (s) => assert.equal(s.operations[0]?.operationId, 'second'),
  ],
  [
    'openapi: 3.2.0 with QUERY and additionalOperations',
    `openapi: 3.2.0
info: {title: t, version: "1"}
paths:
  /search:
    query: {responses: {"200": {description: ok}}}
    additionalOperations:
      LINK: {responses: {"200": {description: ok}}}`,
    [],
    (s) => {
      assert.equal(s.format, 'openapi-3.2');
      assert.deepEqual(
        s.operations.map((o) => o.method),
        ['LINK', 'QUERY'],
      );
    },
  ],
  [
    'a parameter without in, an unknown in, a parameter without name',
    `openapi: 3.0.0
info: {title: t, version: "1"}
paths:
  /items/{itemId}:
    get:
      parameters:
        - {name: itemId, required: true}
        - {name: q}
        - {name: f, in: formData}
        - {in: query}
        - {name: Limit, in: QUERY}
      responses: {"200": {description: ok}}`,
    [
      /parameters\/0: parameter "itemId" without "in": read as path/,
      /parameters\/1: parameter "q" without "in": read as query/,
      /parameters\/2\/in: parameter "f" in "formdata" is not a OpenAPI 3 location/,
      /parameters\/3: parameter without "name"/,
    ],
    (s) => {
      assert.deepEqual(s.operations[0]?.queryParams, ['Limit', 'q']);
      assert.deepEqual(s.operations[0]?.pathParams, ['itemId']);
    },
  ],
  [
    'a security scheme without type, and one with a wrong case',
    `openapi: 3.0.0
info: {title: t, version: "1"}
components:
  securitySchemes:
    key: {in: header, name: X-Api-Key}
    bearer: {scheme: Bearer}
    weird: {type: ApiKey, in: query, name: k}
security: [{key: []}, {bearer: []}]
paths: {/a: {get: {responses: {"200": {description: ok}}}}}`,
    [
      /securitySchemes\/key: security scheme without "type": read as apiKey/,
      /securitySchemes\/bearer: security scheme without "type": read as http/,
      /securitySchemes\/weird\/type: security scheme type "ApiKey" read as "apiKey"/,
    ],
    (s) => {
      assert.deepEqual(s.securitySchemes['key'], { type: 'apiKey', scheme: null, in: 'header', name: 'X-Api-Key' });
      assert.equal(s.securitySchemes['bearer']?.scheme, 'bearer');
      assert.deepEqual(s.operations[0]?.security, [['key'], ['bearer']]);
    },
  ],
  [
    'numbers where strings are expected, booleans written as strings',
    `openapi: 3.0.0
info: {title: 404, version: 2.1}
paths:
  /a:
    get:
      operationId: 17
      deprecated: "true"
      parameters: [{name: 5, in: query}]
      responses: {"200": {description: ok}}
  /b:
    get: {deprecated: "yes", responses: {}}
  /c:
    get: {deprecated: "maybe", responses: {}}`,
    [
      /#\/info\/title: title is a number/,
      /operationId: operationId is a number \(17\)/,
      /~1a\/get\/deprecated: deprecated is a string \(true\), expected a boolean: read as true/,
      /~1b\/get\/deprecated: .*read as true/,
      /~1c\/get\/deprecated: deprecated is a string, expected a boolean: ignored/,
      /parameters\/0\/name: parameter name is a number/,
    ],
    (s) => {
      assert.equal(s.title, '404');
      assert.deepEqual(
        s.operations.map((o) => [o.path, o.deprecated, o.operationId]),
        [
          ['/a', true, '17'],
          ['/b', true, null],
          ['/c', false, null],
        ],
      );
      assert.deepEqual(s.operations[0]?.queryParams, ['5']);
    },
  ],
  [
    'broken and remote $refs, a missing responses, a path without leading slash, a non-object operation',
    `openapi: 3.0.0
info: {title: t, version: "1"}
paths:
  users/{id}:
    get:
      parameters: [{$ref: "#/components/parameters/Nope"}, {$ref: "https://example.com/p.yaml#/P"}]
    put: "not an operation"
    post: {$ref: "#/paths/~1loop/post"}
  /loop:
    post: {$ref: "#/paths/~1loop/post"}`,
    [
      /#\/paths\/users~1{id}: path "users\/{id}" does not start with "\/"/,
      /get\/parameters\/0: unresolvable \$ref #\/components\/parameters\/Nope/,
      /get\/parameters\/1: remote \$ref https:\/\/example.com\/p.yaml#\/P is not fetched/,
      /#\/paths\/users~1{id}\/get: operation without "responses"/,
      /put: a string where an operation object is expected/,
      /circular \$ref #\/paths\/~1loop\/post/,
    ],
    (s) =>
      assert.deepEqual(
        s.operations.map((o) => `${o.method} ${o.path}`),
        ['GET /users/{id}'],
      ),
  ],
  [
    'no version field at all, but paths (Swagger 2 fields)',
    'host: api.example.com\nbasePath: /v1\npaths: {/a: {get: {responses: {200: {description: ok}}}}}',
    [/#: no "openapi" or "swagger" version: read as Swagger 2.0/],
    (s) => assert.deepEqual(s.operations[0]?.fullPaths, ['/v1/a']),
  ],
  [
    'a BOM and CRLF line ends',
    '\ufeffopenapi: "3.0.0"\r\ninfo: {title: t, version: "1"}\r\npaths: {/a: {get: {responses: {"200": {description: ok}}}}}\r\n',
    [],
    (s) => assert.equal(s.operations.length, 1),
  ],
];

for (const [name, doc, want, check] of SLOPPY) {
  test(`sloppy spec loads with warnings: ${name}`, () => {
    const s = parseSpec(doc, 'sloppy.yaml');
    const ws = W(s);
    for (const re of want)
      assert.ok(
        ws.some((w) => re.test(w)),
        `missing warning ${String(re)} in\n${ws.join('\n')}`,
      );
    assert.equal(s.warningCount, s.warnings.length);
    if (want.length === 0) assert.deepEqual(ws, []);
    check(s);
  });
}

test('warnings are capped and all counted', () => {
  const paths = Object.fromEntries(
    Array.from({ length: 300 }, (_, i) => [`/p${i}`, { get: { parameters: null, responses: {} } }]),
  );
  const s = parseSpec(JSON.stringify({ openapi: '3.0.0', info: { title: 't', version: '1' }, paths }), 'many.json');
  assert.equal(s.operations.length, 300);
  assert.equal(s.warnings.length, MAX_SPEC_WARNINGS);
  assert.equal(s.warningCount, 300);
});

test('only unreadable files and non-API documents are refused, in one line', async () => {
  const refused: [string, RegExp][] = [
    ['openapi: [', /^a\.yaml: not YAML\/JSON: unexpected end of the stream/],
    ['\u0000\u0001\u0002binary', /^a\.yaml: not an API description|^a\.yaml: not YAML\/JSON/],
    ['just a sentence', /^a\.yaml: not an API description: the document is a string$/],
    ['[1, 2]', /^a\.yaml: not an API description: the document is a list$/],
    ['info: {title: x}', /^a\.yaml: not an API description \(no "openapi", "swagger" or "paths" at the root\)$/],
    ['swagger: "1.2"\napis: []', /^a\.yaml: Swagger 1\.2 is not supported/],
    ['asyncapi: 2.6.0\nchannels: {}', /^a\.yaml: an AsyncAPI document/],
    ['', /^a\.yaml: not an API description: the document is a undefined$|^a\.yaml: not an API description/],
  ];
  for (const [text, re] of refused) {
    assert.throws(
      () => parseSpec(text, 'a.yaml'),
      (e: unknown) => e instanceof SpecError && re.test(e.message) && !e.message.includes('\n'),
      JSON.stringify(text),
    );
  }
  await assert.rejects(loadSpec('/nonexistent/s15.yaml'), /s15\.yaml: cannot read: ENOENT/);
});

test('relative file $refs are followed (cycle-safe, once per file); URLs and absolute paths are not', async () => {
  const dir = mkdtempSync(join(tmpdir(), 's15-spec-'));
  try {
    mkdirSync(join(dir, 'paths'));
    writeFileSync(
      join(dir, 'main.yaml'),
      [
        'openapi: 3.0.3',
        'info: {title: multi, version: "1"}',
        'paths:',
        '  /users/{id}: {$ref: "paths/users.yaml"}',
        '  /abs: {$ref: "/etc/passwd"}',
        'components:',
        '  parameters:',
        '    Limit: {name: limit, in: query}',
      ].join('\n'),
    );
    writeFileSync(
      join(dir, 'paths', 'users.yaml'),
      [
        'get:',
        '  parameters:',
        '    - $ref: "../main.yaml#/components/parameters/Limit"',
        '    - $ref: "common.yaml#/Expand"',
        '    - $ref: "#/loop"',
        '  responses: {"200": {description: ok}}',
        'loop: {$ref: "#/loop"}',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'paths', 'common.yaml'), 'Expand: {name: expand, in: query}\n');
    const s = await loadSpec(join(dir, 'main.yaml'));
    assert.deepEqual(
      s.operations.map((o) => [o.method, o.path, o.queryParams]),
      [['GET', '/users/{id}', ['expand', 'limit']]],
    );
    const ws = W(s);
    assert.ok(
      ws.some((w) => /absolute file \$ref \/etc\/passwd is not followed/.test(w)),
      ws.join('\n'),
    );
    assert.ok(
      ws.some((w) => /circular \$ref #\/loop/.test(w)),
      ws.join('\n'),
    );
    // Given as text, the file reference cannot be followed: warned, not fatal.
    const t = parseSpec('openapi: 3.0.0\npaths: {/u: {$ref: "paths/users.yaml"}}', 'text.yaml');
    assert.equal(t.operations.length, 0);
    assert.match(W(t).join('\n'), /file reference paths\/users.yaml needs the spec's directory/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('large YAML is pruned before parsing without changing what loads (every corpus YAML spec)', async () => {
  const { readFileSync } = await import('node:fs');
  const files = specFiles(corpus('specs')).filter((f) => /\.ya?ml$/.test(f));
  assert.ok(files.length > 40);
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    const pruned = pruneYaml(text);
    const a = parseSpec(text, 'x.yaml');
    const b = parseSpec(pruned, 'x.yaml');
    // The index is the same; the schemas and contracts conformance reads are what pruning cuts.
    const index = (x: LoadedSpec): unknown => ({
      ...x,
      warnings: [],
      warningCount: 0,
      documents: null,
      schemasPruned: null,
      source: null,
      operations: x.operations.map((o) => ({ ...o, contract: null })),
    });
    assert.deepEqual(index(b), index(a), f);
    assert.deepEqual(b.warnings, a.warnings, f);
  }
});

test('spec index: mixed segments, Google HTTP-rule paths, label form, most literal first', () => {
  const s = parseSpec(
    [
      'openapi: 3.0.3',
      'info: {title: t, version: "1"}',
      'paths:',
      '  /v1/{name=projects/*/jobs/*}:cancel: {post: {responses: {"200": {description: ok}}}}',
      '  /v1/projects/{project}/jobs/{job}: {post: {responses: {"200": {description: ok}}}}',
      '  /files/{name}{.format}: {get: {responses: {"200": {description: ok}}}}',
      '  /files/{name}.gz: {get: {responses: {"200": {description: ok}}}}',
      '  /files/{name}.tar.gz: {get: {responses: {"200": {description: ok}}}}',
      '  /files/latest.tar.gz: {get: {responses: {"200": {description: ok}}}}',
    ].join('\n'),
    'mixed.yaml',
  );
  const idx = createSpecIndex([s]);
  const path = (m: string, segs: (string | null)[]): string | undefined => idx.match('h', m, segs)?.entry.op.path;
  assert.equal(path('POST', ['v1', 'projects', 'p1', 'jobs', 'nightly:cancel']), '/v1/{name=projects/*/jobs/*}:cancel');
  assert.equal(path('POST', ['v1', 'projects', 'p1', 'jobs', 'nightly']), '/v1/projects/{project}/jobs/{job}');
  assert.equal(path('POST', ['v1', 'projects', 'p1', 'jobs', '{job}:cancel']), '/v1/{name=projects/*/jobs/*}:cancel');
  // A whole parameter does not stand for a custom method.
  assert.equal(path('POST', ['v1', 'projects', 'p1', 'jobs', '{job}:pause']), undefined);
  assert.equal(path('GET', ['files', 'latest.tar.gz']), '/files/latest.tar.gz');
  assert.equal(path('GET', ['files', 'db.tar.gz']), '/files/{name}.tar.gz');
  assert.equal(path('GET', ['files', 'db.gz']), '/files/{name}.gz');
  assert.equal(path('GET', ['files', 'readme']), '/files/{name}{.format}');
  assert.equal(path('GET', ['files', 'readme.txt']), '/files/{name}{.format}');
});
