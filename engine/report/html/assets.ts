// The report's inline stylesheet and script. The page loads nothing else: its Content-Security-Policy
// (render.ts) forbids every fetch, so a report opened from a ticket or a mail attachment stays offline.

/** Readable at 1280 px and at phone width (375 px): the page never scrolls sideways, wide tables scroll
 * inside their own container (.tw). System fonts only. */
export const CSS = `
:root{--bg:#fff;--fg:#1d232a;--muted:#5b6573;--line:#d9dee5;--head:#f3f5f8;--accent:#1f5fbf;
--crit:#8f1d21;--high:#d9480f;--med:#e6a700;--low:#3b7dd8;--info:#7b8794;--ok:#2f9e44;--err:#e8590c;
--doc:#2f9e44;--shadow:#d9480f;--zombie:#862e9c;--orphan:#7b8794}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1240px;margin:0 auto;padding:12px 16px 48px}
h1{font-size:1.5em;margin:.4em 0 .2em}h2{font-size:1.2em;margin:1.6em 0 .5em;border-bottom:1px solid var(--line);padding-bottom:.2em}
h3{font-size:1em;margin:1em 0 .4em}
h1,h2,h3,p,li,dd,summary{overflow-wrap:anywhere}
a{color:var(--accent)}
.muted{color:var(--muted)}
nav.toc{display:flex;flex-wrap:wrap;gap:4px 14px;margin:.4em 0 1em;font-size:.95em}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(140px,1fr));gap:8px;margin:.6em 0}
.card{border:1px solid var(--line);border-radius:6px;padding:8px 10px;background:var(--head)}
.card b{display:block;font-size:1.45em;line-height:1.2}
.card span{color:var(--muted);font-size:.9em}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:12px 24px}
.chart{width:100%;height:auto;max-width:100%;display:block}
.chart.traffic{max-width:900px}
.chart .lbl,.chart .val{font-size:12px;fill:var(--fg)}
.chart .axis{stroke:var(--muted);stroke-width:1}
.chart .ok{fill:var(--ok)}.chart .err{fill:var(--err)}
.tw{overflow-x:auto;max-width:100%;border:1px solid var(--line);border-radius:6px;margin:.4em 0 .8em}
.tw.tall{max-height:70vh;overflow-y:auto}
table{border-collapse:collapse;width:100%;font-size:.93em}
th,td{padding:4px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top;white-space:nowrap}
thead th{background:var(--head);position:sticky;top:0;z-index:1}
th[data-sort]{cursor:pointer;user-select:none}
th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}
td.wrap{white-space:normal;max-width:48em;overflow-wrap:anywhere}td.wrap .ev{min-width:20em}
td.wrap-s{white-space:normal;min-width:12em}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.95em}
.sev{display:inline-block;padding:0 6px;border-radius:3px;color:#fff;font-size:.85em;font-weight:600}
.sev-critical{background:var(--crit)}.sev-high{background:var(--high)}.sev-medium{background:var(--med);color:#1d232a}
.sev-low{background:var(--low)}.sev-info{background:var(--info)}
.cls{font-weight:600}.cls-documented{color:var(--doc)}.cls-shadow{color:var(--shadow)}.cls-zombie{color:var(--zombie)}
.pii td.k{text-align:center}
.pii .q{background:#fff3bf}.pii .r{background:#ffd8a8}.pii .qr{background:#ffa8a8}
.legend span{display:inline-block;padding:0 6px;margin-right:8px;border:1px solid var(--line)}
.controls{display:flex;flex-wrap:wrap;gap:6px 10px;align-items:center;margin:.4em 0}
.controls input,.controls select{font:inherit;padding:3px 6px;max-width:100%;border:1px solid var(--line);border-radius:4px}
.controls input[type=search]{flex:1 1 14em;min-width:0}
details>summary{cursor:pointer;color:var(--accent)}
details pre{white-space:pre-wrap;overflow-wrap:anywhere;max-width:48em;margin:.3em 0;font-size:.9em}
.guide{border:1px solid var(--line);border-radius:6px;padding:4px 12px;margin:.6em 0}
.guide ol{padding-left:1.3em;margin:.3em 0}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:.4em 0}
dl.kv dt{color:var(--muted)}dl.kv dd{margin:0}
@media (max-width:600px){main{padding:8px 10px 32px}body{font-size:13px}.card b{font-size:1.2em}td.wrap .ev{min-width:15em}}
`;

/**
 * Sorting (click a header marked data-sort="num|text"), filtering (selects with data-attr match the
 * row attribute data-<attr>) and search (substring of the row's text) for every table whose id a
 * control names in data-table. Plain ES2017, no library; sorting is stable, and a filtered table keeps
 * its order. Row text is lower-cased once, on the first search.
 */
export const SCRIPT = `
(function () {
  'use strict';
  function rows(t) { return Array.prototype.slice.call(t.tBodies[0].rows); }
  function keyOf(cell, type) {
    var v = cell ? cell.getAttribute('data-v') : null;
    if (v === null) v = cell ? cell.textContent : '';
    if (type === 'num') { var n = parseFloat(v); return isNaN(n) ? -Infinity : n; }
    return v.toLowerCase();
  }
  function sortBy(t, th, i) {
    var dir = th.getAttribute('aria-sort') === 'descending' ? 1 : th.getAttribute('aria-sort') === 'ascending' ? -1 : (th.dataset.sort === 'num' ? -1 : 1);
    Array.prototype.forEach.call(th.parentNode.cells, function (c) { c.removeAttribute('aria-sort'); });
    th.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
    var keyed = rows(t).map(function (r, j) { return [keyOf(r.cells[i], th.dataset.sort), j, r]; });
    keyed.sort(function (a, b) { return a[0] < b[0] ? -dir : a[0] > b[0] ? dir : a[1] - b[1]; });
    var frag = document.createDocumentFragment();
    keyed.forEach(function (k) { frag.appendChild(k[2]); });
    t.tBodies[0].appendChild(frag);
  }
  Array.prototype.forEach.call(document.querySelectorAll('table[data-sortable]'), function (t) {
    Array.prototype.forEach.call(t.tHead.rows[0].cells, function (th, i) {
      if (!th.dataset.sort) return;
      th.tabIndex = 0;
      th.addEventListener('click', function () { sortBy(t, th, i); });
      th.addEventListener('keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sortBy(t, th, i); } });
    });
  });
  function apply(id) {
    var t = document.getElementById(id);
    if (!t) return;
    var controls = document.querySelectorAll('[data-table="' + id + '"]');
    var q = '', sels = [];
    Array.prototype.forEach.call(controls, function (c) {
      if (c.tagName === 'INPUT') q = c.value.trim().toLowerCase();
      else if (c.tagName === 'SELECT' && c.value !== '') sels.push(c);
    });
    var shown = 0, all = rows(t);
    all.forEach(function (r) {
      var ok = true;
      for (var s = 0; s < sels.length && ok; s++) ok = r.getAttribute('data-' + sels[s].dataset.attr) === sels[s].value;
      if (ok && q) {
        if (r._text === undefined) r._text = r.textContent.toLowerCase();
        ok = r._text.indexOf(q) >= 0;
      }
      r.hidden = !ok;
      if (ok) shown++;
    });
    var out = document.querySelector('[data-count="' + id + '"]');
    if (out) out.textContent = shown === all.length ? all.length + ' rows' : shown + ' of ' + all.length + ' rows';
  }
  var timers = {};
  Array.prototype.forEach.call(document.querySelectorAll('[data-table]'), function (c) {
    var id = c.getAttribute('data-table');
    c.addEventListener(c.tagName === 'INPUT' ? 'input' : 'change', function () {
      clearTimeout(timers[id]);
      timers[id] = setTimeout(function () { apply(id); }, c.tagName === 'INPUT' ? 120 : 0);
    });
  });
  document.documentElement.setAttribute('data-ready', '1');
})();
`;
