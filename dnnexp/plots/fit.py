"""The fit of a model of one input: the training points, the curve the model learned, and the
function the data were drawn around (course Day 1's regression, Day 4's linear regression)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from dnnexp.core.models.base import Model
from dnnexp.core.models.sequential import Sequential
from dnnexp.data.base import Batches
from dnnexp.errors import DnnexpError
from dnnexp.plots import new_figure, save_figure
from dnnexp.runs.rundir import RunDir

if TYPE_CHECKING:
    from matplotlib.figure import Figure

GRID = 400  # points along x where the model and the true function are evaluated
MARGIN = 0.05  # the curves reach this share of the data's x extent beyond it on each side


def plot_fit(run: RunDir, model: Model, data: Batches, out: Path) -> Path:
    """Draw the fit of `run`'s trained `model` to `data` (see `fit_figure`) into `out`; return `out`."""
    return save_figure(fit_figure(run, model, data), out)


def fit_figure(run: RunDir, model: Model, data: Batches) -> Figure:
    """The training points (N, 1) → (N, 1), the model's output along x, and the data's true
    function where it has one; refuses data whose samples are not a single number each."""
    if data.input_shape != (1,) or data.num_outputs != 1 or not isinstance(model, Sequential):
        raise DnnexpError(
            f"{run.path}: --fit draws a model of one input and one output against its data, and this run's "
            f"samples are {data.input_shape} → {data.num_outputs} output(s); plot its learning curves "
            "(no option) or --layer-stats instead"
        )
    x, t = data.train.batch(slice(None))
    low, high = float(x.min()), float(x.max())
    margin = MARGIN * max(high - low, 1.0)
    grid = np.linspace(low - margin, high + margin, GRID, dtype=np.float32)[:, None]

    fig, axes = new_figure(1, 1, panel_size=(5.0, 3.6))
    ax = axes[0, 0]
    ax.scatter(x[:, 0], t.reshape(len(t), -1)[:, 0], s=10, color="0.6", alpha=0.7, label=f"training data ({len(x)})")
    ax.plot(grid[:, 0], model.forward(grid, train=False)[:, 0], color="C0", linewidth=2, label="learned")
    if data.truth is not None:
        ax.plot(grid[:, 0], data.truth(grid)[:, 0], color="black", linestyle="--", linewidth=1.2,
                label="true function")
    ax.set_xlabel("x")
    ax.set_ylabel("t")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    fig.suptitle(f"{run.name}: fit")
    return fig
