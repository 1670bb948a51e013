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
.more{margin:0 0 .8em}.more button{font:inherit;padding:3px 12px}
details>summary{cursor:pointer;color:var(--accent)}
details pre{white-space:pre-wrap;overflow-wrap:anywhere;max-width:48em;margin:.3em 0;font-size:.9em}
.guide{border:1px solid var(--line);border-radius:6px;padding:4px 12px;margin:.6em 0}
.guide ol{padding-left:1.3em;margin:.3em 0}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:.4em 0}
dl.kv dt{color:var(--muted)}dl.kv dd{margin:0}
@media (max-width:600px){main{padding:8px 10px 32px}body{font-size:13px}.card b{font-size:1.2em}td.wrap .ev{min-width:15em}}
`;

/**
 * The tables' behaviour. Small tables (server-rendered rows, table[data-sortable]) sort in place.
 * Data tables (table[data-rows], table.ts) render from their JSON one page at a time, from the moment
 * they come within 600 px of the viewport (or a control of theirs is used); sorting
 * (headers with data-sort="num|text|sev"), filtering (selects with data-col: the cell equals the
 * option) and search (substring of the row's text, lower-cased once on the first search) run over all
 * rows, and "Show more" adds the next page. Plain ES2017, no library; sorts are stable.
 */
export const SCRIPT = `
(function () {
  'use strict';
  performance.mark('apitap:script');
  var SEV = { info: 0, low: 1, medium: 2, high: 3, critical: 4 };
  var PAGE = 200;
  var each = function (list, f) { Array.prototype.forEach.call(list, f); };
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function cellText(v) { return v === null || v === undefined ? '' : Array.isArray(v) ? v.join(' ') : String(v); }
  function cell(col, v) {
    var td = el('td', col.n ? 'num' : '');
    switch (col.r) {
      case 'sev': if (v) td.appendChild(el('span', 'sev sev-' + v, v)); break;
      case 'kind': var a = el('a', '', v); a.href = '#kind-' + v; td.appendChild(a); break;
      case 'mono': td.className = 'mono'; td.textContent = cellText(v); break;
      case 'cls': td.className = 'cls cls-' + v; td.textContent = cellText(v); break;
      case 'pii':
        td.className = 'k';
        if (v) { td.className = 'k ' + (v[0] === 'QR' ? 'qr' : v[0] === 'Q' ? 'q' : 'r'); td.textContent = v[0]; td.title = v[1]; }
        break;
      case 'ev':
        td.className = 'wrap';
        td.appendChild(el('div', 'ev', v[0]));
        if (v[1]) {
          var d = el('details'); d.appendChild(el('summary', '', 'details'));
          d.appendChild(el('pre', '', v[1])); d.appendChild(el('div', 'muted', v[2])); td.appendChild(d);
        }
        break;
      default: td.textContent = cellText(v);
    }
    return td;
  }
  function sortKey(type, v) {
    if (type === 'sev') return v in SEV ? SEV[v] : -1;
    if (type === 'num') { var n = typeof v === 'number' ? v : parseFloat(v); return isNaN(n) ? -Infinity : n; }
    return cellText(v).toLowerCase();
  }
  function nextDir(th) {
    var cur = th.getAttribute('aria-sort');
    var dir = cur === 'descending' ? 1 : cur === 'ascending' ? -1 : (th.dataset.sort === 'text' ? 1 : -1);
    each(th.parentNode.cells, function (c) { c.removeAttribute('aria-sort'); });
    th.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
    return dir;
  }
  function onActivate(th, f) {
    th.tabIndex = 0;
    th.addEventListener('click', f);
    th.addEventListener('keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); f(); } });
  }
  // Small server-rendered tables.
  each(document.querySelectorAll('table[data-sortable]'), function (t) {
    each(t.tHead.rows[0].cells, function (th, i) {
      if (!th.dataset.sort) return;
      onActivate(th, function () {
        var dir = nextDir(th);
        var keyed = Array.prototype.map.call(t.tBodies[0].rows, function (r, j) {
          var c = r.cells[i]; var v = c.getAttribute('data-v');
          return [sortKey(th.dataset.sort, v === null ? c.textContent : v), j, r];
        });
        keyed.sort(function (a, b) { return a[0] < b[0] ? -dir : a[0] > b[0] ? dir : a[1] - b[1]; });
        var frag = document.createDocumentFragment();
        keyed.forEach(function (k) { frag.appendChild(k[2]); });
        t.tBodies[0].appendChild(frag);
      });
    });
  });
  // Data tables: the JSON is parsed and rows are drawn when the table comes near the viewport or a
  // control of it is used, so opening a large report costs the summary, not every table.
  each(document.querySelectorAll('table[data-rows]'), function (t) {
    var id = t.id, st = null, timer = 0;
    var more = document.querySelector('[data-more="' + id + '"]');
    var count = document.querySelector('[data-count="' + id + '"]');
    var search = document.querySelector('input[data-table="' + id + '"]');
    var selects = document.querySelectorAll('select[data-table="' + id + '"]');
    function ensure() {
      if (st !== null) return st;
      var data = JSON.parse(document.getElementById(t.getAttribute('data-rows')).textContent);
      st = { rows: data.rows, cols: data.cols, order: null, matched: null, shown: PAGE, texts: null };
      st.order = st.rows.map(function (_, i) { return i; });
      st.matched = st.order;
      return st;
    }
    function draw() {
      var s = ensure(), rows = s.rows, cols = s.cols, n = rows.length, matched = s.matched;
      var frag = document.createDocumentFragment();
      var m = Math.min(s.shown, matched.length);
      for (var k = 0; k < m; k++) {
        var row = rows[matched[k]], tr = document.createElement('tr');
        for (var c = 0; c < cols.length; c++) tr.appendChild(cell(cols[c], row[c]));
        frag.appendChild(tr);
      }
      t.tBodies[0].textContent = '';
      t.tBodies[0].appendChild(frag);
      t.setAttribute('data-matched', String(matched.length));
      if (!t.hasAttribute('data-drawn')) performance.mark('apitap:drawn:' + id);
      t.setAttribute('data-drawn', String(m));
      count.textContent = (matched.length === n ? n + ' rows' : matched.length + ' of ' + n + ' rows') +
        (m < matched.length ? ' · showing ' + m : '');
      more.hidden = m >= matched.length;
      more.textContent = 'Show ' + Math.min(PAGE, matched.length - m) + ' more';
    }
    function filter() {
      var s = ensure(), rows = s.rows;
      var q = search ? search.value.trim().toLowerCase() : '';
      var sel = [];
      each(selects, function (x) { if (x.value !== '') sel.push([Number(x.dataset.col), x.value]); });
      if (q && s.texts === null) s.texts = rows.map(function (r) { return r.map(cellText).join(' ').toLowerCase(); });
      s.matched = s.order.filter(function (i) {
        for (var j = 0; j < sel.length; j++) if (cellText(rows[i][sel[j][0]]) !== sel[j][1]) return false;
        return !q || s.texts[i].indexOf(q) >= 0;
      });
      s.shown = PAGE;
      draw();
    }
    each(t.tHead.rows[0].cells, function (th, c) {
      if (!th.dataset.sort) return;
      onActivate(th, function () {
        var s = ensure(), dir = nextDir(th), type = th.dataset.sort;
        var keys = s.rows.map(function (r) { return sortKey(type, r[c]); });
        s.order = s.rows.map(function (_, i) { return i; });
        s.order.sort(function (a, b) { return keys[a] < keys[b] ? -dir : keys[a] > keys[b] ? dir : a - b; });
        filter();
      });
    });
    if (search) search.addEventListener('input', function () { clearTimeout(timer); timer = setTimeout(filter, 120); });
    each(selects, function (x) { x.addEventListener('change', filter); });
    more.addEventListener('click', function () { ensure().shown += PAGE; draw(); });
    t.apitapDraw = function () { if (t.getAttribute('data-drawn') === null) draw(); };
    if (typeof IntersectionObserver === 'function') {
      var io = new IntersectionObserver(function (es) {
        if (es.some(function (e) { return e.isIntersecting; })) { io.disconnect(); t.apitapDraw(); }
      }, { rootMargin: '600px 0px' });
      io.observe(t.parentNode);
    } else draw();
  });
  document.documentElement.setAttribute('data-ready', '1');
  performance.mark('apitap:ready');
})();
`;
