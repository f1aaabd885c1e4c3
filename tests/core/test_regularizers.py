"""Weight penalties and gradient clipping."""

from __future__ import annotations

import numpy as np
import pytest

from dnnexp.core.regularizers import clip_by_global_norm
from dnnexp.spec.registry import REGULARIZERS

W = np.array([[1.0, -2.0], [0.0, 3.0]])


@pytest.mark.parametrize(
    "name, loss, grad",
    [
        ("l2", 0.5 * 0.1 * 14.0, 0.1 * W),
        ("l1", 0.1 * 6.0, 0.1 * np.array([[1.0, -1.0], [0.0, 1.0]])),  # sign(0) = 0: no push at zero
    ],
)
def test_penalty_value_and_gradient_added_in_place(name: str, loss: float, grad: np.ndarray) -> None:
    penalty, existing = REGULARIZERS.build({"name": name, "lam": 0.1}), np.ones_like(W)
    assert penalty.loss(W) == pytest.approx(loss)
    penalty.add_grad(W, existing)
    np.testing.assert_allclose(existing, 1.0 + grad)


def test_clipping_scales_all_gradients_together_and_returns_the_norm_before() -> None:
    grads = {"a": np.array([3.0, 0.0], np.float32), "b": np.array([[0.0], [4.0]], np.float32)}
    arrays = dict(grads)
    assert clip_by_global_norm(grads, 1.0) == pytest.approx(5.0)
    np.testing.assert_allclose(grads["a"], [0.6, 0.0], rtol=1e-6)
    np.testing.assert_allclose(grads["b"], [[0.0], [0.8]], rtol=1e-6)
    assert all(grads[key] is arrays[key] and grads[key].dtype == np.float32 for key in grads)


def test_gradients_within_the_norm_are_left_alone() -> None:
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([0.0, 4.0])}
    assert clip_by_global_norm(grads, 5.0) == pytest.approx(5.0)
    np.testing.assert_array_equal(grads["a"], [3.0, 0.0])
    np.testing.assert_array_equal(grads["b"], [0.0, 4.0])
