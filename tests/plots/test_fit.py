"""The fit of a one-input model: training points, the learned curve and the true function."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dnnexp.core.activations import Tanh
from dnnexp.core.layers.dense import Dense
from dnnexp.core.models.sequential import Sequential
from dnnexp.data.base import prepare
from dnnexp.data.synthetic import blobs, linear_regression, nonlinear_regression
from dnnexp.errors import DnnexpError
from dnnexp.plots.fit import fit_figure, plot_fit
from dnnexp.runs.rundir import RunDir


def batches(dataset):
    return prepare(dataset, flatten=False, validation=20, subset=None, shuffle_seed=0)


def line_model(a: float, b: float) -> Sequential:
    """t = a·x + b as one dense unit."""
    model = Sequential([Dense(1)], (1,)).build()
    model.params["dense1.W"][...] = a
    model.params["dense1.b"][...] = b
    return model


def test_points_learned_curve_and_true_function(make_run, tmp_path: Path) -> None:
    run = RunDir.open(make_run(task="regression"))
    data = batches(linear_regression(a=2.0, b=1.0, n=100, rng=np.random.default_rng(0)))
    ax = fit_figure(run, line_model(1.5, 0.0), data).axes[0]
    (points,) = ax.collections
    learned, truth = ax.get_lines()
    assert len(points.get_offsets()) == 80  # the training points, validation held out
    assert [learned.get_label(), truth.get_label()] == ["learned", "true function"]
    x = learned.get_xdata()
    np.testing.assert_allclose(learned.get_ydata(), 1.5 * x, rtol=1e-5)
    np.testing.assert_allclose(truth.get_ydata(), 2.0 * x + 1.0, rtol=1e-5)
    assert x.min() < data.train.x.min() and data.train.x.max() < x.max()  # the curves span the data

    out = plot_fit(run, line_model(1.5, 0.0), data, tmp_path / "fit.png")
    assert out.stat().st_size > 5000


def test_the_true_function_comes_from_the_data_set(make_run) -> None:
    data = batches(nonlinear_regression(function="sine", n=100, rng=np.random.default_rng(0)))
    model = Sequential([Dense(8), Tanh(), Dense(1)], (1,)).build()
    _, truth = fit_figure(RunDir.open(make_run(task="regression")), model, data).axes[0].get_lines()
    np.testing.assert_allclose(truth.get_ydata(), np.sin(np.pi * truth.get_xdata()), atol=1e-6)


def test_inputs_of_more_than_one_number_are_refused(make_run) -> None:
    data = batches(blobs(n=50, rng=np.random.default_rng(0)))
    model = Sequential([Dense(3)], (2,)).build()
    with pytest.raises(DnnexpError, match=r"--fit draws a model of one input and one output.*\(2,\) → 3 output"):
        fit_figure(RunDir.open(make_run()), model, data)
