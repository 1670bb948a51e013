// Inline SVG charts: no script, no external resource; they scale with their container (viewBox).
import type { TrafficSeries } from '../traffic.js';
import { esc, int } from './escape.js';

export interface Bar {
  label: string;
  value: number;
  /** CSS colour (a custom property reference such as var(--crit) or a hex value). */
  color: string;
}

/** Horizontal bars, one per item, with label and value. */
export function hbars(items: readonly Bar[], title: string): string {
  const rowH = 22;
  const w = 420;
  const labelW = 130;
  const valueW = 60;
  const max = Math.max(1, ...items.map((i) => i.value));
  const h = Math.max(rowH, items.length * rowH);
  const out: string[] = [
    `<svg class="chart" viewBox="0 0 ${w} ${h}" role="img" aria-label="${esc(title)}" xmlns="http://www.w3.org/2000/svg"><title>${esc(title)}</title>`,
  ];
  items.forEach((it, i) => {
    const y = i * rowH;
    const bw = Math.round(((w - labelW - valueW) * it.value) / max);
    out.push(
      `<text x="0" y="${y + 15}" class="lbl">${esc(it.label)}</text>` +
        `<rect x="${labelW}" y="${y + 4}" width="${Math.max(bw, it.value > 0 ? 2 : 0)}" height="${rowH - 8}" rx="2" style="fill:${it.color}"></rect>` +
        `<text x="${labelW + bw + 6}" y="${y + 15}" class="val">${int(it.value)}</text>`,
    );
  });
  out.push('</svg>');
  return out.join('');
}

/** Exchanges per packet-time bucket, errors stacked on top of successes. */
export function trafficChart(t: TrafficSeries): string {
  const w = 720;
  const h = 200;
  const padL = 44;
  const padB = 34;
  const padT = 10;
  const buckets = t.buckets;
  if (buckets.length === 0) return '<p class="muted">No exchanges with a packet time.</p>';
  const first = Date.parse(buckets[0]!.start);
  const last = Date.parse(buckets[buckets.length - 1]!.start);
  const step = t.bucketSeconds * 1000;
  const slots = Math.round((last - first) / step) + 1;
  const max = Math.max(1, ...buckets.map((b) => b.exchanges));
  const plotW = w - padL - 8;
  const plotH = h - padB - padT;
  const bw = plotW / slots;
  const y = (v: number): number => padT + plotH - (plotH * v) / max;
  const out: string[] = [
    `<svg class="chart traffic" viewBox="0 0 ${w} ${h}" role="img" aria-label="Exchanges per ${t.bucketSeconds} s" xmlns="http://www.w3.org/2000/svg">`,
    `<title>Exchanges per ${t.bucketSeconds} s of packet time</title>`,
    `<line x1="${padL}" y1="${padT + plotH}" x2="${w - 8}" y2="${padT + plotH}" class="axis"></line>`,
    `<line x1="${padL}" y1="${padT}" x2="${padL}" y2="${padT + plotH}" class="axis"></line>`,
    `<text x="${padL - 6}" y="${padT + 10}" class="val" text-anchor="end">${int(max)}</text>`,
    `<text x="${padL - 6}" y="${padT + plotH}" class="val" text-anchor="end">0</text>`,
  ];
  for (const b of buckets) {
    const i = Math.round((Date.parse(b.start) - first) / step);
    const x = padL + i * bw + (bw > 3 ? bw * 0.1 : 0);
    const bwi = Math.max(bw > 3 ? bw * 0.8 : bw, 0.5);
    const errors = b.clientErrors + b.serverErrors + b.unanswered;
    const ok = b.exchanges - errors;
    const tip = `${b.start}: ${b.exchanges} exchanges, ${b.clientErrors} 4xx, ${b.serverErrors} 5xx, ${b.unanswered} unanswered`;
    out.push(
      `<g><title>${esc(tip)}</title>` +
        `<rect x="${x.toFixed(2)}" y="${y(ok).toFixed(2)}" width="${bwi.toFixed(2)}" height="${(padT + plotH - y(ok)).toFixed(2)}" class="ok"></rect>` +
        (errors > 0
          ? `<rect x="${x.toFixed(2)}" y="${y(b.exchanges).toFixed(2)}" width="${bwi.toFixed(2)}" height="${(y(ok) - y(b.exchanges)).toFixed(2)}" class="err"></rect>`
          : '') +
        '</g>',
    );
  }
  const lastEnd = new Date(last + step).toISOString();
  out.push(
    `<text x="${padL}" y="${h - 8}" class="lbl">${esc(buckets[0]!.start.slice(0, 19))}Z</text>`,
    `<text x="${w - 8}" y="${h - 8}" class="lbl" text-anchor="end">${esc(lastEnd.slice(0, 19))}Z</text>`,
    '</svg>',
  );
  return out.join('');
}
