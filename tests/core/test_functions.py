"""The shared elementwise functions: the in-place sigmoid the recurrent cells use against the plain one."""

from __future__ import annotations

import numpy as np

from dnnexp.core.functions import sigmoid, sigmoid_


def test_the_in_place_sigmoid_is_the_sigmoid_written_into_its_input() -> None:
    x = np.random.default_rng(0).normal(0.0, 6.0, (50, 7))
    expected = sigmoid(x)
    out = sigmoid_(x)
    assert out is x
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-15)


def test_the_in_place_sigmoid_keeps_float32_and_never_overflows() -> None:
    x = np.array([-1000.0, -20.0, 0.0, 20.0, 1000.0], np.float32)
    out = sigmoid_(x.copy())
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, sigmoid(x), atol=1e-7)
    assert out[0] == 0.0 and out[-1] == 1.0
