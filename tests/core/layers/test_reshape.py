"""Flatten: images to vectors and back, in NCHW order, the gradient laid out in memory as the input."""

from __future__ import annotations

import numpy as np

from dnnexp.core.gradcheck import check_layer

TOLERANCE = 1e-6


def test_flatten_keeps_channel_row_column_order(build_layer) -> None:
    layer = build_layer({"type": "flatten"}, (2, 3, 4))
    x = np.arange(48.0).reshape(2, 2, 3, 4)
    np.testing.assert_array_equal(layer.forward(x), x.reshape(2, 24))
    np.testing.assert_array_equal(layer.backward(x.reshape(2, 24)), x)
    assert check_layer(layer, np.random.default_rng(4).normal(size=(1, 2, 3, 4)))["x"] < TOLERANCE


def test_flatten_of_a_flat_input_changes_nothing(build_layer) -> None:
    layer = build_layer({"type": "flatten"}, (5,))
    x = np.arange(10.0).reshape(2, 5)
    np.testing.assert_array_equal(layer.forward(x), x)


def test_flatten_gives_the_gradient_back_laid_out_as_its_input(build_layer) -> None:
    """Channels-last in memory after a convolution (a transposed view, the axes NCHW): dx comes
    back so, that the layers below never pass over arrays of two memory orders at once."""
    layer = build_layer({"type": "flatten"}, (2, 3, 4))
    x = np.arange(48.0).reshape(2, 3, 4, 2).transpose(0, 3, 1, 2)
    flat = layer.forward(x)
    np.testing.assert_array_equal(flat, np.ascontiguousarray(x).reshape(2, 24))
    dx = layer.backward(flat)
    np.testing.assert_array_equal(dx, x)
    assert dx.strides == x.strides
    contiguous = np.ascontiguousarray(x)
    layer.forward(contiguous)
    assert np.shares_memory(layer.backward(flat), flat)  # already in its input's order: a view, no copy
