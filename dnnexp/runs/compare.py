"""Comparing runs: which settings differ between them, and how they ended, as one table.

`compare_runs` makes the table (a pandas frame), `render` writes it as csv, markdown or json, and
`rich_table` shows it in the terminal.
"""

from __future__ import annotations

import difflib
import math
from numbers import Integral, Number
from typing import Any, Iterator

import pandas as pd
from rich.markup import escape
from rich.table import Table

from dnnexp.errors import DnnexpError
from dnnexp.runs.rundir import RunDir

FORMATS = ("csv", "markdown", "json")

# What compare shows of each run: (column, section of summary.json, key in that section).
_RESULTS = (
    ("final_train_loss", "final", "train_loss"),
    ("final_train_acc", "final", "train_acc"),
    ("final_val_loss", "final", "val_loss"),
    ("final_val_acc", "final", "val_acc"),
    ("best_val_loss", "best", "val_loss"),
    ("best_val_acc", "best", "val_acc"),
    ("best_epoch", "best", "epoch"),
    ("test_loss", "test", "loss"),
    ("test_acc", "test", "acc"),
)

_STATUS_STYLE = {"completed": "green", "diverged": "red", "failed": "red", "interrupted": "yellow"}


def _flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    # Nested mappings and lists become dotted paths: model.layers[0].init; empty ones stay leaves.
    if isinstance(value, dict) and value:
        for key, item in value.items():
            yield from _flatten(item, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            yield from _flatten(item, f"{prefix}[{index}]")
    else:
        yield prefix, value


def flatten_config(config: dict[str, Any]) -> dict[str, Any]:
    """A nested config as {dotted path: value}, e.g. {"optimizer.lr": 0.01, "model.layers[0].units": 100}."""
    return dict(_flatten(config))


def differing_keys(configs: list[dict[str, Any]]) -> list[str]:
    """The dotted paths whose values are not the same in all `configs` (a missing key counts as differing).

    `name` is left out: the run folder already names each run. Paths come in the order they first
    appear.
    """
    flat = [flatten_config(config) for config in configs]
    paths = dict.fromkeys(path for config in flat for path in config if path != "name")
    missing = object()
    return [path for path in paths if len({repr(config.get(path, missing)) for config in flat}) > 1]


def _results(run: RunDir) -> dict[str, Any]:
    summary = run.summary()
    sections = {section: summary.get(section) or {} for _, section, _ in _RESULTS}
    results: dict[str, Any] = {column: sections[section].get(key) for column, section, key in _RESULTS}
    results["epochs"] = summary.get("epochs_completed")
    results["wall_time_s"] = summary.get("wall_time_s")
    return results


def compare_runs(runs: list[RunDir], sort: str | None = None) -> pd.DataFrame:
    """One row per run: folder name, status, the settings that differ, then final and best results.

    Result columns no run has (accuracy for regression, validation without a split) are left out.
    `sort` names a column: accuracies sort best (highest) first, everything else lowest first.
    """
    configs = [run.config() for run in runs]
    keys = differing_keys(configs)
    rows = []
    for run, config in zip(runs, configs):
        flat = flatten_config(config)
        row = {"run": run.name, "status": run.summary().get("status", "unknown")}
        row.update({key: flat.get(key) for key in keys})
        row.update(_results(run))
        rows.append(row)
    frame = pd.DataFrame(rows, columns=["run", "status", *keys, *(c for c, _, _ in _RESULTS), "epochs", "wall_time_s"])
    results = frame.columns[2 + len(keys) :]
    frame = frame.drop(columns=[c for c in results if frame[c].isna().all()])
    if sort is None:
        return frame
    if sort not in frame.columns:
        close = difflib.get_close_matches(sort, frame.columns, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise DnnexpError(f"--sort: no column {sort!r}; {hint}choose one of: {', '.join(frame.columns)}")
    return frame.sort_values(sort, ascending=not sort.endswith("acc"), kind="stable", na_position="last")


def format_cell(value: Any) -> str:
    """A table cell for people: numbers to 4 significant digits, missing values empty."""
    if value is None or isinstance(value, (bool, Integral)):
        return "" if value is None else str(value)
    if isinstance(value, Number):
        return "" if math.isnan(value) else f"{value:.4g}"
    return str(value)


def _is_numeric(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def _markdown(frame: pd.DataFrame) -> str:
    # pandas' to_markdown needs the tabulate package; a pipe table is a few lines.
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

    align = ["---:" if _is_numeric(frame[c]) else "---" for c in frame.columns]
    body = [line([format_cell(v) for v in row]) for row in frame.itertuples(index=False)]
    return "\n".join([line([str(c) for c in frame.columns]), line(align), *body]) + "\n"


def render(frame: pd.DataFrame, fmt: str) -> str:
    """The comparison as text: `csv` and `json` (records) at full precision, `markdown` for reading."""
    if fmt == "csv":
        return frame.to_csv(index=False)
    if fmt == "json":
        return frame.to_json(orient="records", indent=2) + "\n"
    if fmt == "markdown":
        return _markdown(frame)
    raise DnnexpError(f"--format: unknown format {fmt!r}; choose one of: table, {', '.join(FORMATS)}")


def rich_table(frame: pd.DataFrame, width: int = 120) -> Table:
    """The comparison as a rich table for the terminal: numbers to 4 significant digits.

    A table too wide for `width` characters is turned on its side (one column per run), since a
    sweep that varies many keys reads better down the page than folded beyond recognition.
    """
    cells = [[escape(format_cell(value)) for value in row] for row in frame.itertuples(index=False)]
    for row, status in zip(cells, frame.get("status", [])):
        if status in _STATUS_STYLE:
            row[1] = f"[{_STATUS_STYLE[status]}]{row[1]}[/]"
    headers = [escape(str(column)) for column in frame.columns]
    natural = sum(max([len(h), *(len(r[i]) for r in cells)]) + 3 for i, h in enumerate(headers))
    table = Table(header_style="bold")
    if natural <= width:
        for column, header in zip(frame.columns, headers):
            table.add_column(header, justify="right" if _is_numeric(frame[column]) else "left")
        for row in cells:
            table.add_row(*row)
        return table
    table.add_column("", no_wrap=True, min_width=max(len(h) for h in headers[1:]))
    for row in cells:
        table.add_column(row[0], justify="right", overflow="fold")
    for index, header in enumerate(headers[1:], start=1):
        table.add_row(header, *(row[index] for row in cells))
    return table
