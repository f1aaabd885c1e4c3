"""Return curves of reinforcement-learning runs (course Day 4 §2): per episode the return's moving
mean, the greedy policy's return at each evaluation, and, in worlds whose optimum is known, how far
the learned Q still is from Q* (log scale). Several runs overlaid, a colour each; runs that differ
only in seed as one mean curve with a band of ± one standard deviation across seeds.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np
import pandas as pd

from dnnexp.errors import RunDirError
from dnnexp.plots import legend_below, line_marker, new_figure, save_figure
from dnnexp.runs.rundir import RunDir
from dnnexp.train.episodes import moving_mean

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: the longest moving-mean window; shorter runs get a twentieth of their episodes
WINDOW_MAX = 100
#: per-episode columns (drawn as moving means) and evaluation columns (drawn where measured), by title
EPISODE_PANELS = {"return": "return", "loss": "loss", "length": "episode length", "epsilon": "ε"}
EVALUATION_PANELS = {"eval_return_mean": "greedy policy's return", "q_error": "max |Q − Q*|"}
DEFAULT_PANELS = ("return", "eval_return_mean", "q_error", "loss")
BAND_ALPHA = 0.2
RAW_ALPHA = 0.25


def is_episodic(run: RunDir) -> bool:
    """Whether a run's metrics.csv has a row per episode (a reinforcement-learning run)."""
    return run.has("metrics.csv") and "episode" in run.metrics().columns


def episodic_runs(runs: Sequence[RunDir]) -> bool:
    """Whether `runs` are runs of episodes; RunDirError for a mix with runs of epochs, whose curves
    share no axis."""
    episodic = [is_episodic(run) for run in runs]
    if any(episodic) and not all(episodic):
        mixed = ", ".join(run.name for run, e in zip(runs, episodic) if not e)
        raise RunDirError(f"{mixed}: runs of epochs cannot share a picture with runs of episodes; plot them apart")
    return all(episodic) and bool(episodic)


def window(frames: Sequence[pd.DataFrame]) -> int:
    """The moving-mean window: a twentieth of the longest run's episodes, at most WINDOW_MAX."""
    longest = max((len(frame) for frame in frames), default=1)
    return int(min(WINDOW_MAX, max(1, longest // 20)))


def statistics(frames: Sequence[pd.DataFrame], column: str, smooth: int) -> pd.DataFrame:
    """Per episode, the mean, std and count over runs of `column` (its moving mean over `smooth`
    episodes for a per-episode column; where measured for an evaluation column)."""
    parts = []
    for frame in frames:
        values = frame[["episode", column]].dropna()
        if column in EPISODE_PANELS and len(values):
            values = values.assign(**{column: moving_mean(values[column].to_numpy(), smooth)})
        parts.append(values)
    stacked = pd.concat(parts, ignore_index=True)
    grouped = stacked.groupby("episode")[column]
    return pd.DataFrame({"mean": grouped.mean(), "std": grouped.std(ddof=1), "n": grouped.count()}).reset_index()


def returns_figure(series: Sequence[tuple[str, Sequence[RunDir]]], title: str, metric: str | None = None) -> Figure:
    """A panel per metric of DEFAULT_PANELS that a run logs (or `metric` alone) for the runs of
    `series`, each (legend label, runs differing only in seed) a colour."""
    frames = [[run.metrics() for run in runs] for _, runs in series]
    columns = {c for group in frames for frame in group for c in frame.columns if frame[c].notna().any()}
    known = {**EPISODE_PANELS, **EVALUATION_PANELS}
    if metric is not None:
        if metric not in columns or metric not in known:
            choices = sorted(columns & set(known))
            raise RunDirError(f"--metric: no run has {metric!r}; choose one of: {', '.join(choices) or '(no episodes yet)'}")
        panels = [metric]
    else:
        panels = [column for column in DEFAULT_PANELS if column in columns]
    if "return" not in columns:
        raise RunDirError(f"{', '.join(run.name for _, runs in series for run in runs)}: metrics.csv has no episodes yet")
    smooth = window([frame for group in frames for frame in group])
    rows = 1 if len(panels) <= 2 else 2
    fig, axes = new_figure(rows, -(-len(panels) // rows), panel_size=(5.0, 3.4))
    for ax in axes.flat[len(panels):]:
        ax.set_axis_off()
    for ax, column in zip(axes.flat, panels):
        shown: list[pd.DataFrame] = []  # each curve drawn, for the y range
        for index, group in enumerate(frames):
            drawn = [frame for frame in group if column in frame.columns]
            if not drawn or not any(frame[column].notna().any() for frame in drawn):
                continue
            colour = f"C{index}"
            if column in EPISODE_PANELS and len(drawn) == 1:
                ax.plot(drawn[0]["episode"], drawn[0][column], color=colour, alpha=RAW_ALPHA, linewidth=0.6)
            stats = statistics(drawn, column, smooth)
            shown.append(stats)
            if column in EVALUATION_PANELS and len(stats) == 1:
                # One evaluation (a planner's short run): a reference level across the panel.
                ax.axhline(stats["mean"].iloc[0], color=colour, linestyle="--", linewidth=1.2)
                continue
            ax.plot(stats["episode"], stats["mean"], color=colour, linewidth=1.6, marker=line_marker(len(stats)), markersize=3)
            # The band: across seeds; for one run's evaluations, across its evaluation episodes.
            spread = stats["std"]
            if len(drawn) == 1 and column == "eval_return_mean" and "eval_return_std" in drawn[0].columns:
                spread = drawn[0]["eval_return_std"].dropna().to_numpy()
            if np.any(np.nan_to_num(spread) > 0):
                ax.fill_between(stats["episode"], stats["mean"] - spread, stats["mean"] + spread, color=colour,
                                alpha=BAND_ALPHA, linewidth=0)
        if column in EPISODE_PANELS:
            _frame_after_the_start(ax, shown)
        name = known[column]
        smoothed = column in EPISODE_PANELS and smooth > 1
        ax.set_title(f"{name}, moving mean of {smooth} episodes" if smoothed else name, fontsize="medium")
        ax.set_xlabel("episode")
        positive = [frame[column].dropna() for group in frames for frame in group if column in frame.columns]
        if column in ("q_error", "loss") and all((values > 0).all() for values in positive) and any(len(v) for v in positive):
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
    if len(series) > 1:
        from matplotlib.lines import Line2D

        legend_below(fig, [Line2D([], [], color=f"C{i}", linewidth=1.6, label=label) for i, (label, _) in enumerate(series)])
    fig.suptitle(title)
    return fig


#: the share of the episodes whose curves may leave the y range: the first returns (CliffWalking's
#: −2,000 before anything is learned) would otherwise flatten the differences that matter
START_SHARE = 0.05


def _frame_after_the_start(ax, curves: Sequence[pd.DataFrame]) -> None:
    """Set the y range to the curves' means after the first START_SHARE of the episodes."""
    last = max((curve["episode"].max() for curve in curves if len(curve)), default=0)
    later = np.concatenate([curve.loc[curve["episode"] > START_SHARE * last, "mean"].to_numpy() for curve in curves] or [[]])
    later = later[np.isfinite(later)]
    if len(later) and ax.get_yscale() == "linear":
        low, high = later.min(), later.max()
        pad = 0.1 * (high - low) or 0.1 * abs(high) or 0.1
        ax.set_ylim(low - pad, high + pad)


def plot_returns(series: Sequence[tuple[str, Sequence[RunDir]]], out: Path, title: str, metric: str | None = None) -> Path:
    """Draw `returns_figure` into `out` (.png or .svg); return `out`."""
    return save_figure(returns_figure(series, title, metric), out)
