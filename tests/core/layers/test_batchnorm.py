"""Batch normalization: batch statistics in training, running averages in evaluation."""

from __future__ import annotations

import numpy as np
import pytest

from dnnexp.core.layers import ShapeError


@pytest.mark.parametrize("shape, axes", [((3,), (0,)), ((2, 4, 4), (0, 2, 3))], ids=["features", "channels"])
def test_training_output_has_zero_mean_unit_variance_per_feature(build_layer, shape, axes) -> None:
    layer = build_layer({"type": "batchnorm"}, shape)
    x = np.random.default_rng(0).normal(5.0, 3.0, (64, *shape))
    y = layer.forward(x, train=True)
    np.testing.assert_allclose(y.mean(axis=axes), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=axes), 1.0, rtol=1e-4)  # eps makes it a little less than 1


def test_running_averages_follow_the_momentum_only_in_training(build_layer) -> None:
    layer = build_layer({"type": "batchnorm", "momentum": 0.75}, (2,))
    x = np.array([[0.0, 1.0], [2.0, 5.0]])  # means (1, 3), variances (1, 4)
    layer.forward(x, train=True)
    np.testing.assert_allclose(layer.buffers["running_mean"], [0.25, 0.75])
    np.testing.assert_allclose(layer.buffers["running_var"], [0.75 + 0.25, 0.75 + 1.0])
    layer.forward(10 * x, train=False)
    np.testing.assert_allclose(layer.buffers["running_mean"], [0.25, 0.75])


def test_evaluation_normalises_with_the_running_averages(build_layer) -> None:
    layer = build_layer({"type": "batchnorm", "eps": 0.0}, (2,))
    layer.buffers["running_mean"][...] = [1.0, -1.0]
    layer.buffers["running_var"][...] = [4.0, 0.25]
    layer.params["gamma"][...] = [2.0, 1.0]
    layer.params["beta"][...] = [0.0, 3.0]
    np.testing.assert_allclose(layer.forward(np.array([[3.0, 0.0]])), [[2.0, 5.0]])


def test_other_ranks_are_a_shape_error(output_shape) -> None:
    with pytest.raises(ShapeError, match="batchnorm"):
        output_shape({"type": "batchnorm"}, (4, 5))
