"""What a sweep folder shows of its trials: comparison.md (the compare table, seeds grouped,
sorted by the sweep's metric, best first) and comparison.png (learning curves; each group's
mean and spread when trials repeat seeds), rewritten as trials finish."""

from __future__ import annotations

from pathlib import Path

from dnnexp.plots.curves import plot_curves
from dnnexp.plots.groups import plot_group_curves
from dnnexp.plots.time_grads import plot_time_grads
from dnnexp.runs.compare import compare_runs, render, sort_frame
from dnnexp.runs.groups import group_runs, grouped_frame, with_intervals
from dnnexp.runs.rundir import RunDir

TABLE = "comparison.md"
PICTURE = "comparison.png"


def finished_trials(folder: Path) -> list[RunDir]:
    """The trial folders of a sweep that have ended (their summary.json written), in trial order."""
    return [RunDir(child) for child in sorted(folder.iterdir()) if (child / "config.yaml").is_file() and (child / "summary.json").is_file()]


def sort_column(columns: list[str], metric: str) -> str | None:
    """The column that holds `metric`: itself (test_acc), else its best or final value."""
    return next((c for c in (metric, f"best_{metric}", f"final_{metric}") if c in columns), None)


def write_comparison(folder: Path, metric: str, goal: str, pictures: bool = True) -> list[Path]:
    """Rewrite comparison.md (and, with `pictures`, comparison.png and time_grads.png) from the
    trials that have ended; the files written."""
    runs = finished_trials(folder)
    if not runs:
        return []
    frame = compare_runs(runs)
    groups = group_runs(runs)
    repeated = any(len(group.runs) > 1 for group in groups)
    table = grouped_frame(frame, groups) if repeated else frame
    column = sort_column(list(table.columns), metric)
    if column is not None:
        table = sort_frame(table, column, descending=goal == "max")
    note = f"{len(runs)} trials" + (", grouped over seeds: mean ± std [95% interval]" if repeated else "")
    if column:
        note += f"; sorted by {column}, {'highest' if goal == 'max' else 'lowest'} first\n\n"
    else:  # a metric: the trials do not log (a typo, or accuracy of a regression) is said, not silently dropped
        note += f"; not sorted: no trial logs the sweep's metric '{metric}'\n\n"
    written = [RunDir(folder).write_text(TABLE, note + render(with_intervals(table) if repeated else table, "markdown"))]
    if not pictures:
        return written
    drawn = [run for run in runs if len(run.metrics())]
    if drawn:
        if repeated:
            written.append(plot_group_curves(group_runs(drawn), folder / PICTURE))
        else:
            written.append(plot_curves(drawn, folder / PICTURE))
    recurrent = [run for run in drawn if run.has("time_grads.csv")]
    if recurrent:
        written.append(plot_time_grads(recurrent, folder / "time_grads.png"))
    return written
