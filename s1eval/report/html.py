"""One static, self-contained HTML page: sortable tables, plots inline, run metadata. No network resources."""

from __future__ import annotations

import base64
import html
import json
import math
from pathlib import Path
from typing import Any

_CSS = """
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 2rem; color: #1a1a1a; max-width: 1400px; }
h1 { font-size: 1.6rem; } h2 { margin-top: 2rem; border-bottom: 1px solid #ddd; } h3 { margin-bottom: .3rem; }
table { border-collapse: collapse; font-size: .85rem; margin: .5rem 0 1.2rem; }
th, td { border: 1px solid #ccc; padding: .25rem .5rem; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f3f3f3; cursor: pointer; user-select: none; white-space: nowrap; }
th[aria-sort=ascending]::after { content: " \\25B2"; } th[aria-sort=descending]::after { content: " \\25BC"; }
tbody tr:nth-child(even) { background: #fafafa; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; font-size: .9rem; }
dl.meta dt { font-weight: 600; } dl.meta dd { margin: 0; font-family: ui-monospace, monospace; word-break: break-all; }
img.plot { max-width: 100%; height: auto; border: 1px solid #eee; }
p.note { font-size: .85rem; color: #555; max-width: 70rem; }
"""

_JS = """
(function () {
  function key(cell, numeric) {
    var raw = cell.getAttribute('data-sort');
    if (!numeric) { return (raw === null ? cell.textContent : raw).toLowerCase(); }
    var v = parseFloat(raw);
    return isNaN(v) ? null : v;
  }
  function sortBy(table, col, th) {
    var numeric = th.getAttribute('data-type') === 'num';
    var dir = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;
    var ths = table.tHead.rows[0].cells;
    for (var i = 0; i < ths.length; i++) { ths[i].removeAttribute('aria-sort'); }
    th.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a.cells[col], numeric), y = key(b.cells[col], numeric);
      if (x === y) { return 0; }
      if (x === null) { return 1; }
      if (y === null) { return -1; }
      return x < y ? -dir : dir;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  var tables = document.querySelectorAll('table.sortable');
  tables.forEach(function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
      th.addEventListener('click', function () { sortBy(table, col, th); });
    });
  });
  document.documentElement.setAttribute('data-sortable-tables', String(tables.length));
})();
"""


def _sort_attr(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (bool, int, float)):
        return repr(float(value))
    return str(value)


def sortable_table(columns: list[tuple[str, str]], rows: list[dict[str, Any]]) -> str:
    """``rows`` are display rows (header -> (text, sort value)), as tables.leaderboard_rows makes them."""
    head = "".join(f'<th scope="col" data-type="{kind}">{html.escape(name)}</th>' for name, kind in columns)
    body = []
    for row in rows:
        cells = []
        for name, kind in columns:
            text, sort = row["cells"][name]
            cls = ' class="num"' if kind == "num" else ""
            cells.append(
                f'<td{cls} data-sort="{html.escape(_sort_attr(sort))}">{html.escape(str(text))}</td>'
            )
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<table class="sortable"><thead><tr>{head}</tr></thead><tbody>\n'
        + "\n".join(body)
        + "\n</tbody></table>"
    )


def png_data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def render_page(
    title: str,
    meta: dict[str, Any],
    sections: list[tuple[str, str]],
    plots: dict[str, Path],
    notes: list[str],
) -> str:
    """The whole page. ``sections`` are (heading, inner HTML); ``plots`` maps benchmark -> PNG path."""
    meta_html = "".join(
        f"<dt>{html.escape(k)}</dt><dd>{html.escape(v if isinstance(v, str) else json.dumps(v, sort_keys=True))}</dd>"
        for k, v in meta.items()
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # Nothing on this page may load from elsewhere; the policy makes a stray reference fail loudly.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src data:; '
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">",
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<dl class="meta">{meta_html}</dl>',
    ]
    parts += [f'<p class="note">{html.escape(n)}</p>' for n in notes]
    for heading, inner in sections:
        parts.append(f"<h2>{html.escape(heading)}</h2>\n{inner}")
    if plots:
        parts.append("<h2>Scaling plots</h2>")
        for bench, png in sorted(plots.items()):
            alt = f"Accuracy vs average thinking tokens on {bench}"
            parts.append(
                f"<h3>{html.escape(bench)}</h3>"
                f'<img class="plot" alt="{html.escape(alt)}" src="{png_data_uri(png)}">'
            )
    parts.append(f"<script>{_JS}</script></body></html>")
    return "\n".join(parts) + "\n"
