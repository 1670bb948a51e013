// report/v1 → one self-contained HTML page (`apitap replay --html`, `apitap report --html`).
//
// A pure function of the report: the same report gives the same bytes (no wall clock, no locale).
// The page requests nothing: inline CSS, inline SVG, one inline script, and a Content-Security-Policy
// that forbids every fetch, so it can be attached to a ticket and opened offline. Every string from
// traffic, specs or the store is escaped (escape.ts); evidence is already redacted by the analyzers.
// Cost is linear in endpoints + findings (one string per row, joined once): 10,000 endpoints render in
// well under a second in Node and open in Chromium in the time test/integration/html-report.test.ts prints.
import {
  type ActorRecord,
  PII_KINDS,
  SEVERITIES,
  SEVERITY_RANK,
  type EndpointRecord,
  type Finding,
  type Severity,
} from '../../../contracts/inventory.js';
import type { Report } from '../../pipelines/report.js';
import { FINDING_GUIDE, OWASP_API_2023, guideFor } from '../guidance.js';
import { hbars, trafficChart, type Bar } from './charts.js';
import { CSS, SCRIPT } from './assets.js';
import { bytes, esc, int } from './escape.js';
import { dataTable, type Cell, type Column } from './table.js';

export const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:";

export interface HtmlOptions {
  /** Page title; default "apitap report". */
  title?: string;
  /** Where the report came from, shown under the title (e.g. capture file names or the store). */
  source?: string;
}

/** Inventory class of an endpoint, as in the spec diff: documented, shadow, zombie (orphans have no traffic). */
export type EndpointClass = 'documented' | 'shadow' | 'zombie';

const SEV_COLOR: Record<Severity, string> = {
  critical: 'var(--crit)',
  high: 'var(--high)',
  medium: 'var(--med)',
  low: 'var(--low)',
  info: 'var(--info)',
};

const key = (host: string, method: string, path: string): string => `${host}\u0000${method}\u0000${path}`;

export function endpointClass(e: EndpointRecord, zombies: ReadonlySet<string>): EndpointClass {
  if (e.deprecated || zombies.has(key(e.host, e.method, e.path))) return 'zombie';
  return e.documented ? 'documented' : 'shadow';
}

const fmtMs = (v: number | null): string => (v === null ? '' : v < 10 ? v.toFixed(2) : v.toFixed(1));
const statusText = (s: Record<string, number>): string =>
  Object.keys(s)
    .sort()
    .map((k) => `${k}:${s[k]}`)
    .join(' ');

export function renderHtmlReport(report: Report, opts: HtmlOptions = {}): string {
  const endpoints = report.endpoints ?? [];
  const findings = report.findings ?? [];
  const title = opts.title ?? 'apitap report';
  const zombies = new Set(findings.filter((f) => f.kind === 'zombie_api').map((f) => key(f.host, f.method, f.path)));
  const orphans = findings.filter((f) => f.kind === 'orphan_api');
  const classes = endpoints.map((e) => endpointClass(e, zombies));
  const classCount = { documented: 0, shadow: 0, zombie: 0 };
  for (const c of classes) classCount[c]++;
  const sevCount: Record<Severity, number> = { info: 0, low: 0, medium: 0, high: 0, critical: 0 };
  for (const f of findings) sevCount[f.severity]++;
  const hosts = [...new Set([...endpoints.map((e) => e.host), ...findings.map((f) => f.host)])].sort();
  const window = observationWindow(endpoints, report);
  const c = report.capture;

  const h: string[] = [];
  h.push(
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="referrer" content="no-referrer">',
    `<title>${esc(title)}</title><style>${CSS}</style></head><body><main>`,
    `<h1>${esc(title)}</h1>`,
  );
  if (opts.source !== undefined) h.push(`<p class="muted">Source: ${esc(opts.source)}</p>`);
  if (window !== null)
    h.push(`<p class="muted">Observation window (packet time): ${esc(window[0])} – ${esc(window[1])}</p>`);
  h.push(
    '<nav class="toc"><a href="#summary">Summary</a><a href="#findings">Findings</a><a href="#pii">Personal data</a>' +
      '<a href="#auth">Auth posture</a><a href="#endpoints">Endpoints</a><a href="#hosts">Hosts</a>' +
      ((report.actors ?? []).length > 0 ? '<a href="#actors">Actors</a>' : '') +
      '<a href="#remediation">Remediation</a><a href="#capture">Capture</a></nav>',
  );

  // Summary
  h.push('<section id="summary"><h2>Summary</h2><div class="cards">');
  const card = (v: string, label: string, id: string): string =>
    `<div class="card" id="card-${id}"><b>${v}</b><span>${esc(label)}</span></div>`;
  h.push(
    card(int(hosts.length), 'hosts', 'hosts'),
    card(int(endpoints.length), 'endpoints', 'endpoints'),
    card(int(classCount.shadow), 'shadow', 'shadow'),
    card(int(classCount.zombie), 'zombie', 'zombie'),
    card(int(orphans.length), 'orphan (documented, unseen)', 'orphan'),
    card(int(findings.length), 'findings', 'findings'),
    card(int(sevCount.critical + sevCount.high), 'critical + high', 'crithigh'),
    card(int(c.exchanges), 'paired exchanges', 'exchanges'),
  );
  const changes = findings.filter((f) => f.kind === 'api_change').length;
  const quiet = findings.filter((f) => f.kind === 'api_gone_quiet').length;
  if (changes + quiet > 0)
    h.push(card(int(changes), 'API changes since earlier windows', 'changes'), card(int(quiet), 'gone quiet', 'quiet'));
  h.push('</div><div class="grid2"><div><h3>Endpoints by inventory class</h3>');
  h.push(
    hbars(
      [
        { label: 'documented', value: classCount.documented, color: 'var(--doc)' },
        { label: 'shadow', value: classCount.shadow, color: 'var(--shadow)' },
        { label: 'zombie', value: classCount.zombie, color: 'var(--zombie)' },
        { label: 'orphan', value: orphans.length, color: 'var(--orphan)' },
      ],
      'Endpoints by inventory class',
    ),
  );
  h.push('</div><div><h3>Findings by severity</h3>');
  h.push(
    hbars(
      [...SEVERITIES].reverse().map((s): Bar => ({ label: s, value: sevCount[s], color: SEV_COLOR[s] })),
      'Findings by severity',
    ),
  );
  h.push('</div></div>');
  if (report.traffic !== undefined) {
    const t = report.traffic;
    h.push(
      `<h3>Traffic over packet time <span class="muted">(exchanges per ${t.bucketSeconds >= 60 ? `${t.bucketSeconds / 60} min` : `${t.bucketSeconds} s`}; errors and unanswered stacked in orange)</span></h3>`,
      trafficChart(t),
    );
  }
  h.push('</section>');

  renderFindings(h, findings);
  renderPii(h, endpoints);
  renderAuth(h, endpoints, findings);
  renderEndpoints(h, endpoints, classes);
  renderHosts(h, hosts, endpoints, findings);
  if ((report.actors ?? []).length > 0) renderActors(h, report.actors ?? [], findings);
  renderRemediation(h, findings);
  renderCapture(h, report);

  h.push(`</main><script>${SCRIPT}</script></body></html>\n`);
  return h.join('');
}

function observationWindow(endpoints: readonly EndpointRecord[], report: Report): [string, string] | null {
  let first: string | null = null;
  let last: string | null = null;
  for (const e of endpoints) {
    if (first === null || e.firstSeen < first) first = e.firstSeen;
    if (last === null || e.lastSeen > last) last = e.lastSeen;
  }
  const t = report.traffic;
  if (first === null && t !== undefined && t.buckets.length > 0) {
    first = t.buckets[0]?.start ?? null;
    last = t.buckets[t.buckets.length - 1]?.start ?? null;
  }
  return first !== null && last !== null ? [first, last] : null;
}

function renderFindings(h: string[], findings: readonly Finding[]): void {
  h.push('<section id="findings"><h2>Findings</h2>');
  if (findings.length === 0) {
    h.push('<p>No findings.</p></section>');
    return;
  }
  const sorted = [...findings].sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity]);
  const kinds = [...new Set(findings.map((f) => f.kind))].sort();
  const columns: Column[] = [
    { label: 'Severity', sort: 'sev', render: 'sev' },
    { label: 'Kind', sort: 'text', render: 'kind' },
    { label: 'Method', sort: 'text' },
    { label: 'Path', sort: 'text', render: 'mono' },
    { label: 'Evidence', sort: null, render: 'ev' },
    { label: 'OWASP API 2023', sort: 'text' },
    { label: 'Host', sort: 'text' },
    { label: 'Conf.', sort: 'num', num: true },
    { label: 'Last seen', sort: 'text' },
  ];
  const rows = sorted.map((f): Cell[] => {
    const g = guideFor(f.kind);
    const meta = `id ${f.id}${f.firstSeen !== null ? ` · first seen ${f.firstSeen}` : ''}`;
    return [
      f.severity,
      f.kind,
      f.method,
      f.path,
      [f.evidence, JSON.stringify(f.details, null, 1), meta],
      g === null ? '' : `${g.owasp} ${OWASP_API_2023[g.owasp]}`,
      f.host,
      f.confidence.toFixed(2),
      f.lastSeen ?? '',
    ];
  });
  h.push(
    dataTable('t-findings', columns, rows, {
      search: 'Search findings (path, evidence, field …)',
      filters: [
        { col: 0, label: 'Severity', values: [...SEVERITIES].reverse() },
        { col: 1, label: 'Kind', values: kinds },
      ],
    }),
    '</section>',
  );
}

function renderPii(h: string[], endpoints: readonly EndpointRecord[]): void {
  h.push('<section id="pii"><h2>Personal data map</h2>');
  const withPii = endpoints.filter((e) => e.pii.length > 0);
  if (withPii.length === 0) {
    h.push('<p>No personal data or secrets were detected.</p></section>');
    return;
  }
  const present = PII_KINDS.filter((k) => withPii.some((e) => e.pii.some((p) => p.kind === k)));
  // Kind totals: endpoints whose requests / responses carry the kind.
  const reqBy = new Map<string, number>();
  const respBy = new Map<string, number>();
  const rows = withPii.map((e): Cell[] => {
    const cells: Cell[] = [e.host, e.method, e.path, e.auth.join(', ') || 'none'];
    for (const k of present) {
      const hits = e.pii.filter((p) => p.kind === k);
      if (hits.length === 0) {
        cells.push(null);
        continue;
      }
      const q = hits.some((p) => p.location.startsWith('request.'));
      const r = hits.some((p) => p.location.startsWith('response.'));
      if (q) reqBy.set(k, (reqBy.get(k) ?? 0) + 1);
      if (r) respBy.set(k, (respBy.get(k) ?? 0) + 1);
      cells.push([q && r ? 'QR' : q ? 'Q' : 'R', hits.map((p) => `${p.location} ${p.field}`).join('\n')]);
    }
    return cells;
  });
  h.push('<h3>By kind</h3><div class="tw"><table id="t-pii-kinds" data-sortable><thead><tr>');
  h.push(
    '<th data-sort="text">Kind</th><th data-sort="num" class="num">Endpoints (request)</th><th data-sort="num" class="num">Endpoints (response)</th></tr></thead><tbody>',
  );
  for (const k of present)
    h.push(
      `<tr><td>${esc(k)}</td><td class="num">${reqBy.get(k) ?? 0}</td><td class="num">${respBy.get(k) ?? 0}</td></tr>`,
    );
  h.push(
    '</tbody></table></div><h3>Endpoints × kinds</h3>',
    '<p class="legend">Cells: <span class="q">Q</span>request only <span class="r">R</span>response only ' +
      '<span class="qr">QR</span>both. Hover a cell for the fields; search matches field names too.</p>',
  );
  const columns: Column[] = [
    { label: 'Host', sort: 'text' },
    { label: 'Method', sort: 'text' },
    { label: 'Path', sort: 'text', render: 'mono' },
    { label: 'Auth', sort: 'text' },
    ...present.map((k): Column => ({ label: k, sort: 'text', render: 'pii' })),
  ];
  h.push(dataTable('t-pii', columns, rows, { search: 'Search endpoints or fields', cls: 'pii' }), '</section>');
}

function renderAuth(h: string[], endpoints: readonly EndpointRecord[], findings: readonly Finding[]): void {
  h.push('<section id="auth"><h2>Auth posture</h2>');
  const api = endpoints.filter((e) => e.category === 'api');
  const schemes = new Map<string, { endpoints: number; hits: number }>();
  let none = 0;
  let mixed = 0;
  let authed = 0;
  for (const e of api) {
    const s = e.auth.length === 0 ? ['none'] : e.auth;
    for (const a of s) {
      const v = schemes.get(a) ?? { endpoints: 0, hits: 0 };
      v.endpoints++;
      v.hits += e.hits;
      schemes.set(a, v);
    }
    const hasNone = s.includes('none');
    if (hasNone && s.length === 1) none++;
    else if (hasNone) mixed++;
    else authed++;
  }
  h.push(
    `<p>Of ${int(api.length)} API endpoints (static assets, health checks and CORS preflights excluded): ` +
      `<b>${int(authed)}</b> always called with credentials, <b>${int(mixed)}</b> with and without, ` +
      `<b>${int(none)}</b> never with credentials. Credentials outside HTTP (mTLS, network policy) are not visible.</p>`,
  );
  h.push('<div class="grid2"><div>');
  h.push(
    hbars(
      [
        { label: 'always credentials', value: authed, color: 'var(--ok)' },
        { label: 'mixed', value: mixed, color: 'var(--med)' },
        { label: 'no credentials', value: none, color: 'var(--high)' },
      ],
      'API endpoints by authentication',
    ),
  );
  h.push('</div><div><div class="tw"><table id="t-auth" data-sortable><thead><tr><th data-sort="text">Scheme</th>');
  h.push('<th data-sort="num" class="num">Endpoints</th><th data-sort="num" class="num">Hits</th></tr></thead><tbody>');
  for (const [s, v] of [...schemes].sort((a, b) => b[1].endpoints - a[1].endpoints || (a[0] < b[0] ? -1 : 1)))
    h.push(`<tr><td>${esc(s)}</td><td class="num">${int(v.endpoints)}</td><td class="num">${int(v.hits)}</td></tr>`);
  h.push('</tbody></table></div></div></div>');
  // The combination that matters most: personal data served without credentials.
  const open = api.filter(
    (e) => (e.auth.length === 0 || e.auth.includes('none')) && e.pii.some((p) => p.location.startsWith('response.')),
  );
  const authFindings = findings.filter((f) => f.kind === 'unauthenticated_endpoint' || f.kind === 'mixed_auth');
  h.push(
    `<h3>Personal data in responses to requests without credentials (${int(open.length)} endpoints, ${int(authFindings.length)} auth findings)</h3>`,
  );
  if (open.length > 0) {
    const rows = open.map((e): Cell[] => [
      e.host,
      e.method,
      e.path,
      e.auth.join(', ') || 'none',
      [...new Set(e.pii.filter((p) => p.location.startsWith('response.')).map((p) => p.kind))].sort().join(', '),
    ]);
    h.push(
      dataTable(
        't-auth-open',
        [
          { label: 'Host', sort: 'text' },
          { label: 'Method', sort: 'text' },
          { label: 'Path', sort: 'text', render: 'mono' },
          { label: 'Auth seen', sort: 'text' },
          { label: 'PII kinds in responses', sort: 'text' },
        ],
        rows,
        { search: 'Search endpoints' },
      ),
    );
  }
  h.push('</section>');
}

function renderEndpoints(h: string[], endpoints: readonly EndpointRecord[], classes: readonly EndpointClass[]): void {
  h.push(`<section id="endpoints"><h2>Endpoints (${int(endpoints.length)})</h2>`);
  if (endpoints.length === 0) {
    h.push('<p>No endpoints.</p></section>');
    return;
  }
  const cats = [...new Set(endpoints.map((e) => e.category))].sort();
  const methods = [...new Set(endpoints.map((e) => e.method))].sort();
  const columns: Column[] = [
    { label: 'Host', sort: 'text' },
    { label: 'Method', sort: 'text' },
    { label: 'Path', sort: 'text', render: 'mono' },
    { label: 'Class', sort: 'text', render: 'cls' },
    { label: 'Category', sort: 'text' },
    { label: 'Hits', sort: 'num', num: true },
    { label: 'Status', sort: 'text' },
    { label: 'Auth', sort: 'text' },
    { label: 'PII', sort: 'text' },
    { label: 'p50 ms', sort: 'num', num: true },
    { label: 'p95 ms', sort: 'num', num: true },
    { label: 'First seen', sort: 'text' },
    { label: 'Last seen', sort: 'text' },
  ];
  const rows = endpoints.map((e, i): Cell[] => [
    e.host,
    e.method,
    e.path,
    classes[i] as EndpointClass,
    e.category,
    e.hits,
    statusText(e.statusClasses),
    e.auth.join(', '),
    [...new Set(e.pii.map((p) => p.kind))].sort().join(', '),
    fmtMs(e.latencyP50Ms),
    fmtMs(e.latencyP95Ms),
    e.firstSeen,
    e.lastSeen,
  ]);
  h.push(
    dataTable('t-endpoints', columns, rows, {
      search: 'Search endpoints (host, path, auth, PII …)',
      filters: [
        { col: 3, label: 'Class', values: ['documented', 'shadow', 'zombie'] },
        { col: 4, label: 'Category', values: cats },
        { col: 1, label: 'Method', values: methods },
      ],
    }),
    '</section>',
  );
}

function renderHosts(
  h: string[],
  hosts: readonly string[],
  endpoints: readonly EndpointRecord[],
  findings: readonly Finding[],
): void {
  h.push(`<section id="hosts"><h2>Hosts (${int(hosts.length)})</h2>`);
  const by = new Map<string, { eps: number; hits: number; pii: number; findings: number; worst: number }>();
  for (const host of hosts) by.set(host, { eps: 0, hits: 0, pii: 0, findings: 0, worst: -1 });
  for (const e of endpoints) {
    const v = by.get(e.host);
    if (v === undefined) continue;
    v.eps++;
    v.hits += e.hits;
    if (e.pii.length > 0) v.pii++;
  }
  for (const f of findings) {
    const v = by.get(f.host);
    if (v === undefined) continue;
    v.findings++;
    v.worst = Math.max(v.worst, SEVERITY_RANK[f.severity]);
  }
  const rows = hosts.map((host): Cell[] => {
    const v = by.get(host) as { eps: number; hits: number; pii: number; findings: number; worst: number };
    return [host, v.eps, v.hits, v.pii, v.findings, v.worst >= 0 ? (SEVERITIES[v.worst] as Severity) : null];
  });
  h.push(
    dataTable(
      't-hosts',
      [
        { label: 'Host', sort: 'text' },
        { label: 'Endpoints', sort: 'num', num: true },
        { label: 'Hits', sort: 'num', num: true },
        { label: 'Endpoints with PII', sort: 'num', num: true },
        { label: 'Findings', sort: 'num', num: true },
        { label: 'Worst', sort: 'sev', render: 'sev' },
      ],
      rows,
      { search: 'Search hosts' },
    ),
    '</section>',
  );
}

/** The most active actors (report/v1 `actors`) with their behaviour findings. */
function renderActors(h: string[], actors: readonly ActorRecord[], findings: readonly Finding[]): void {
  h.push(`<section id="actors"><h2>Actors (top ${int(actors.length)} by requests)</h2>`);
  const flagged = new Map<string, number>();
  for (const f of findings) if (f.actor !== undefined) flagged.set(f.actor.id, (flagged.get(f.actor.id) ?? 0) + 1);
  const rows = actors.map((a): Cell[] => [
    a.ip,
    a.principal ?? '',
    a.principalKind ?? '',
    a.requests,
    a.endpoints,
    a.errors['4xx'],
    a.errors['5xx'],
    flagged.get(a.id) ?? 0,
  ]);
  h.push(
    dataTable(
      't-actors',
      [
        { label: 'IP', sort: 'text' },
        { label: 'Principal (masked)', sort: 'text' },
        { label: 'Kind', sort: 'text' },
        { label: 'Requests', sort: 'num', num: true },
        { label: 'Endpoints', sort: 'num', num: true },
        { label: '4xx', sort: 'num', num: true },
        { label: '5xx', sort: 'num', num: true },
        { label: 'Behaviour findings', sort: 'num', num: true },
      ],
      rows,
      { search: 'Search actors' },
    ),
    '</section>',
  );
}

function renderRemediation(h: string[], findings: readonly Finding[]): void {
  h.push('<section id="remediation"><h2>Remediation by finding kind</h2>');
  const count = new Map<string, number>();
  for (const f of findings) count.set(f.kind, (count.get(f.kind) ?? 0) + 1);
  // Kinds present first (most findings first), then the rest of the catalogue for reference.
  const known = Object.keys(FINDING_GUIDE);
  const extra = [...count.keys()].filter((k) => !known.includes(k));
  const order = [...known, ...extra].sort((a, b) => (count.get(b) ?? 0) - (count.get(a) ?? 0) || (a < b ? -1 : 1));
  for (const kind of order) {
    const g = guideFor(kind);
    const n = count.get(kind) ?? 0;
    h.push(`<div class="guide" id="kind-${esc(kind)}"><h3>${esc(g?.title ?? kind)} <code>${esc(kind)}</code> · `);
    h.push(
      `${n > 0 ? `<b>${int(n)} finding${n === 1 ? '' : 's'}</b>` : '<span class="muted">none in this report</span>'}</h3>`,
    );
    if (g === null) {
      h.push('<p class="muted">No guidance for this kind in this version of apitap.</p></div>');
      continue;
    }
    h.push(
      `<dl class="kv"><dt>OWASP API 2023</dt><dd><b>${g.owasp}</b> ${esc(OWASP_API_2023[g.owasp])}` +
        (g.related.length > 0
          ? `; related: ${g.related.map((r) => `${r} ${esc(OWASP_API_2023[r])}`).join(', ')}`
          : '') +
        `</dd><dt>Meaning</dt><dd>${esc(g.summary)}</dd></dl><ol>`,
    );
    for (const step of g.remediation) h.push(`<li>${esc(step)}</li>`);
    h.push('</ol></div>');
  }
  h.push('</section>');
}

function renderCapture(h: string[], report: Report): void {
  const c = report.capture;
  h.push('<section id="capture"><h2>Capture</h2><dl class="kv">');
  const kv = (k: string, v: string): string => `<dt>${esc(k)}</dt><dd>${v}</dd>`;
  h.push(
    kv('files', int(c.files)),
    kv('packets', int(c.packets)),
    kv('bytes', `${int(c.bytes)} (${bytes(c.bytes)})`),
    kv('duration (packet time)', `${c.seconds} s`),
    kv('TCP flows', int(c.flows)),
    kv('requests / responses', `${int(c.requests)} / ${int(c.responses)}`),
    kv('paired exchanges', int(c.exchanges)),
  );
  if (report.traffic !== undefined && report.traffic.folded > 0)
    h.push(kv('exchanges folded into the first traffic bucket', int(report.traffic.folded)));
  h.push('</dl>');
  const an = Object.entries(c.anomalies).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  if (an.length === 0) h.push('<p>No capture anomalies or drops: the evidence is complete.</p>');
  else {
    h.push(
      '<h3>Anomalies and drops</h3><p class="muted">Findings on traffic affected by these carry lower confidence.</p>',
    );
    h.push('<div class="tw"><table id="t-anomalies" data-sortable><thead><tr><th data-sort="text">Name</th>');
    h.push('<th data-sort="num" class="num">Count</th></tr></thead><tbody>');
    for (const [k, v] of an) h.push(`<tr><td class="mono">${esc(k)}</td><td class="num">${int(v)}</td></tr>`);
    h.push('</tbody></table></div>');
  }
  h.push('</section>');
}
