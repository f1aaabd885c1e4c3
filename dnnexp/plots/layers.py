"""Inside the network: per-layer statistics over training, and histograms of activations.

`plot_layer_stats` is the picture of vanishing (or exploding) gradients: one line per layer, a
colour and marker each, listed from input to output, gradient norms on a log scale. `plot_activations`
is the course's Day 2 §1 picture: a histogram of each activation layer's outputs on a fixed probe
batch, before and after training.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from dnnexp.core.activations import Activation
from dnnexp.core.kinds import declared
from dnnexp.errors import RunDirError
from dnnexp.plots import integer_epochs, new_figure, save_figure
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
# Neighbouring layers get different colours (the ten of matplotlib's cycle) and markers; eleven
# markers against ten colours, so no two of the first 110 layers look alike.
LAYER_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", "h", ">")
MARKERS_PER_LINE = 12


def _missing(run: RunDir, filename: str) -> RunDirError:
    return RunDirError(
        f"{run.path}: no {filename}; a supervised run records it: set `logging.layer_stats: true` in its spec "
        "and rerun `dnnexp train`"
    )


def plot_layer_stats(run: RunDir, out: Path) -> Path:
    """Draw the layer statistics of `run` (see `layer_stats_figure`) into `out`, .png or .svg; return `out`."""
    return save_figure(layer_stats_figure(run), out)


def layer_stats_figure(run: RunDir) -> Figure:
    """Per-layer activation mean and std and gradient norms against epoch, one line per layer."""
    stats = run.table("layer_stats.csv")
    if stats.empty:
        raise _missing(run, "layer_stats.csv")
    layers = list(stats.groupby("layer", sort=False))
    fig, axes = new_figure(2, 2, panel_size=(3.4, 2.6), sharex=True)
    for ax, (column, (title, scale)) in zip(axes.flat, STAT_PANELS.items()):
        for index, (layer, rows) in enumerate(layers):
            # Parameterless layers have no parameter gradient: their grad_norm cells are empty.
            if rows[column].notna().any():
                ax.plot(rows["epoch"], rows[column], color=f"C{index % 10}", label=layer,
                        marker=LAYER_MARKERS[index % len(LAYER_MARKERS)], markersize=4,
                        markevery=max(1, len(rows) // MARKERS_PER_LINE))
        ax.set_yscale(scale)
        ax.set_title(title)
        integer_epochs(ax)
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


def layer_kind(name: str) -> str:
    """A layer's kind from the name a model gives it, `<prefix.>kind<count>`: decoder.softmax1 → softmax."""
    return re.sub(r"\d+$", "", name.rsplit(".", 1)[-1])


def activation_span(kind: str, values: np.ndarray) -> tuple[float, float, float | None]:
    """The x range of a histogram of `kind`'s outputs, and the middle to mark: the activation's own
    bounds where it has them ([0, 1] for sigmoid, [−1, 1] for tanh), so outputs bunched at 0.5
    look bunched; the data's extent on an unbounded side (relu's top); the data's alone for a
    layer of unknown kind."""
    activation = declared(Activation).get(kind)
    low, high = activation.output_range if activation is not None else (None, None)
    finite = values[np.isfinite(values)]
    data_low, data_high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    low = data_low if low is None else low
    high = data_high if high is None else high
    return low, (high if high > low else low + 1.0), getattr(activation, "centre", None)


def activations_figure(run: RunDir) -> Figure:
    """Histograms of each activation layer's outputs on the probe batch, one row per stage (init,
    final), each drawn over its activation's range with its middle marked."""
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
    if not layers:
        # Models whose nonlinearities live inside their layers (an LSTM's gates, a feed-forward block's ReLU).
        raise RunDirError(
            f"{run.path}: the model has no activation layers of its own to draw; "
            "`--layer-stats` shows every layer's statistics"
        )
    kinds = {layer: layer_kind(layer) for layer in layers}

    fig, axes = new_figure(len(samples), len(layers), panel_size=(2.4, 1.9), sharex="col")
    for col, layer in enumerate(layers):
        values = [by_layer.get(layer, np.empty(0)) for by_layer in samples.values()]
        # One range per layer, so the init and final histograms line up.
        low, high, centre = activation_span(kinds[layer], np.concatenate(values))
        for row, (stage, layer_values) in enumerate(zip(samples, values)):
            ax = axes[row, col]
            ax.hist(layer_values[np.isfinite(layer_values)], bins=HISTOGRAM_BINS, range=(low, high), color=f"C{row}")
            if centre is not None:
                ax.axvline(centre, color="0.2", linestyle=":", linewidth=1)
            ax.set_xlim(low, high)
            ax.set_title(layer if row == 0 else "", fontsize="medium")
            ax.set_ylabel(f"{stage}: count" if col == 0 else "", fontsize="small")
            ax.tick_params(labelsize="small")
        axes[-1, col].set_xlabel(f"{kinds[layer]} output", fontsize="small")
    marked = any(ax.lines for ax in axes.flat)
    fig.suptitle(f"{run.name}: activations" + (" (dotted: the output for input 0)" if marked else ""))
    return fig
