"""Layer normalization: each sample's (each step's) own statistics, the same in training and evaluation."""

from __future__ import annotations

import numpy as np
import pytest

from dnnexp.core.layers import ShapeError


@pytest.mark.parametrize("shape", [(6,), (3, 6)], ids=["features", "steps"])
def test_each_sample_and_step_has_zero_mean_unit_variance(build_layer, shape):
    layer = build_layer({"type": "layer_norm"}, shape)
    x = np.random.default_rng(0).normal(5.0, 3.0, (4, *shape))
    x[0] *= 100.0  # one sample's scale does not reach the others
    y = layer.forward(x, train=True)
    np.testing.assert_allclose(y.mean(axis=-1), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=-1), 1.0, rtol=1e-3)  # eps makes it a little less than 1
    np.testing.assert_array_equal(layer.forward(x, train=False), y)


def test_gamma_and_beta_scale_and_shift_every_feature(build_layer):
    layer = build_layer({"type": "layer_norm", "eps": 0.0}, (2,))
    layer.params["gamma"][...] = [2.0, 3.0]
    layer.params["beta"][...] = [1.0, -1.0]
    np.testing.assert_allclose(layer.forward(np.array([[1.0, 3.0], [5.0, -5.0]])), [[-1.0, 2.0], [3.0, -4.0]])


def test_a_batch_of_one_in_float32(build_layer):
    layer = build_layer({"type": "layer_norm"}, (2, 3), dtype=np.float32)
    x = np.arange(6, dtype=np.float32).reshape(1, 2, 3)
    y = layer.forward(x, train=True)
    assert y.dtype == np.float32 and np.isfinite(y).all()
    assert layer.backward(np.ones_like(y)).dtype == np.float32 and layer.grads["gamma"].dtype == np.float32


def test_scalars_are_a_shape_error(output_shape):
    with pytest.raises(ShapeError, match="layer_norm"):
        output_shape({"type": "layer_norm"}, ())
