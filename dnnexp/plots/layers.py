"""Inside the network: per-layer statistics over training, and histograms of activations.

`plot_layer_stats` is the picture of vanishing (or exploding) gradients: one line per layer,
coloured from input (dark) to output (light), gradient norms on a log scale. `plot_activations`
is the course's Day 2 §1 picture: a histogram of each activation layer's outputs on a fixed probe
batch, before and after training.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from dnnexp.errors import RunDirError
from dnnexp.plots import line_marker, new_figure, save_figure
from dnnexp.runs.rundir import RunDir

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# column of layer_stats.csv → (panel title, y scale)
STAT_PANELS = {
    "act_mean": ("activation mean", "linear"),
    "act_std": ("activation std", "linear"),
    "grad_norm": ("parameter gradient norm", "log"),
    "dout_norm": ("output gradient norm", "log"),
}
HISTOGRAM_BINS = 30


def _missing(run: RunDir, filename: str) -> RunDirError:
    return RunDirError(
        f"{run.path}: no {filename}; set `logging.layer_stats: true` in the spec and rerun `dnnexp train`"
    )


def plot_layer_stats(run: RunDir, out: Path) -> Path:
    """Draw the layer statistics of `run` (see `layer_stats_figure`) into `out`, .png or .svg; return `out`."""
    return save_figure(layer_stats_figure(run), out)


def layer_stats_figure(run: RunDir) -> Figure:
    """Per-layer activation mean and std and gradient norms against epoch, one line per layer."""
    stats = run.table("layer_stats.csv")
    if stats.empty:
        raise _missing(run, "layer_stats.csv")
    from matplotlib import colormaps

    layers = list(stats.groupby("layer", sort=False))
    colours = colormaps["viridis"](np.linspace(0.0, 0.85, len(layers)))
    fig, axes = new_figure(2, 2, panel_size=(3.4, 2.6), sharex=True)
    for ax, (column, (title, scale)) in zip(axes.flat, STAT_PANELS.items()):
        for colour, (layer, rows) in zip(colours, layers):
            # Parameterless layers have no parameter gradient: their grad_norm cells are empty.
            if rows[column].notna().any():
                ax.plot(rows["epoch"], rows[column], color=colour, label=layer,
                        marker=line_marker(len(rows)), markersize=3)
        ax.set_yscale(scale)
        ax.set_title(title)
        ax.grid(alpha=0.3)
    for ax in axes[-1]:
        ax.set_xlabel("epoch")
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside right center", fontsize="small",
               title="layer, input → output", title_fontsize="small", frameon=False)
    fig.suptitle(f"{run.name}: layer statistics")
    return fig


def plot_activations(run: RunDir, out: Path) -> Path:
    """Draw the activation histograms of `run` (see `activations_figure`) into `out`, .png or .svg; return `out`."""
    return save_figure(activations_figure(run), out)


def activations_figure(run: RunDir) -> Figure:
    """Histograms of each activation layer's outputs on the probe batch, one row per stage (init, final)."""
    if not run.has("activations.npz"):
        raise _missing(run, "activations.npz")
    samples: dict[str, dict[str, np.ndarray]] = {}  # stage → layer → values
    for key, values in run.load_npz("activations.npz").items():
        stage, _, layer = key.partition("/")
        if not layer:
            raise RunDirError(
                f"{run.file('activations.npz')}: key {key!r} is not 'init/<layer>' or 'final/<layer>'; "
                "rerun `dnnexp train` to rewrite it"
            )
        samples.setdefault(stage, {})[layer] = values.ravel()
    layers = list(dict.fromkeys(layer for by_layer in samples.values() for layer in by_layer))

    fig, axes = new_figure(len(samples), len(layers), panel_size=(2.4, 1.9), sharex="col")
    for col, layer in enumerate(layers):
        values = [by_layer.get(layer, np.empty(0)) for by_layer in samples.values()]
        finite = np.concatenate([v[np.isfinite(v)] for v in values])
        # One range per layer, so the init and final histograms line up (sigmoid outputs: ~[0, 1]).
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        span = (lo, hi if hi > lo else lo + 1.0)
        for row, (stage, layer_values) in enumerate(zip(samples, values)):
            ax = axes[row, col]
            ax.hist(layer_values[np.isfinite(layer_values)], bins=HISTOGRAM_BINS, range=span, color=f"C{row}")
            ax.set_xlim(span)
            ax.set_title(layer if row == 0 else "", fontsize="medium")
            ax.set_ylabel(stage if col == 0 else "")
            ax.tick_params(labelsize="small")
    fig.suptitle(f"{run.name}: activations")
    return fig
