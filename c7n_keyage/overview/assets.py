"""The page's inline style and script: nothing is fetched from anywhere.

The script only adds to a page that is complete without it: a filter box over the
accounts (and their drill-downs), buttons that sort the accounts table by any column, and
opening the drill-down an in-page link points at. With script off, every figure and every
account's keys are there, the collapsed parts open with a click, and print leaves out what
is collapsed.
"""

CSS = """
:root { color-scheme: light; --ink: #1b1f24; --muted: #4a5562; --line: #d0d7de;
  --band: #f6f8fa; --accent: #b30000; --link: #0a50a0; --warn: #7a4b00; --warn-bg: #fff4d6; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto,
  "Helvetica Neue", Arial, sans-serif; color: var(--ink); background: #fff; }
header, main { max-width: 80rem; margin: 0 auto; padding: 0 1.25rem; }
header { padding-top: 1.25rem; border-bottom: 1px solid var(--line); }
h1 { font-size: 1.7rem; margin: 0 0 .25rem; overflow-wrap: anywhere; }
h2 { font-size: 1.3rem; margin: 2rem 0 .75rem; }
p { margin: .4rem 0; max-width: 62rem; }
.sub, .note, figcaption { color: var(--muted); }
a { color: var(--link); }
a:focus-visible, button:focus-visible, summary:focus-visible, input:focus-visible {
  outline: 3px solid #0969da; outline-offset: 2px; }
.skip { position: absolute; left: -999px; top: .5rem; background: #fff; padding: .4rem .8rem; }
.skip:focus { left: .5rem; z-index: 1; }
nav ul { list-style: none; display: flex; flex-wrap: wrap; gap: .25rem 1.25rem;
  padding: 0; margin: .75rem 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(10.5rem, 1fr));
  gap: .75rem; margin: 0; }
.cards div { border: 1px solid var(--line); border-radius: 6px; padding: .6rem .8rem; }
.cards dt { color: var(--muted); font-size: .9rem; }
.cards dd { margin: 0; font-size: 1.6rem; font-weight: 600;
  font-variant-numeric: tabular-nums; }
.cards .lead dd { color: var(--accent); }
.cards .alert { background: var(--warn-bg); border-color: #d4a72c; }
.cards dd small { font-size: .95rem; font-weight: 400; color: var(--muted); }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(22rem, 1fr));
  gap: 1.5rem; align-items: start; }
figure { margin: 0; }
svg { width: 100%; height: auto; max-width: 40rem; display: block; }
svg text { font: 13px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
  fill: var(--ink); }
svg .grid { stroke: var(--line); }
svg .axis { stroke: var(--muted); }
svg .bar { stroke: #5c1a00; stroke-width: 1; }
svg .line { fill: none; stroke: var(--accent); stroke-width: 2.5; }
svg .point { fill: var(--accent); stroke: #fff; stroke-width: 1.5; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding: .3rem 0; }
th, td { border-bottom: 1px solid var(--line); padding: .3rem .7rem .3rem 0;
  text-align: left; vertical-align: top; overflow-wrap: break-word; }
tbody th, td.name { overflow-wrap: anywhere; min-width: 7.5em; }
td.num, td.date, th.date, td.id, td.step { white-space: nowrap; }
td small { color: var(--muted); }
thead th { border-bottom: 2px solid var(--muted); font-size: .9rem; }
thead th button { font: inherit; font-weight: 600; color: var(--link); background: none;
  border: 0; padding: 0; cursor: pointer; text-align: inherit; }
th[aria-sort="ascending"] button::after { content: " \\25B2"; }
th[aria-sort="descending"] button::after { content: " \\25BC"; }
tbody tr:nth-child(even) { background: var(--band); }
tbody th { font-weight: 500; }
.num { text-align: right; padding-left: .7rem; }
.wide { overflow-x: auto; }
code { font-size: .92em; overflow-wrap: anywhere; }
.up { color: var(--accent); }
.late { display: block; width: max-content; color: var(--warn); background: var(--warn-bg);
  border-radius: 3px; padding: 0 .3rem; font-size: .85rem; }
summary .late { display: inline-block; }
details { margin: .4rem 0; }
summary { cursor: pointer; }
details.account { border-top: 1px solid var(--line); padding: .35rem 0; margin: 0; }
details.account > summary { overflow-wrap: anywhere; }
details.account > div { padding: .25rem 0 .5rem 1.25rem; }
.finder label { font-weight: 600; margin-right: .5rem; }
.finder input { font: inherit; padding: .3rem .5rem; width: min(28rem, 100%);
  border: 1px solid var(--muted); border-radius: 4px; }
.finder output { margin-left: .75rem; color: var(--muted); }
@media print {
  .skip, nav, .finder { display: none; }
  body { font-size: 11pt; }
  header, main { max-width: none; padding: 0; }
  h2 { break-after: avoid; }
  figure, tr, .cards div { break-inside: avoid; }
  tbody tr:nth-child(even) { background: none; }
  .wide { overflow: visible; }
  .charts { display: block; }
  svg { max-width: 30rem; }
  table { font-size: 9pt; }
  details:not([open]) { display: none; }
  a { color: inherit; text-decoration: none; }
}
"""

SCRIPT = """
(function () {
  "use strict";
  var table = document.getElementById("accounts-table");
  var finder = document.getElementById("finder");
  var box = document.getElementById("account-filter");
  var status = document.getElementById("filter-status");
  var all = document.getElementById("all-accounts");
  var rows = Array.prototype.slice.call(table.tBodies[0].rows);
  rows.forEach(function (row, i) { row.setAttribute("data-order", i); });
  var drill = {};
  Array.prototype.forEach.call(document.querySelectorAll("details.account"), function (d) {
    drill[d.getAttribute("data-account")] = d;
  });
  function has(node, q) { return !!node && node.textContent.toLowerCase().indexOf(q) >= 0; }
  function filter() {
    var q = box.value.trim().toLowerCase(), shown = 0;
    rows.forEach(function (row) {
      var keys = drill[row.getAttribute("data-account")];
      var hit = !q || has(row, q) || has(keys, q);
      row.hidden = !hit;
      if (keys) { keys.hidden = !hit; }
      shown += hit ? 1 : 0;
    });
    if (q && all) { all.open = true; }
    status.textContent = q ? shown + " of " + rows.length + " accounts match" : "";
  }
  function value(row, index, numeric) {
    var cell = row.cells[index];
    var raw = cell.getAttribute("data-sort");
    if (raw === null) { raw = cell.textContent; }
    return numeric ? parseFloat(raw) : raw.toLowerCase();
  }
  function sortBy(th, index) {
    var numeric = th.classList.contains("num");
    var current = th.getAttribute("aria-sort");
    var descending = current ? current === "ascending" : numeric;
    var sign = descending ? -1 : 1;
    rows.sort(function (a, b) {
      var x = value(a, index, numeric), y = value(b, index, numeric);
      if (x < y) { return -sign; }
      if (x > y) { return sign; }
      return a.getAttribute("data-order") - b.getAttribute("data-order");
    });
    rows.forEach(function (row) { table.tBodies[0].appendChild(row); });
    Array.prototype.forEach.call(th.parentNode.cells, function (other) {
      other.removeAttribute("aria-sort");
    });
    th.setAttribute("aria-sort", descending ? "descending" : "ascending");
  }
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = th.textContent;
    th.textContent = "";
    th.appendChild(button);
    button.addEventListener("click", function () { sortBy(th, index); });
  });
  function reveal() {
    var target = location.hash && document.getElementById(location.hash.slice(1));
    if (target && target.tagName === "DETAILS") { target.open = true; }
  }
  finder.hidden = false;
  box.addEventListener("input", filter);
  window.addEventListener("hashchange", reveal);
  reveal();
})();
"""
