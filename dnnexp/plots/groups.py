"""Learning curves of runs grouped by seed: each group's mean curve, with a band of ± one
standard deviation across its seeds, so that a difference between settings can be told from
the noise of one seed.

Panels, colours and line styles follow `curves`: a colour per group, train dashed, validation
solid. An epoch that only some runs reached (one stopped early) is averaged over those runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import pandas as pd

from dnnexp.errors import RunDirError
from dnnexp.plots import integer_epochs, legend_below, line_marker, new_figure, save_figure
from dnnexp.plots.curves import MAX_PANELS_IN_A_ROW, PANELS, SPLITS
from dnnexp.plots.labels import differences
from dnnexp.runs.groups import Group, group_labels

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: how opaque a group's band is
BAND_ALPHA = 0.2


def plot_group_curves(groups: Sequence[Group], out: Path, metric: str | None = None) -> Path:
    """Draw `group_curves_figure(groups, metric)` into `out` (.png or .svg); return `out`; runs of
    episodes (reinforcement learning) get their return curves instead (`returns`)."""
    from dnnexp.plots.labels import comparison_title
    from dnnexp.plots.returns import episodic_runs, plot_returns

    runs = [run for group in groups for run in group.runs]
    if episodic_runs(runs):
        series = [(label, group.runs) for label, group in zip(group_labels(groups), groups)]
        return plot_returns(series, out, comparison_title(runs), metric)
    return save_figure(group_curves_figure(groups, metric), out)


def epoch_statistics(group: Group) -> pd.DataFrame:
    """Per epoch, the mean, standard deviation and count of every metric over the group's runs:
    columns `<metric>_mean`, `<metric>_std`, `<metric>_n`."""
    frames = [frame for frame in (run.metrics() for run in group.runs) if len(frame)]
    if not frames:  # every run diverged before its first epoch ended
        return pd.DataFrame()
    stacked = pd.concat(frames, ignore_index=True)
    by_epoch = stacked.groupby("epoch")
    stats = pd.concat({"mean": by_epoch.mean(), "std": by_epoch.std(ddof=1), "n": by_epoch.count()}, axis=1)
    stats.columns = [f"{column}_{stat}" for stat, column in stats.columns]
    return stats.reset_index()


def group_curves_figure(groups: Sequence[Group], metric: str | None = None) -> Figure:
    """A panel per metric (or `metric` alone), each group's mean curve and its ± std band."""
    stats = [epoch_statistics(group) for group in groups]
    columns = {c.removesuffix("_mean") for frame in stats for c in frame.columns if c.endswith("_mean")}
    if metric is not None:
        panels = {metric: [metric]} if metric in columns else {}
        if not panels:
            raise RunDirError(f"--metric: no run has {metric!r}; choose one of: {', '.join(sorted(columns))}")
    else:
        panels = {
            title: [f"{split}_{m}" for split in SPLITS]
            for m, title in PANELS.items() if any(f"{s}_{m}" in columns for s in SPLITS)
        }
    if not panels:
        raise RunDirError("metrics.csv has no rows yet in these runs; plot again after the first epoch")
    rows = 1 if len(panels) <= MAX_PANELS_IN_A_ROW else 2
    fig, axes = new_figure(rows, -(-len(panels) // rows), panel_size=(4.2, 3.2))
    for ax in axes.flat[len(panels):]:
        ax.set_axis_off()
    styles: dict[str, str] = {}
    for ax, (title, panel_columns) in zip(axes.flat, panels.items()):
        for index, frame in enumerate(stats):
            for column in panel_columns:
                if f"{column}_mean" not in frame.columns or frame[f"{column}_mean"].isna().all():
                    continue
                split, style = SPLITS.get(column.split("_", 1)[0], (column, "-"))
                styles[split] = style
                mean, std = frame[f"{column}_mean"], frame[f"{column}_std"].fillna(0.0)
                ax.plot(frame["epoch"], mean, color=f"C{index}", linestyle=style, marker=line_marker(len(frame)), markersize=3)
                ax.fill_between(frame["epoch"], mean - std, mean + std, color=f"C{index}", alpha=BAND_ALPHA, linewidth=0)
        ax.set_title(title)
        integer_epochs(ax)
        ax.set_xlabel("epoch")
        ax.set_ylabel(title)
        ax.grid(alpha=0.3)

    from matplotlib.lines import Line2D

    splits = [Line2D([], [], color="0.35", linestyle=style, label=split) for split, style in styles.items()]
    axes[0, 0].legend(handles=splits, loc="best", fontsize="small")
    labels = [f"{label} (n={len(group.runs)}{_diverged(group)})" for label, group in zip(group_labels(groups), groups)]
    legend_below(fig, [Line2D([], [], color=f"C{i}", label=label) for i, label in enumerate(labels)])
    varied = differences([group.runs[0] for group in groups]) if len(groups) > 1 else []
    what = f"{' × '.join(varied)}: " if varied else ""
    fig.suptitle(f"{what}{len(groups)} settings, mean ± std over seeds")
    return fig


def _diverged(group: Group) -> str:
    """', k diverged' for a group some of whose runs diverged (their curves end where they did)."""
    count = sum(run.summary().get("status") == "diverged" for run in group.runs)
    return f", {count} diverged" if count else ""
