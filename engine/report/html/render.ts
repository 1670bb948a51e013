// report/v1 → one self-contained HTML page (`apitap replay --html`, `apitap report --html`).
//
// A pure function of the report: the same report gives the same bytes (no wall clock, no locale).
// The page requests nothing: inline CSS, inline SVG, one inline script, and a Content-Security-Policy
// that forbids every fetch, so it can be attached to a ticket and opened offline. Every string from
// traffic, specs or the store is escaped (escape.ts); evidence is already redacted by the analyzers.
// Cost is linear in endpoints + findings (one string per row, joined once): 10,000 endpoints render in
// well under a second in Node and open in Chromium in the time test/integration/html-report.test.ts prints.
import {
  PII_KINDS,
  SEVERITIES,
  SEVERITY_RANK,
  type EndpointRecord,
  type Finding,
  type Severity,
} from '../../contracts/inventory.js';
import type { Report } from '../../pipeline/report.js';
import { FINDING_GUIDE, OWASP_API_2023, guideFor } from '../guidance.js';
import { hbars, trafficChart, type Bar } from './charts.js';
import { CSS, SCRIPT } from './assets.js';
import { bytes, esc, int } from './escape.js';

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

function sevBadge(s: Severity): string {
  return `<span class="sev sev-${s}">${s}</span>`;
}

function controls(table: string, placeholder: string, selects: { attr: string; label: string; values: string[] }[]) {
  const out = [`<div class="controls">`];
  out.push(
    `<input type="search" data-table="${table}" placeholder="${esc(placeholder)}" aria-label="${esc(placeholder)}">`,
  );
  for (const s of selects) {
    out.push(`<select data-table="${table}" data-attr="${s.attr}" aria-label="${esc(s.label)}">`);
    out.push(`<option value="">${esc(s.label)}: all</option>`);
    for (const v of s.values) out.push(`<option value="${esc(v)}">${esc(v)}</option>`);
    out.push('</select>');
  }
  out.push(`<span class="muted" data-count="${table}"></span></div>`);
  return out.join('');
}

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
  h.push(
    controls('t-findings', 'Search findings (path, evidence, field …)', [
      { attr: 'severity', label: 'Severity', values: [...SEVERITIES].reverse() },
      { attr: 'kind', label: 'Kind', values: kinds },
    ]),
  );
  h.push(
    '<div class="tw tall"><table id="t-findings" data-sortable><thead><tr>' +
      '<th data-sort="num">Severity</th><th data-sort="text">Kind</th><th data-sort="text">Method</th>' +
      '<th data-sort="text">Path</th><th>Evidence</th><th data-sort="text">OWASP API 2023</th>' +
      '<th data-sort="text">Host</th><th data-sort="num" class="num">Conf.</th><th data-sort="text">Last seen</th></tr></thead><tbody>',
  );
  for (const f of sorted) {
    const g = guideFor(f.kind);
    const owasp = g === null ? '' : `${g.owasp} ${OWASP_API_2023[g.owasp]}`;
    const details = JSON.stringify(f.details, null, 1);
    h.push(
      `<tr data-severity="${f.severity}" data-kind="${esc(f.kind)}">` +
        `<td data-v="${SEVERITY_RANK[f.severity]}">${sevBadge(f.severity)}</td>` +
        `<td><a href="#kind-${esc(f.kind)}">${esc(f.kind)}</a></td><td>${esc(f.method)}</td>` +
        `<td class="mono">${esc(f.path)}</td>` +
        `<td class="wrap"><div class="ev">${esc(f.evidence)}</div><details><summary>details</summary><pre>${esc(details)}</pre>` +
        `<div class="muted">id ${esc(f.id)}${f.firstSeen !== null ? ` · first seen ${esc(f.firstSeen)}` : ''}</div></details></td>` +
        `<td class="wrap-s">${esc(owasp)}</td><td>${esc(f.host)}</td>` +
        `<td class="num">${f.confidence.toFixed(2)}</td><td>${esc(f.lastSeen ?? '')}</td></tr>`,
    );
  }
  h.push('</tbody></table></div></section>');
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
  h.push(
    '<p class="legend">Cells: <span class="q">Q</span>request only <span class="r">R</span>response only ' +
      '<span class="qr">QR</span>both. Hover a cell for the fields.</p>',
  );
  h.push(controls('t-pii', 'Search endpoints or fields', []));
  const head =
    '<div class="tw tall"><table id="t-pii" class="pii" data-sortable><thead><tr><th data-sort="text">Host</th>' +
    '<th data-sort="text">Method</th><th data-sort="text">Path</th><th data-sort="text">Auth</th>' +
    present.map((k) => `<th data-sort="text">${esc(k)}</th>`).join('') +
    '</tr></thead><tbody>';
  const body: string[] = [];
  for (const e of withPii) {
    const cells: string[] = [];
    for (const k of present) {
      const hits = e.pii.filter((p) => p.kind === k);
      if (hits.length === 0) {
        cells.push('<td class="k"></td>');
        continue;
      }
      const q = hits.some((p) => p.location.startsWith('request.'));
      const r = hits.some((p) => p.location.startsWith('response.'));
      if (q) reqBy.set(k, (reqBy.get(k) ?? 0) + 1);
      if (r) respBy.set(k, (respBy.get(k) ?? 0) + 1);
      const cls = q && r ? 'qr' : q ? 'q' : 'r';
      const tip = hits.map((p) => `${p.location} ${p.field}`).join('\n');
      cells.push(`<td class="k ${cls}" title="${esc(tip)}">${q && r ? 'QR' : q ? 'Q' : 'R'}</td>`);
    }
    const fields = e.pii.map((p) => p.field).join(' ');
    body.push(
      `<tr data-fields="${esc(fields)}"><td>${esc(e.host)}</td><td>${esc(e.method)}</td><td class="mono">${esc(e.path)}</td>` +
        `<td>${esc(e.auth.join(', ') || 'none')}</td>${cells.join('')}</tr>`,
    );
  }
  h.push('<h3>By kind</h3><div class="tw"><table id="t-pii-kinds" data-sortable><thead><tr>');
  h.push(
    '<th data-sort="text">Kind</th><th data-sort="num" class="num">Endpoints (request)</th><th data-sort="num" class="num">Endpoints (response)</th></tr></thead><tbody>',
  );
  for (const k of present)
    h.push(
      `<tr><td>${esc(k)}</td><td class="num">${reqBy.get(k) ?? 0}</td><td class="num">${respBy.get(k) ?? 0}</td></tr>`,
    );
  h.push('</tbody></table></div><h3>Endpoints × kinds</h3>');
  h.push(head, body.join(''), '</tbody></table></div></section>');
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
    h.push('<div class="tw tall"><table id="t-auth-open" data-sortable><thead><tr><th data-sort="text">Host</th>');
    h.push('<th data-sort="text">Method</th><th data-sort="text">Path</th><th data-sort="text">Auth seen</th>');
    h.push('<th data-sort="text">PII kinds in responses</th></tr></thead><tbody>');
    for (const e of open) {
      const kinds = [...new Set(e.pii.filter((p) => p.location.startsWith('response.')).map((p) => p.kind))].sort();
      h.push(
        `<tr><td>${esc(e.host)}</td><td>${esc(e.method)}</td><td class="mono">${esc(e.path)}</td>` +
          `<td>${esc(e.auth.join(', ') || 'none')}</td><td>${esc(kinds.join(', '))}</td></tr>`,
      );
    }
    h.push('</tbody></table></div>');
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
  h.push(
    controls('t-endpoints', 'Search endpoints (host, path, auth, PII …)', [
      { attr: 'class', label: 'Class', values: ['documented', 'shadow', 'zombie'] },
      { attr: 'category', label: 'Category', values: cats },
      { attr: 'method', label: 'Method', values: methods },
    ]),
  );
  h.push(
    '<div class="tw tall"><table id="t-endpoints" data-sortable><thead><tr>' +
      '<th data-sort="text">Host</th><th data-sort="text">Method</th><th data-sort="text">Path</th>' +
      '<th data-sort="text">Class</th><th data-sort="text">Category</th><th data-sort="num" class="num">Hits</th>' +
      '<th data-sort="text">Status</th><th data-sort="text">Auth</th><th data-sort="text">PII</th>' +
      '<th data-sort="num" class="num">p50 ms</th><th data-sort="num" class="num">p95 ms</th>' +
      '<th data-sort="text">First seen</th><th data-sort="text">Last seen</th></tr></thead><tbody>',
  );
  const rows: string[] = new Array<string>(endpoints.length);
  endpoints.forEach((e, i) => {
    const cls = classes[i] as EndpointClass;
    const pii = [...new Set(e.pii.map((p) => p.kind))].sort().join(', ');
    rows[i] =
      `<tr data-class="${cls}" data-category="${e.category}" data-method="${esc(e.method)}">` +
      `<td>${esc(e.host)}</td><td>${esc(e.method)}</td><td class="mono">${esc(e.path)}</td>` +
      `<td class="cls cls-${cls}">${cls}</td><td>${e.category}</td><td class="num">${e.hits}</td>` +
      `<td>${esc(statusText(e.statusClasses))}</td><td>${esc(e.auth.join(', '))}</td><td>${esc(pii)}</td>` +
      `<td class="num">${fmtMs(e.latencyP50Ms)}</td><td class="num">${fmtMs(e.latencyP95Ms)}</td>` +
      `<td>${esc(e.firstSeen)}</td><td>${esc(e.lastSeen)}</td></tr>`;
  });
  h.push(rows.join(''), '</tbody></table></div></section>');
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
  h.push(controls('t-hosts', 'Search hosts', []));
  h.push(
    '<div class="tw tall"><table id="t-hosts" data-sortable><thead><tr><th data-sort="text">Host</th>' +
      '<th data-sort="num" class="num">Endpoints</th><th data-sort="num" class="num">Hits</th>' +
      '<th data-sort="num" class="num">Endpoints with PII</th><th data-sort="num" class="num">Findings</th>' +
      '<th data-sort="num">Worst</th></tr></thead><tbody>',
  );
  for (const host of hosts) {
    const v = by.get(host) as { eps: number; hits: number; pii: number; findings: number; worst: number };
    const worst = v.worst >= 0 ? (SEVERITIES[v.worst] as Severity) : null;
    h.push(
      `<tr><td>${esc(host)}</td><td class="num">${int(v.eps)}</td><td class="num">${int(v.hits)}</td>` +
        `<td class="num">${int(v.pii)}</td><td class="num">${int(v.findings)}</td>` +
        `<td data-v="${v.worst}">${worst === null ? '' : sevBadge(worst)}</td></tr>`,
    );
  }
  h.push('</tbody></table></div></section>');
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
