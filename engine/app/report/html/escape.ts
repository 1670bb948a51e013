// HTML escaping for text and attribute values. Every string that comes from traffic, a spec or the
// store (hosts, paths, field names, evidence, details) passes through `esc` before it reaches markup.
const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ENTITIES[c] as string);
}

/** Integer with thin grouping (1 234 567): locale-independent, so the same report gives the same bytes. */
export function int(n: number): string {
  const s = String(Math.round(n));
  return s.replace(/\B(?=(\d{3})+(?!\d))/g, '\u202f');
}

/** Bytes as B / kB / MB / GB (decimal units). */
export function bytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = -1;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[u] as string}`;
}
