"""Losses: values at known points, stability of the fused forms, target forms, accuracy."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dnnexp.core.gradcheck import check_loss
from dnnexp.core.losses import accuracy, one_hot
from dnnexp.spec.registry import ACTIVATIONS, LOSSES

LABELS = np.array([2, 0])
ONE_HOT = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])


def test_mse_is_half_the_squared_error_averaged_over_the_batch() -> None:
    mse = LOSSES.build("mse")
    assert mse.forward(np.array([[1.0, 2.0], [0.0, 0.0]]), np.array([[0.0, 0.0], [0.0, 3.0]])) == pytest.approx(3.5)
    np.testing.assert_allclose(mse.backward(), [[0.5, 1.0], [0.0, -1.5]])


@pytest.mark.parametrize("logits", [False, True], ids=["plain", "fused"])
@pytest.mark.parametrize(
    "name, probability, t, expected",
    [
        ("cross_entropy", 1 / 3, LABELS, math.log(3)),  # one of three classes
        ("binary_cross_entropy", 0.5, np.eye(2, 3), 3 * math.log(2)),  # one of two, for each of three outputs
    ],
)
def test_an_even_guess_costs_the_log_of_the_choices(
    name: str, probability: float, t: np.ndarray, expected: float, logits: bool
) -> None:
    loss = LOSSES.build(name)
    forward = loss.forward_logits if logits else loss.forward
    # Zero logits are that even guess through softmax and sigmoid.
    assert forward(np.zeros((2, 3)) if logits else np.full((2, 3), probability), t) == pytest.approx(expected)


@pytest.mark.parametrize(
    "name, u, t, expected",
    [
        ("cross_entropy", [[1000.0, 0.0]], np.array([1]), 1000.0),
        ("cross_entropy", [[1000.0, 0.0]], np.array([0]), 0.0),
        ("binary_cross_entropy", [[-1000.0]], np.array([1.0]), 1000.0),
        ("binary_cross_entropy", [[1000.0]], np.array([1.0]), 0.0),
    ],
)
def test_fused_losses_stay_finite_at_extreme_logits(name: str, u: list, t: np.ndarray, expected: float) -> None:
    loss = LOSSES.build(name)
    with np.errstate(over="raise", divide="raise"):
        assert loss.forward_logits(np.array(u), t) == pytest.approx(expected)
        assert np.all(np.isfinite(loss.backward_logits()))


@pytest.mark.parametrize("logits", [False, True], ids=["plain", "fused"])
def test_labels_and_one_hot_targets_agree(logits: bool) -> None:
    loss, u = LOSSES.build("cross_entropy"), np.random.default_rng(0).normal(size=(2, 3))
    forward, backward = (loss.forward_logits, loss.backward_logits) if logits else (loss.forward, loss.backward)
    y = u if logits else ACTIVATIONS.build("softmax").forward(u)
    values = [(forward(y, t), backward()) for t in (LABELS, ONE_HOT)]
    assert values[0][0] == pytest.approx(values[1][0])
    np.testing.assert_allclose(values[0][1], values[1][1])


def test_binary_targets_may_be_a_vector_for_one_output() -> None:
    loss, y = LOSSES.build("binary_cross_entropy"), np.array([[0.2], [0.9]])
    assert loss.forward(y, np.array([0.0, 1.0])) == pytest.approx(loss.forward(y, np.array([[0.0], [1.0]])))


@pytest.mark.parametrize(
    "name, y, t, expected",
    [
        ("cross_entropy", [[0.1, 0.2, 0.7], [0.5, 0.4, 0.1]], LABELS, 1.0),
        ("cross_entropy", [[0.1, 0.2, 0.7], [0.3, 0.6, 0.1]], ONE_HOT, 0.5),
        ("binary_cross_entropy", [[0.9], [0.4], [0.6]], np.array([1.0, 1.0, 0.0]), 1 / 3),
        ("mse", [[0.9]], np.array([1.0]), None),
        # A sequence of bits counts only when every bit is right: 7 of 8 is a wrong sum.
        ("binary_cross_entropy", [[[0.9], [0.2], [0.8]], [[0.9], [0.6], [0.8]]], np.array([[[1], [0], [1]]] * 2), 0.5),
        # Labels per time step (N, T) against (N, T, K) outputs: every step counts.
        ("cross_entropy", [[[0.9, 0.1], [0.2, 0.8]], [[0.3, 0.7], [0.6, 0.4]]], np.array([[0, 1], [0, 0]]), 0.75),
    ],
)
def test_accuracy(name: str, y: list, t: np.ndarray, expected: float | None) -> None:
    assert LOSSES.build(name).accuracy(np.array(y), t) == expected


def test_accuracy_follows_the_targets_task_whatever_the_loss() -> None:
    """mse on 0/1 targets (the course's binary addition) is judged as a binary task."""
    y, t = np.array([[0.7, 0.2], [0.4, 0.1]]), np.array([[1.0, 0.0], [1.0, 0.0]])
    assert accuracy(y, t, "binary") == 0.5
    assert accuracy(y, t.argmax(axis=1), "multiclass") == 1.0


@pytest.mark.parametrize("name", LOSSES.names())
def test_output_activation_is_a_registered_activation(name: str) -> None:
    assert LOSSES.build(name).output_activation in ACTIVATIONS


def test_one_hot() -> None:
    np.testing.assert_array_equal(one_hot(LABELS, 3, np.float32), ONE_HOT)
    assert one_hot(LABELS, 3, np.float32).dtype == np.float32
    assert one_hot(ONE_HOT, 3, np.float32).dtype == np.float32


@pytest.mark.parametrize("logits", [False, True], ids=["plain", "fused"])
def test_cross_entropy_of_labels_per_time_step_sums_the_steps(logits: bool) -> None:
    rng = np.random.default_rng(5)
    u, t = rng.normal(size=(3, 4, 5)), rng.integers(0, 5, (3, 4))
    loss = LOSSES.build("cross_entropy")
    y = u if logits else ACTIVATIONS.build("softmax").forward(u)
    forward = loss.forward_logits if logits else loss.forward
    per_step = [forward(y[:, k], t[:, k]) for k in range(4)]
    assert forward(y, t) == pytest.approx(sum(per_step))
    assert check_loss(loss, y, t, logits=logits) < 1e-6


def test_huber_is_half_the_square_inside_delta_and_linear_beyond() -> None:
    huber = LOSSES.build({"name": "huber", "delta": 2.0})
    y, t = np.array([[1.0], [5.0], [-3.0]]), np.zeros(3)
    # ½·1², 2·(5 − 1), 2·(3 − 1), averaged over the 3 samples
    assert huber.forward(y, t) == pytest.approx((0.5 + 8.0 + 4.0) / 3)
    np.testing.assert_allclose(huber.backward(), [[1 / 3], [2 / 3], [-2 / 3]])


def test_huber_keeps_float32() -> None:
    huber = LOSSES.build("huber")
    huber.forward(np.ones((2, 1), np.float32), np.zeros(2, np.float32))
    assert huber.backward().dtype == np.float32
