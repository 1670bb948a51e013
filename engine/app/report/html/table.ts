// Large tables as data: the rows travel as JSON inside the page and the inline script renders one page
// of them at a time (assets.ts), so 10,000 endpoints cost a JSON.parse and a few hundred DOM rows
// instead of 130,000 laid-out cells. The script builds cells with textContent: values are never parsed
// as markup. The JSON is made safe for a <script> element by escaping every "<" (no "</script>" or
// "<!--" can appear) and the two line separators JavaScript treats as line ends.
import { esc } from './escape.js';

/** How the script renders a column's cells (default: plain text). */
export type CellRenderer = 'text' | 'mono' | 'sev' | 'kind' | 'ev' | 'pii' | 'cls';

export interface Column {
  label: string;
  /** Sorting: by number, by text, by severity rank, or not sortable. */
  sort: 'num' | 'text' | 'sev' | null;
  render?: CellRenderer;
  /** Right-aligned number column. */
  num?: boolean;
}

/**
 * A cell: text or number, null for empty; 'ev' cells are [evidence, details, meta], 'pii' cells
 * [mark, tooltip] or null.
 */
export type Cell = string | number | null | readonly string[];

export interface Filter {
  /** Column whose value must equal the selected option. */
  col: number;
  label: string;
  values: readonly string[];
}

export function scriptJson(v: unknown): string {
  return JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export function dataTable(
  id: string,
  columns: readonly Column[],
  rows: readonly (readonly Cell[])[],
  opts: { search: string; filters?: readonly Filter[]; cls?: string },
): string {
  const out: string[] = ['<div class="controls">'];
  out.push(
    `<input type="search" data-table="${id}" placeholder="${esc(opts.search)}" aria-label="${esc(opts.search)}">`,
  );
  for (const f of opts.filters ?? []) {
    out.push(`<select data-table="${id}" data-col="${f.col}" aria-label="${esc(f.label)}">`);
    out.push(`<option value="">${esc(f.label)}: all</option>`);
    for (const v of f.values) out.push(`<option value="${esc(v)}">${esc(v)}</option>`);
    out.push('</select>');
  }
  out.push(`<span class="muted" data-count="${id}">${rows.length} rows</span></div>`);
  out.push(
    `<div class="tw tall"><table id="${id}"${opts.cls !== undefined ? ` class="${opts.cls}"` : ''} data-rows="${id}-data" data-total="${rows.length}" data-matched="${rows.length}"><thead><tr>`,
  );
  for (const c of columns)
    out.push(
      `<th${c.sort !== null ? ` data-sort="${c.sort}"` : ''}${c.num === true ? ' class="num"' : ''}>${esc(c.label)}</th>`,
    );
  out.push('</tr></thead><tbody></tbody></table></div>');
  out.push(
    `<p class="more"><button type="button" data-more="${id}" hidden>Show more</button></p>`,
    `<noscript><p>This table needs JavaScript (inline, no network) to show its ${rows.length} rows.</p></noscript>`,
  );
  const cols = columns.map((c) => ({ s: c.sort, r: c.render ?? 'text', n: c.num === true }));
  out.push(`<script type="application/json" id="${id}-data">${scriptJson({ cols, rows })}</script>`);
  return out.join('');
}
