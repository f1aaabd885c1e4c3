"""Inside a trained convolutional network: the first layer's filters, and what each conv layer
makes of one image (course Day 2 §4).

Both draw a model rebuilt from a run (the supervised task's `rebuild`): the filters are its first
conv layer's weights W (filters, C, f_h, f_w); the feature maps are the outputs, for one image, of
each conv layer after its activation.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from dnnexp.core.activations import Activation
from dnnexp.core.layers.conv import Conv2D
from dnnexp.errors import RunDirError
from dnnexp.plots import new_figure, save_figure
from dnnexp.runs.rundir import RunDir

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from dnnexp.core.models.sequential import Sequential

MAX_MAPS = 16  # feature maps drawn per conv layer (its first channels)
MAPS_PER_ROW = 8


def conv_layers(run: RunDir, model: Sequential) -> list[Conv2D]:
    """The model's conv layers in order; a RunDirError if it has none."""
    found = [layer for layer in model.layers if isinstance(layer, Conv2D)]
    if not found:
        raise RunDirError(
            f"{run.path}: the model has no conv2d layer; --filters and --feature-maps draw convolutional networks"
        )
    return found


def plot_filters(run: RunDir, model: Sequential, out: Path) -> Path:
    """Draw the first conv layer's filters (see `filters_figure`) into `out`, .png or .svg; return `out`."""
    return save_figure(filters_figure(run, model), out)


def filters_figure(run: RunDir, model: Sequential) -> Figure:
    """The first conv layer's filters in a grid, each scaled to its own range: grey for one input
    channel, colour for three (RGB), the mean over channels otherwise."""
    layer = conv_layers(run, model)[0]
    W = layer.params["W"]  # (filters, C, f_h, f_w)
    if W.shape[1] == 3:
        images = W.transpose(0, 2, 3, 1)  # (filters, f_h, f_w, RGB)
    else:
        images = W.mean(axis=1)
    low = images.min(axis=tuple(range(1, images.ndim)), keepdims=True)
    high = images.max(axis=tuple(range(1, images.ndim)), keepdims=True)
    images = (images - low) / np.maximum(high - low, 1e-12)
    cols = math.ceil(math.sqrt(len(images)))
    rows = math.ceil(len(images) / cols)
    fig, axes = new_figure(rows, cols, panel_size=(0.8, 0.8))
    for index, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if index < len(images):
            ax.imshow(images[index], cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    channels = "RGB" if W.shape[1] == 3 else "grey" if W.shape[1] == 1 else f"mean of {W.shape[1]} channels"
    fig.suptitle(f"{run.name}: {layer.name} filters, {W.shape[2]}×{W.shape[3]} ({channels})", fontsize="medium")
    return fig


def plot_feature_maps(run: RunDir, model: Sequential, image: np.ndarray, caption: str, out: Path) -> Path:
    """Draw one image's feature maps (see `feature_maps_figure`) into `out`, .png or .svg; return `out`."""
    return save_figure(feature_maps_figure(run, model, image, caption), out)


def feature_maps_figure(run: RunDir, model: Sequential, image: np.ndarray, caption: str) -> Figure:
    """The image (1, C, H, W), then per conv layer its first MAX_MAPS output channels for that
    image, after the layer's activation where one follows it, MAPS_PER_ROW to a row, each map
    on its own colour scale."""
    from matplotlib.figure import Figure

    layers = conv_layers(run, model)
    model.keep_outputs = True
    try:
        model.forward(image, train=False)
        outputs = dict(model.outputs)
    finally:
        model.keep_outputs = False
        model.outputs.clear()
    blocks = []  # (title, maps (k, OH, OW)) per conv layer
    for layer in layers:
        shown = _after_activation(model, layer)
        maps = outputs[shown][0]
        name = layer.name if shown == layer.name else f"{layer.name} → {shown}"
        count = f"first {MAX_MAPS} of {len(maps)}" if len(maps) > MAX_MAPS else f"{len(maps)}"
        blocks.append((f"{name}: {count} maps, {maps.shape[1]}×{maps.shape[2]}", maps[:MAX_MAPS]))
    heights = [1] + [math.ceil(len(maps) / MAPS_PER_ROW) for _, maps in blocks]
    fig = Figure(figsize=(0.9 * MAPS_PER_ROW, 1.25 * sum(heights) + 0.4), layout="constrained")
    # A sub-figure per block, so that a block's title spans its row instead of widening one column.
    panels = fig.subfigures(len(heights), 1, height_ratios=heights)
    picture = image[0].transpose(1, 2, 0)  # (H, W, C) for imshow
    first = _panel_axes(panels[0], 1, f"input: {caption}" if caption else "input")[0]
    first.imshow(picture[:, :, 0] if picture.shape[2] == 1 else picture, cmap="gray", interpolation="nearest")
    for panel, rows, (title, maps) in zip(panels[1:], heights[1:], blocks):
        for ax, feature_map in zip(_panel_axes(panel, rows, title), maps):
            # One that is 0 everywhere (a ReLU unit this image leaves silent) shows dark, not blank.
            low = float(feature_map.min())
            high = max(float(feature_map.max()), low + 1e-6)
            ax.imshow(feature_map, cmap="viridis", vmin=low, vmax=high, interpolation="nearest")
    fig.suptitle(f"{run.name}: feature maps of one test image", fontsize="medium")
    return fig


def _panel_axes(panel, rows: int, title: str) -> np.ndarray:
    """A (rows, MAPS_PER_ROW) grid of bare axes in sub-figure `panel`, titled at its left; flat."""
    axes = panel.subplots(rows, MAPS_PER_ROW, squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    panel.suptitle(title, x=0.01, ha="left", fontsize="small")
    return axes.ravel()


def _after_activation(model: Sequential, layer: Conv2D) -> str:
    """The name of the layer whose output shows `layer`'s maps: its activation, if one follows it."""
    following = model.layers[model.layers.index(layer) + 1 :][:1]
    return following[0].name if following and isinstance(following[0], Activation) else layer.name
