"""Sinusoidal positional encoding: the paper's table, added to each step; shorter sequences read its first rows."""

from __future__ import annotations

import numpy as np
import pytest

from dnnexp.core.layers import ShapeError
from dnnexp.core.layers.positional import sinusoids


def test_the_table_is_the_papers_formula():
    table = sinusoids(50, 6)
    pos = np.arange(50)
    for i in range(3):
        rate = 10000.0 ** (-2 * i / 6)
        np.testing.assert_allclose(table[:, 2 * i], np.sin(pos * rate))
        np.testing.assert_allclose(table[:, 2 * i + 1], np.cos(pos * rate))
    np.testing.assert_allclose(sinusoids(4, 5)[:, 4], np.sin(np.arange(4) * 10000.0 ** (-4 / 5)))  # an odd width ends with a sine


def test_moving_k_steps_rotates_each_pair_by_an_angle_that_depends_on_k_alone():
    table, k = sinusoids(40, 8), 7
    for i in range(4):
        angle = k * 10000.0 ** (-2 * i / 8)
        # (sin, cos)(a + b) = (sin a cos b + cos a sin b, cos a cos b − sin a sin b)
        rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        pair = table[:, 2 * i : 2 * i + 2]
        np.testing.assert_allclose(pair[:-k] @ rotation, pair[k:], atol=1e-12)


def test_each_step_gets_its_row_and_the_gradient_passes_unchanged(build_layer):
    layer = build_layer({"type": "positional_encoding"}, (5, 4), dtype=np.float32)
    x = np.random.default_rng(0).normal(size=(3, 5, 4)).astype(np.float32)
    y = layer.forward(x)
    assert y.dtype == np.float32 and not layer.params
    np.testing.assert_allclose(y - x, np.broadcast_to(sinusoids(5, 4), (3, 5, 4)), atol=1e-6)
    np.testing.assert_array_equal(layer.forward(x[:, :2]), y[:, :2])  # a decoder's first steps
    dout = np.ones_like(x)
    assert layer.backward(dout) is dout


@pytest.mark.parametrize("shape", [(4,), (2, 3, 4)])
def test_only_sequences_of_vectors(output_shape, shape):
    with pytest.raises(ShapeError, match=r"positional_encoding takes sequences \(T, D\)"):
        output_shape({"type": "positional_encoding"}, shape)
