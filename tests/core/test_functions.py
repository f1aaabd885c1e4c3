"""The shared functions: the in-place sigmoid the recurrent cells use against the plain one, and the batch sum of bias gradients."""

from __future__ import annotations

import numpy as np
import pytest

from dnnexp.core.functions import batch_sum, sigmoid, sigmoid_


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


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_batch_sum_is_the_sum_over_the_rows_in_the_input_dtype(dtype) -> None:
    x = np.random.default_rng(0).normal(size=(3000, 30)).astype(dtype)
    out = np.empty(30, dtype)
    assert batch_sum(x, out=out) is out and out.dtype == dtype
    np.testing.assert_allclose(out, x.astype(np.float64).sum(axis=0), rtol=0, atol=1e-3 if dtype == np.float32 else 1e-10)
