// Views generated from the one catalogue (engine/contracts/catalogue.ts): the Prometheus text that
// /metrics serves and the README's counter reference. Nothing here names a counter by hand.
import { COUNTERS, GAUGES } from '../../contracts/catalogue.js';
import type { CounterInfo, CounterName } from '../../contracts/catalogue.js';
import type { Counters } from '../../contracts/counters.js';

const entries = (): [CounterName, CounterInfo][] =>
  (Object.entries(COUNTERS) as [CounterName, CounterInfo][]).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

/**
 * Prometheus text exposition format 0.0.4: every catalogue counter (zeros included, so dashboards
 * see a series before its first event), `apitap_` prefixed, with HELP and TYPE lines.
 */
export function metricsText(counters: Counters): string {
  const out: string[] = [];
  for (const [name, info] of entries()) {
    const metric = `apitap_${name}`;
    out.push(
      `# HELP ${metric} ${info.meaning.replace(/\\/g, '\\\\').replace(/\n/g, ' ')} (${info.kind}, ${info.unit})`,
    );
    out.push(`# TYPE ${metric} ${GAUGES.has(name) ? 'gauge' : 'counter'}`);
    out.push(`${metric} ${counters.get(name)}`);
  }
  return out.join('\n') + '\n';
}

export const README_BEGIN = '<!-- counters:begin (generated from engine/contracts/catalogue.ts: npm run docs) -->';
export const README_END = '<!-- counters:end -->';

/** The README's counter reference: one table per layer, in data-flow order. */
export function catalogueMarkdown(): string {
  const layers = new Map<string, [CounterName, CounterInfo][]>();
  for (const [name, info] of Object.entries(COUNTERS) as [CounterName, CounterInfo][]) {
    const l = layers.get(info.layer) ?? [];
    l.push([name, info]);
    layers.set(info.layer, l);
  }
  const out: string[] = [README_BEGIN];
  for (const [layer, list] of layers) {
    out.push('', `**${layer}**`, '', '| name | kind | unit | meaning |', '|---|---|---|---|');
    for (const [name, info] of list) {
      out.push(`| \`${name}\` | ${info.kind} | ${info.unit} | ${info.meaning.replace(/\|/g, '\\|')} |`);
    }
  }
  out.push('', README_END);
  return out.join('\n');
}
