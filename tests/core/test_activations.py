"""Activation functions: values at known points, float32 kept, no overflow at large inputs."""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import pytest

from dnnexp.core.functions import log_softmax, sigmoid, softmax
from dnnexp.spec.registry import ACTIVATIONS

X = [-2.0, -0.5, 0.0, 0.5, 2.0]

#: per registered activation: its textbook definition on a list of numbers
REFERENCES: dict[str, Callable[[list[float]], list[float]]] = {
    "identity": lambda x: x,
    "step": lambda x: [1.0 if u > 0 else 0.0 for u in x],
    "sigmoid": lambda x: [1 / (1 + math.exp(-u)) for u in x],
    "tanh": lambda x: [math.tanh(u) for u in x],
    "relu": lambda x: [max(0.0, u) for u in x],
    "leaky_relu": lambda x: [u if u > 0 else 0.01 * u for u in x],
    "softmax": lambda x: [math.exp(u) / sum(math.exp(v) for v in x) for u in x],
}


@pytest.mark.parametrize("name", ACTIVATIONS.names())
def test_values_match_the_definition(name: str) -> None:
    assert name in REFERENCES, f"activation '{name}' has no reference: add its definition to REFERENCES in {__file__}"
    np.testing.assert_allclose(ACTIVATIONS.build(name).forward(np.array([X])), [REFERENCES[name](X)], rtol=1e-12)


@pytest.mark.parametrize("name", ACTIVATIONS.names())
def test_float32_stays_float32(name: str) -> None:
    activation, x = ACTIVATIONS.build(name), np.array([X], np.float32)
    assert activation.forward(x).dtype == np.float32
    assert activation.backward(np.ones_like(x)).dtype == np.float32


def test_sigmoid_does_not_overflow() -> None:
    with np.errstate(over="raise"):
        np.testing.assert_array_equal(sigmoid(np.array([-1000.0, 1000.0])), [0.0, 1.0])


def test_softmax_of_large_logits_is_finite_and_sums_to_one() -> None:
    with np.errstate(over="raise"):
        y = softmax(np.array([[1000.0, 0.0], [0.0, 0.0]]))
    np.testing.assert_allclose(y, [[1.0, 0.0], [0.5, 0.5]])


def test_log_softmax_is_the_log_of_softmax_without_its_zeros() -> None:
    u = np.array([[1.0, 2.0, 3.0]])
    np.testing.assert_allclose(log_softmax(u), np.log(softmax(u)))
    np.testing.assert_allclose(log_softmax(np.array([[1000.0, 0.0]])), [[0.0, -1000.0]])


@pytest.mark.parametrize("name", ACTIVATIONS.names())
def test_outputs_stay_in_the_declared_range_and_the_centre_is_the_output_of_zero(name: str) -> None:
    activation = ACTIVATIONS.build(name)
    low, high = activation.output_range
    y = activation.forward(np.random.default_rng(0).normal(scale=20, size=(50, 10)).astype(np.float32))
    assert (low is None or y.min() >= low) and (high is None or y.max() <= high)
    if activation.centre is not None:
        assert activation.forward(np.zeros((1, 1), np.float32))[0, 0] == pytest.approx(activation.centre)
