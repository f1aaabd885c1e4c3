"""The Transformer's feed-forward block: max(0, x W1 + b1) W2 + b2 at every step, back to the input's width."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dnnexp.core.layers import ShapeError

ROOT = Path(__file__).parents[3]


def test_every_step_alone_through_the_same_two_dense_layers(build_layer):
    layer = build_layer({"type": "feed_forward", "units": 5}, (3, 4))
    assert {key: value.shape for key, value in layer.params.items()} == {
        "dense1.W": (4, 5), "dense1.b": (5,), "dense2.W": (5, 4), "dense2.b": (4,)
    }
    p = layer.params
    for key in ("dense1.b", "dense2.b"):
        p[key][...] = np.random.default_rng(1).normal(size=p[key].shape)
    x = np.random.default_rng(0).normal(size=(2, 3, 4))
    expected = np.maximum(0.0, x @ p["dense1.W"] + p["dense1.b"]) @ p["dense2.W"] + p["dense2.b"]
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-12)
    assert layer.penalized == ("dense1.W", "dense2.W")


@pytest.mark.parametrize("shape", [(4,), (2, 3, 4)])
def test_only_sequences_of_vectors(output_shape, shape):
    with pytest.raises(ShapeError, match=r"feed_forward takes sequences \(T, D\)"):
        output_shape({"type": "feed_forward", "units": 3}, shape)


def test_float32_stays_float32(build_layer):
    layer = build_layer({"type": "feed_forward", "units": 3}, (2, 4), dtype=np.float32)
    x = np.ones((1, 2, 4), np.float32)
    assert layer.forward(x, train=True).dtype == np.float32 and layer.backward(x).dtype == np.float32


@pytest.mark.parametrize("module", ["dnnexp.core.activations", "dnnexp.core.layers.feedforward", "dnnexp.core.models.transformer"])
def test_importing_any_module_first_makes_no_import_cycle(module):
    """dnnexp.core.activations imports the layers package, which imports this module."""
    result = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
