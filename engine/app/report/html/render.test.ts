import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FINDING_KINDS } from '../../../contracts/inventory.js';
import { FINDING_GUIDE, OWASP_API_2023 } from '../guidance.js';
import { syntheticReport } from '../../../../test/support/synthetic-report.js';
import { REPORT_CSP, renderHtmlReport } from './render.js';
import { scriptJson } from './table.js';

test('every finding kind has an OWASP API 2023 category and concrete remediation', () => {
  for (const k of FINDING_KINDS) {
    const g = FINDING_GUIDE[k];
    assert.ok(g !== undefined, k);
    assert.ok(Object.hasOwn(OWASP_API_2023, g.owasp), `${k}: ${g.owasp}`);
    for (const r of g.related) assert.ok(Object.hasOwn(OWASP_API_2023, r), `${k}: ${r}`);
    assert.ok(g.remediation.length >= 2, k);
  }
});

test('the page is deterministic, self-contained and loads nothing', () => {
  const rep = syntheticReport(300);
  const a = renderHtmlReport(rep);
  assert.equal(renderHtmlReport(rep), a);
  assert.ok(a.includes(`<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">`));
  // No attribute that loads anything: every src/href/action/srcset/poster is absent or an in-page anchor.
  const markup = a.replace(/<script[^>]*>[^]*?<\/script>/g, '');
  const loads = [
    ...markup.matchAll(/\s(src|href|action|srcset|poster|data|formaction)\s*=\s*["']?([^"'\s>]*)/gi),
  ].filter((m) => !(m[1]?.toLowerCase() === 'href' && m[2]?.startsWith('#')));
  assert.deepEqual(
    loads.map((m) => m[0]),
    [],
  );
  assert.doesNotMatch(a, /@import|url\(/i);
});

test('values from traffic are escaped in markup and cannot end a data block', () => {
  const rep = syntheticReport(10);
  const evil = '</script><script>alert(1)</script><!--';
  rep.findings![0]!.evidence = evil;
  rep.endpoints![0]!.host = `"><img src=x onerror=alert(1)>`;
  rep.capture.anomalies['<b>x</b>'] = 1;
  const html = renderHtmlReport(rep);
  assert.ok(!html.includes(evil));
  assert.ok(!html.includes('<img'));
  assert.ok(html.includes('&lt;b&gt;x&lt;/b&gt;'));
  // Each JSON data block parses back to what went in.
  const blocks = [...html.matchAll(/<script type="application\/json" id="([^"]+)">([^]*?)<\/script>/g)];
  assert.ok(blocks.length >= 3);
  const findings = blocks.find((b) => b[1] === 't-findings-data');
  const data = JSON.parse(findings?.[2] ?? '') as { rows: unknown[][] };
  assert.ok(data.rows.some((r) => (r[4] as string[])[0] === evil));
  assert.equal(JSON.parse(scriptJson('a\u2028b</script>')), 'a\u2028b</script>');
});

test('an empty report renders', () => {
  const html = renderHtmlReport({
    schema: 'report/v1',
    capture: {
      files: 0,
      packets: 0,
      bytes: 0,
      flows: 0,
      requests: 0,
      responses: 0,
      exchanges: 0,
      anomalies: {},
      notAnalysed: {},
      seconds: 0,
    },
  });
  assert.match(html, /No findings\./);
  assert.match(html, /No endpoints\./);
});

test('the most active actors are listed with their behaviour findings; no section without actors', () => {
  const rep = syntheticReport(20);
  assert.ok(!renderHtmlReport(rep).includes('id="actors"'));
  const actor = { id: 'a1', ip: '192.0.2.7', principal: 'al****', principalKind: 'jwt_sub' };
  const html = renderHtmlReport({
    ...rep,
    findings: [...(rep.findings ?? []), { ...(rep.findings ?? [])[0]!, id: 'b1', kind: 'enumeration', actor }],
    actors: [
      {
        ...actor,
        requests: 70,
        endpoints: 1,
        errors: { '4xx': 63, '5xx': 0 },
        firstSeen: '2026-01-01T00:00:00.000000Z',
        lastSeen: '2026-01-01T00:01:00.000000Z',
      },
    ],
  });
  assert.ok(html.includes('<section id="actors">') && html.includes('href="#actors"'));
  assert.ok(html.includes('al****') && html.includes('192.0.2.7'));
});
