"""Where an attending model looked (course Day 3 §7): one heatmap per attention map, output tokens
down, input tokens across, each cell the weight output token t gave input token s (its row sums to 1).

The picture takes plain data — a title per map, the tokens on each axis — so that any model that
attends (seq2seq's one attention, a transformer's layers and heads) draws the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Sequence

import numpy as np

from dnnexp.plots import new_figure, save_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

MAPS_PER_ROW = 4
CELL = 0.22  # inches a token takes on either axis
#: how a token that is a space (or padding written as one) is labelled, so that it shows
SPACE = "␣"


@dataclass(frozen=True)
class AttentionMaps:
    """One input's attention: its tokens (T_in), the tokens written (T_out), and {title: weights
    (T_out, T_in)}, row t how output token t weighed each input token."""

    inputs: Sequence[str]
    outputs: Sequence[str]
    maps: Mapping[str, np.ndarray]


def token_labels(tokens: Sequence[str]) -> list[str]:
    """Tokens as axis labels: a space (padding, in the character corpora) shown as ␣."""
    return [SPACE if token.strip() == "" else token for token in tokens]


def attention_figure(attention: AttentionMaps, title: str = "") -> Figure:
    """A grid of heatmaps, MAPS_PER_ROW to a row, all on one scale from 0 to 1."""
    inputs, outputs, maps = list(attention.inputs), list(attention.outputs), attention.maps
    for name, weights in maps.items():
        if np.shape(weights) != (len(outputs), len(inputs)):
            raise ValueError(f"{name}: weights {np.shape(weights)} do not match {len(outputs)} output × {len(inputs)} input tokens")
    cols = min(len(maps), MAPS_PER_ROW)
    rows = math.ceil(len(maps) / cols)
    size = (max(2.5, CELL * len(inputs) + 1.0), max(1.5, CELL * len(outputs) + 1.0))
    fig, axes = new_figure(rows, cols, panel_size=size)
    image = None
    for ax, (name, weights) in zip(axes.flat, maps.items()):
        image = ax.imshow(weights, cmap="viridis", vmin=0.0, vmax=1.0, aspect="equal", interpolation="nearest")
        ax.set_xticks(range(len(inputs)), token_labels(inputs), fontsize="small")
        ax.set_yticks(range(len(outputs)), token_labels(outputs), fontsize="small")
        ax.tick_params(length=0)
        ax.set_xlabel("input", fontsize="small")
        ax.set_ylabel("output", fontsize="small")
        ax.set_title(name, fontsize="medium")
    for ax in list(axes.flat)[len(maps):]:
        ax.set_axis_off()
    if image is not None:
        fig.colorbar(image, ax=axes, shrink=0.8, label="attention weight")
    if title:
        fig.suptitle(title, fontsize="medium")
    return fig


def plot_attention(attention: AttentionMaps, out: Path, title: str = "") -> Path:
    """Draw `attention_figure` into `out`, .png or .svg; return `out`."""
    return save_figure(attention_figure(attention, title), out)
