"""`dnnexp report`: runs as one self-contained HTML page — the compare table (sortable), learning
curves, each run's settings against the others' and the diagnostic pictures it has.

Every picture is embedded as a data: URI and the sorting is a few lines of inline script, so the
file opens anywhere, offline, and can be mailed on its own. Pictures are drawn from the runs' logs
(curves, layer statistics, activations, gradients through time); pictures that need the trained
model rebuilt (filters, feature maps, fit) are taken as earlier `dnnexp plot` runs left them.
"""

from __future__ import annotations

import base64
import html
import io
import math
from datetime import datetime
from numbers import Number
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

import yaml

from dnnexp import __version__
from dnnexp.errors import DnnexpError
from dnnexp.plots import DPI
from dnnexp.plots.curves import curves_figure
from dnnexp.plots.groups import group_curves_figure
from dnnexp.plots.labels import comparison_title
from dnnexp.plots.layers import activations_figure, layer_stats_figure
from dnnexp.plots.time_grads import time_grads_figure
from dnnexp.runs.compare import format_cell, is_numeric
from dnnexp.runs.groups import group_runs
from dnnexp.runs.report import ReportData, RunSection, report_data
from dnnexp.runs.rundir import RunDir, write_atomically

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

MIME = {".png": "image/png", ".svg": "image/svg+xml"}


def write_report(runs: Sequence[RunDir], out: Path) -> Path:
    """Write the report of `runs` to `out` (.html), whole or not at all; return `out`."""
    out = Path(out)
    if out.suffix.lower() not in (".html", ".htm"):
        raise DnnexpError(f"--out: '{out}' must end in .html")
    page = report_html(runs)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(out, lambda f: f.write(page.encode("utf-8")))
    return out


def report_html(runs: Sequence[RunDir]) -> str:
    """The report of `runs` as one HTML document."""
    data = report_data(runs)
    title = comparison_title(runs)
    drawn = [run for run in runs if len(run.metrics())]
    overview = []
    if drawn:
        groups = group_runs(drawn)
        repeated = any(len(group.runs) > 1 for group in groups)
        overview.append(_figure("learning curves", lambda: group_curves_figure(groups) if repeated else curves_figure(drawn)))
    recurrent = [run for run in drawn if run.has("time_grads.csv")]
    if recurrent:
        overview.append(_figure("gradient through time", lambda: time_grads_figure(recurrent)))
    generated = datetime.now().strftime("%Y-%m-%d %H:%M")
    return _PAGE.format(
        title=_text(title),
        style=_STYLE,
        script=_SCRIPT,
        meta=_text(f"{len(runs)} run{'s' * (len(runs) != 1)} · written {generated} by dnnexp {__version__}"),
        nav="".join(f'<li><a href="#{_anchor(s.run)}">{_text(s.run.name)}</a> {_status(s.status)}</li>' for s in data.sections),
        table=_table(data),
        overview="".join(overview) or "<p>No run has logged an epoch yet.</p>",
        runs="".join(_section(section, len(runs)) for section in data.sections),
    )


def _table(data: ReportData) -> str:
    frame: pd.DataFrame = data.table
    numeric = [is_numeric(frame[column]) for column in frame.columns]
    head = "".join(
        f'<th data-type="{"number" if is_number else "text"}" title="click to sort">{_text(column)}</th>'
        for column, is_number in zip(frame.columns, numeric)
    )
    rows = []
    for row in frame.itertuples(index=False):
        cells = []
        for column, value, is_number in zip(frame.columns, row, numeric):
            shown = _status(value) if column == "status" else _text(format_cell(value))
            if column == "run":
                shown = f'<a href="#{_anchor_name(value)}">{shown}</a>'
            cells.append(f'<td data-value="{_sort_value(value)}"{" class=num" if is_number else ""}>{shown}</td>')
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return f'<div class="scroll"><table id="compare" class="sortable"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'


def _section(section: RunSection, count: int) -> str:
    run = section.run
    if count == 1:
        settings = "<p>The only run here: nothing to differ from. Its settings are its config.yaml below.</p>"
    elif not section.differences:
        settings = "<p>Its settings are the same as every other run's.</p>"
    else:
        rows = "".join(
            f"<tr><th>{_text(d.key)}</th><td><b>{_text(_yaml(d.value))}</b></td>"
            f"<td class=others>{_text(', '.join(_yaml(v) for v in d.others))}</td></tr>"
            for d in section.differences
        )
        settings = f'<table class="diff"><thead><tr><th>setting</th><th>this run</th><th>the others</th></tr></thead><tbody>{rows}</tbody></table>'
    pictures = []
    if run.has("layer_stats.csv"):
        pictures.append(_figure("layer statistics", lambda: layer_stats_figure(run)))
    if run.has("activations.npz"):
        pictures.append(_figure("activations", lambda: activations_figure(run)))
    pictures += [_image(path.read_bytes(), path.suffix.lower(), path.name, caption=True) for path in section.pictures]
    return (
        f'<section id="{_anchor(run)}"><h3>{_text(run.name)} {_status(section.status)}</h3>'
        f'<p class="path">{_text(str(run.path))}</p>{settings}'
        f"<details{' open' if count == 1 else ''}><summary>config.yaml</summary><pre>{_text(section.config)}</pre></details>"
        f"<div class=pictures>{''.join(pictures)}</div></section>"
    )


def _figure(caption: str, draw: Callable[[], Figure]) -> str:
    """A picture drawn now; a run whose log cannot be drawn gets the reason in its place."""
    try:
        fig = draw()
    except DnnexpError as error:
        return f'<p class="missing">{_text(caption)}: not drawn — {_text(str(error))}</p>'
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return _image(buffer.getvalue(), ".png", caption)


def _image(content: bytes, suffix: str, name: str, caption: bool = False) -> str:
    """A picture as a data: URI; `caption` names it under it (a file's name: drawn figures have titles)."""
    uri = f"data:{MIME[suffix]};base64,{base64.b64encode(content).decode('ascii')}"
    below = f"<figcaption>{_text(name)}</figcaption>" if caption else ""
    return f'<figure><img src="{uri}" alt="{_text(name)}">{below}</figure>'


def _status(status: Any) -> str:
    return f'<span class="status {_text(str(status))}">{_text(str(status))}</span>'


def _anchor(run: RunDir) -> str:
    return _anchor_name(run.name)


def _anchor_name(name: str) -> str:
    return _text(f"run-{name}")


def _sort_value(value: Any) -> str:
    """What a cell sorts by: the full number (not the 4 digits shown), empty for a missing one."""
    if value is None or (isinstance(value, Number) and not isinstance(value, bool) and math.isnan(value)):
        return ""
    return _text(str(value))


def _yaml(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=True, allow_unicode=True).removesuffix("\n...\n").strip()


def _text(value: str) -> str:
    return html.escape(value, quote=True)


_STYLE = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d232a; margin: 0 auto;
       max-width: 1180px; padding: 1.5em 2em 4em; }
h1 { font-size: 1.6em; margin-bottom: .1em; } h2 { margin-top: 2em; border-bottom: 1px solid #d6dbe0; }
h3 { margin: 0 0 .2em; font-size: 1.15em; }
.meta, .path, figcaption, .others { color: #5f6b76; } .path { font-size: .85em; margin: 0 0 .8em; word-break: break-all; }
nav ul { columns: 2; padding-left: 1.2em; } nav li { break-inside: avoid; }
a { color: #1f5fa8; text-decoration: none; } a:hover { text-decoration: underline; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: .88em; }
#compare th, #compare td { padding: .3em .6em; border-bottom: 1px solid #e4e8ec; white-space: nowrap; }
#compare th { position: sticky; top: 0; background: #f3f5f7; cursor: pointer; user-select: none; text-align: left; }
#compare th[aria-sort="ascending"]::after { content: " ▲"; } #compare th[aria-sort="descending"]::after { content: " ▼"; }
#compare tbody tr:hover { background: #f7f9fb; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.diff th, .diff td { padding: .15em .8em .15em 0; text-align: left; vertical-align: top; font-weight: normal; }
.diff thead th { color: #5f6b76; font-size: .9em; } .diff tbody th { font-family: ui-monospace, monospace; }
.status { font-size: .75em; padding: .1em .5em; border-radius: 1em; background: #e4e8ec; vertical-align: middle; }
.status.completed { background: #dcf2e0; color: #1d6b2f; } .status.diverged, .status.failed { background: #fbe0df; color: #a12622; }
.status.interrupted, .status.early_stopped { background: #fff1cc; color: #7a5a00; }
section { margin: 2em 0; padding-top: 1em; border-top: 1px solid #eef1f4; }
details { margin: .8em 0; } summary { cursor: pointer; color: #1f5fa8; }
pre { background: #f6f8fa; padding: .8em 1em; overflow-x: auto; font-size: .85em; }
figure { margin: 1em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eef1f4; }
.pictures { display: flex; flex-wrap: wrap; gap: 0 1.5em; align-items: flex-start; }
.pictures figure { flex: 0 1 auto; max-width: 100%; }
.missing { color: #a12622; }
"""

# Sorting by a header click: numbers by their full value, text naturally ("run-2" before
# "run-10"); a second click reverses; empty cells stay last either way.
_SCRIPT = """
document.querySelectorAll("table.sortable th").forEach((header, column) => {
  header.addEventListener("click", () => {
    const table = header.closest("table"), body = table.tBodies[0];
    const descending = header.getAttribute("aria-sort") === "ascending";
    table.querySelectorAll("th").forEach(th => th.removeAttribute("aria-sort"));
    header.setAttribute("aria-sort", descending ? "descending" : "ascending");
    const numeric = header.dataset.type === "number";
    const rows = [...body.rows].sort((a, b) => {
      const x = a.cells[column].dataset.value, y = b.cells[column].dataset.value;
      if (x === "" || y === "") return (x === "") - (y === "");
      const order = numeric ? Number(x) - Number(y) : x.localeCompare(y, undefined, {numeric: true});
      return descending ? -order : order;
    });
    body.append(...rows);
  });
});
"""

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><style>{style}</style></head>
<body><h1>{title}</h1><p class="meta">{meta}</p>
<nav><ul>{nav}</ul></nav>
<h2>Comparison</h2><p class="meta">Click a column's name to sort by it.</p>{table}
<h2>Learning curves</h2>{overview}
<h2>Runs</h2>{runs}
<script>{script}</script></body></html>
"""
