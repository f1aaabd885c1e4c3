"""Inverted dropout: a random mask scaled by 1/(1 − rate) in training, the identity in evaluation."""

from __future__ import annotations

import numpy as np
import pytest

RATE = 0.25


def test_evaluation_is_the_identity(build_layer) -> None:
    layer, x = build_layer({"type": "dropout", "rate": RATE}, (10,)), np.ones((3, 10))
    assert layer.forward(x, train=False) is x
    assert layer.backward(x) is x


def test_training_drops_the_rate_and_rescales_the_rest(build_layer) -> None:
    layer = build_layer({"type": "dropout", "rate": RATE}, (1000,), dtype=np.float32)
    x = np.ones((100, 1000), np.float32)
    y = layer.forward(x, train=True)
    assert y.dtype == np.float32
    assert set(np.unique(y)) == {0.0, np.float32(1 / (1 - RATE))}
    assert np.mean(y == 0) == pytest.approx(RATE, abs=0.01)
    assert y.mean() == pytest.approx(1.0, abs=0.01)  # inverted dropout keeps the expectation


def test_backward_applies_the_forward_mask(build_layer) -> None:
    layer = build_layer({"type": "dropout", "rate": RATE}, (50,))
    y = layer.forward(np.ones((4, 50)), train=True)
    np.testing.assert_array_equal(layer.backward(np.full((4, 50), 2.0)), 2.0 * y)


def test_masks_are_seeded_by_the_noise_stream(build_layer) -> None:
    x = np.ones((4, 50))
    first, again, other = (build_layer({"type": "dropout"}, (50,), seed=seed).forward(x, True) for seed in (0, 0, 1))
    assert np.array_equal(first, again) and not np.array_equal(first, other)


def test_rate_zero_never_drops(build_layer) -> None:
    x = np.ones((4, 50))
    assert build_layer({"type": "dropout", "rate": 0.0}, (50,)).forward(x, train=True) is x
