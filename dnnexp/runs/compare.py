"""Comparing runs: which settings differ between them, and how they ended, as one table.

`compare_runs` makes the table (a pandas frame), `render` writes it as csv, markdown or json, and
`rich_table` shows it in the terminal.
"""

from __future__ import annotations

import difflib
import inspect
import math
from numbers import Integral, Number
from typing import Any

import pandas as pd
from rich.table import Table

from dnnexp.console import styled
from dnnexp.core.kinds import declared
from dnnexp.core.layers import Layer
from dnnexp.errors import DnnexpError
from dnnexp.runs.configs import differing_keys, flatten_config
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
    # reinforcement learning (kind: rl): the best 100-episode mean return, the greedy policy's return
    # at the last evaluation and at its best; when a greedy evaluation first reached the solved
    # threshold (episode, env step, seconds of training), and when the training returns' 100-episode
    # mean did (`solved`, yes or no, is added from the first)
    ("best_return_mean_100", "best", "return_mean_100"),
    ("final_eval_return_mean", "final", "eval_return_mean"),
    ("best_eval_return_mean", "best", "eval_return_mean"),
    ("final_q_error", "final", "q_error"),
    ("solved_episode", "solved", "episode"),
    ("solved_step", "solved", "step"),
    ("solved_wall_time_s", "solved", "wall_time_s"),
    ("online_solved_episode", "online_solved", "episode"),
)

_STATUS_STYLE = {"completed": "green", "diverged": "red", "failed": "red", "interrupted": "yellow"}


LAYERS_KEY = "model.layers"


def layers_summary(layers: list[dict[str, Any]]) -> str:
    """A model's layers in one line, each with the arguments it sets away from their defaults:
    'conv2d(filters=30, kernel_size=5, init=he_normal)+relu → maxpool2d → flatten → …'."""
    layer_types = declared(Layer)
    described = []
    for layer in layers:
        args = {key: value for key, value in layer.items() if key not in ("type", "activation")}
        defaults = {
            name: parameter.default
            for name, parameter in inspect.signature(layer_types.get(layer["type"], _no_arguments)).parameters.items()
        }
        shown = [
            f"{key}={_short(value)}" for key, value in args.items()
            if key not in defaults or _short(value) != _short(defaults[key])
        ]
        text = f"{layer['type']}({', '.join(shown)})" if shown else layer["type"]
        activation = layer.get("activation")
        described.append(f"{text}+{_short(activation)}" if activation else text)
    return " → ".join(described)


def _no_arguments() -> None:
    """What a layer type without a core class of its own (`activation`) takes by default: nothing."""


def _short(value: Any) -> str:
    """A setting as a spec would write it short: {name: he_normal} as he_normal, [3, 3] as 3×3."""
    if isinstance(value, dict) and set(value) == {"name"}:
        return str(value["name"])
    if isinstance(value, (list, tuple)) and all(isinstance(item, int) for item in value):
        return "×".join(map(str, value))
    return str(value)


def _section(summary: dict[str, Any], section: str) -> dict[str, Any]:
    """A section of summary.json (final, best, test), or {} where it is missing or not a mapping."""
    value = summary.get(section)
    return value if isinstance(value, dict) else {}


def _results(run: RunDir) -> dict[str, Any]:
    summary = run.summary()
    sections = {section: _section(summary, section) for _, section, _ in _RESULTS}
    results: dict[str, Any] = {column: sections[section].get(key) for column, section, key in _RESULTS}
    results.update(_model_metrics(summary))
    if isinstance(summary.get("solved"), dict):  # a run with a threshold: whether it was reached
        results["solved"] = "no" if results["solved_episode"] is None else "yes"
    results["epochs"] = summary.get("epochs_completed")
    results["episodes"] = summary.get("episodes_completed")
    results["wall_time_s"] = summary.get("wall_time_s")
    return results


def _model_metrics(summary: dict[str, Any]) -> dict[str, Any]:
    """Results beyond loss and accuracy that a model logs (seq2seq's seq_acc, HRED's distinct-n,
    VHRED's kl): final and best on validation, and on the test set."""
    shown = {key for _, _, key in _RESULTS}
    extra = {
        f"{section}_{key}": value
        for section in ("final", "best")
        for key, value in _section(summary, section).items()
        if key.startswith("val_") and key not in shown
    }
    extra.update({f"test_{key}": value for key, value in _section(summary, "test").items() if key not in shown})
    return extra


def compare_runs(runs: list[RunDir], sort: str | None = None) -> pd.DataFrame:
    """One row per run: folder name, status, the settings that differ, then final and best results.

    Runs whose models are built of different layers get one column `model.layers` for them, each
    model in one line (`layers_summary`), instead of a column per layer setting.

    Result columns no run has (accuracy for regression, validation without a split) are left out.
    `sort` names a column: accuracies sort best (highest) first, everything else lowest first.
    """
    configs = [run.config() for run in runs]
    keys = differing_keys(configs)
    # Different architectures would fill a column per setting of every layer; a line per model reads better.
    layer_lists = [(config.get("model") or {}).get("layers") or [] for config in configs]
    architectures = len({tuple(layer.get("type") for layer in layers) for layers in layer_lists}) > 1
    if architectures:
        keys = [LAYERS_KEY, *(key for key in keys if not key.startswith(LAYERS_KEY))]
    rows = []
    for run, config, layers in zip(runs, configs, layer_lists):
        flat = flatten_config(config)
        if architectures:
            flat[LAYERS_KEY] = layers_summary(layers)
        row = {"run": run.name, "status": run.summary().get("status", "unknown")}
        row.update({key: flat.get(key) for key in keys})
        row.update(_results(run))
        rows.append(row)
    fixed = ["run", "status", *keys, *(c for c, _, _ in _RESULTS)]
    fixed.insert(fixed.index("solved_episode"), "solved")  # whether, then when
    counters = ["epochs", "episodes", "wall_time_s"]
    extra = dict.fromkeys(column for row in rows for column in row if column not in {*fixed, *counters})
    frame = pd.DataFrame(rows, columns=[*fixed, *extra, *counters])
    results = frame.columns[2 + len(keys) :]
    frame = frame.drop(columns=[c for c in results if frame[c].isna().all()])
    frame.attrs["keys"] = keys  # the settings' columns, for grouping by seed (dnnexp.runs.groups)
    return frame if sort is None else sort_frame(frame, sort)


def sort_frame(frame: pd.DataFrame, sort: str, descending: bool | None = None) -> pd.DataFrame:
    """`frame` sorted by column `sort`: accuracies best (highest) first and everything else lowest
    first, unless `descending` says."""
    if sort not in frame.columns:
        close = difflib.get_close_matches(sort, frame.columns, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise DnnexpError(f"--sort: no column {sort!r}; {hint}choose one of: {', '.join(frame.columns)}")
    descending = sort.endswith("acc") if descending is None else descending
    return frame.sort_values(sort, ascending=not descending, kind="stable", na_position="last")


def format_cell(value: Any) -> str:
    """A table cell for people: numbers to 4 significant digits, missing values empty."""
    if value is None or isinstance(value, (bool, Integral)):
        return "" if value is None else str(value)
    if isinstance(value, Number):
        return "" if math.isnan(value) else f"{value:.4g}"
    return str(value)


def is_numeric(column: pd.Series) -> bool:
    """Whether a column holds numbers (right-aligned, sorted by value); booleans do not count."""
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def _markdown(frame: pd.DataFrame) -> str:
    # pandas' to_markdown needs the tabulate package; a pipe table is a few lines.
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

    align = ["---:" if is_numeric(frame[c]) else "---" for c in frame.columns]
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
    cells = [[styled(format_cell(value)) for value in row] for row in frame.itertuples(index=False)]
    for row, status in zip(cells, frame.get("status", [])):
        if status in _STATUS_STYLE:
            row[1].stylize(_STATUS_STYLE[status])
    headers = [styled(str(column)) for column in frame.columns]
    natural = sum(max([len(h), *(len(r[i]) for r in cells)]) + 3 for i, h in enumerate(headers))
    table = Table(header_style="bold")
    if natural <= width:
        for column, header in zip(frame.columns, headers):
            table.add_column(header, justify="right" if is_numeric(frame[column]) else "left")
        for row in cells:
            table.add_row(*row)
        return table
    table.add_column("", no_wrap=True, min_width=max(len(h) for h in headers[1:]))
    for row in cells:
        table.add_column(row[0], justify="right", overflow="fold")
    for index, header in enumerate(headers[1:], start=1):
        table.add_row(header, *(row[index] for row in cells))
    return table
