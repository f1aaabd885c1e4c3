"""The compiled LSTM step's own pieces: its float32 tanh, and that a number does not depend on where
in a loop (vector body or remainder) it was worked out. The steps themselves are tested through
the layer against the course form (tests/core/layers/test_recurrent.py) and finite differences
(tests/core/test_gradcheck.py)."""

import math
import os
import subprocess
import sys

import numpy as np
import pytest
from numba import njit

from dnnexp.core import compiled


@njit
def tanh_loop(x, out):
    for k in range(x.size):
        out[k] = compiled.tanh(x[k])


def compiled_tanh(x: np.ndarray) -> np.ndarray:
    out = np.empty_like(x)
    tanh_loop(x, out)
    return out


def ulps(value: np.ndarray, exact: np.ndarray) -> np.ndarray:
    """|value − exact| in units of float32's last place at the exact value."""
    return np.abs(value - exact) / np.spacing(np.abs(exact).astype(np.float32))


def test_float32_tanh_is_within_three_units_in_the_last_place():
    rng = np.random.default_rng(0)
    x = np.concatenate(
        [
            rng.standard_normal(300_000) * 4,
            np.geomspace(1e-38, 20, 100_000),  # tiny arguments, relative accuracy; saturation
            np.linspace(0.3, 0.4, 10_000),  # around y = ln 2 / 2, where n steps from 0 to 1
        ]
    ).astype(np.float32)
    x = np.concatenate([x, -x])
    got = compiled_tanh(x)
    assert got.dtype == np.float32
    assert ulps(got, np.tanh(x.astype(np.float64))).max() < 3
    np.testing.assert_array_equal(got[: len(x) // 2], -got[len(x) // 2 :])  # odd


def test_float32_tanh_at_its_edges():
    x = np.array([0.0, -0.0, 9.0, -9.0, 1e4, np.inf, -np.inf, 1e-45], np.float32)
    got = compiled_tanh(x)
    np.testing.assert_array_equal(got, np.array([0, 0, 1, -1, 1, 1, -1, 1e-45], np.float32))
    assert np.isnan(compiled_tanh(np.array([np.nan], np.float32))[0])


def test_float64_tanh_is_libms():
    x = np.random.default_rng(1).standard_normal(1000) * 5
    np.testing.assert_array_equal(compiled_tanh(x), [math.tanh(v) for v in x])


@pytest.mark.parametrize("shift", [1, 3, 7])
def test_a_number_does_not_depend_on_its_place_in_the_loop(shift):
    # LLVM works most numbers in vector registers and the rest one by one; the halves of a batch
    # (two lanes) put a number at other places than the whole batch does, and must give its bits.
    x = (np.random.default_rng(2).standard_normal(1000) * 3).astype(np.float32)
    np.testing.assert_array_equal(compiled_tanh(x)[shift:], compiled_tanh(x[shift:].copy()))


def test_the_forward_step_is_its_equations_in_float32_bit_for_bit():
    # The same operations in the same order in NumPy float32: a loop that widened to float64
    # anywhere, fused a multiply-add or reordered a sum would differ in some of these bits.
    H, n = 4, 9
    rng = np.random.default_rng(3)
    a, recurrent = (rng.standard_normal((4 * H, n)).astype(np.float32) for _ in range(2))
    peep, c_prev = rng.standard_normal((3, H)).astype(np.float32), rng.standard_normal((H, n)).astype(np.float32)
    c, tanh_c, h = (np.empty((H, n), np.float32) for _ in range(3))
    gates = a.copy()
    compiled.lstm_forward_step(gates, recurrent, peep, c_prev, c, tanh_c, h)

    def squash(block):
        return compiled_tanh(block.ravel()).reshape(block.shape)

    half, z = np.float32(0.5), a + recurrent
    p_i, p_f, p_o = (row[:, None] for row in peep)
    i = half + half * squash(z[:H] + p_i * c_prev)
    f = half + half * squash(z[H : 2 * H] + p_f * c_prev)
    g = squash(z[3 * H :])
    c_new = f * c_prev + i * g
    o = half + half * squash(z[2 * H : 3 * H] + p_o * c_new)
    np.testing.assert_array_equal(gates, np.concatenate([i, f, o, g]))
    np.testing.assert_array_equal(c, c_new)
    np.testing.assert_array_equal(tanh_c, squash(c_new))
    np.testing.assert_array_equal(h, o * squash(c_new))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(128, 512), (5, 20), (17, 3)])
def test_halved_transpose_is_the_transposed_copy_with_its_first_rows_halved(shape, dtype):
    W = np.random.default_rng(4).standard_normal(shape).astype(dtype)
    halved = shape[1] * 3 // 4
    expected = np.ascontiguousarray(W.T)
    expected[:halved] *= 0.5
    out = np.empty(shape[::-1], dtype)
    compiled.halved_transpose(W, halved, out)
    np.testing.assert_array_equal(out, expected)


def test_adam_step_is_numpys_passes_bit_for_bit():
    rng = np.random.default_rng(5)
    param, grad, m = (rng.standard_normal(1001).astype(np.float32) for _ in range(3))
    v = np.abs(rng.standard_normal(1001)).astype(np.float32)
    beta1, beta2, eps, lr_t = 0.9, 0.999, 1e-8, 0.00123
    expected_m = m * beta1 + grad * (1.0 - beta1)
    expected_v = v * beta2 + grad * grad * (1.0 - beta2)
    expected = param - expected_m / (np.sqrt(expected_v) + eps) * lr_t
    f4 = np.float32
    compiled.adam_step(param, grad, m, v, f4(beta1), f4(1 - beta1), f4(beta2), f4(1 - beta2), f4(eps), f4(lr_t))
    for got, want in ((param, expected), (m, expected_m), (v, expected_v)):
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(512, 128, 32), (128, 512, 17), (37, 29, 45), (2, 3, 2)])
def test_a_product_through_numpys_blas_from_a_compiled_loop_is_numpys_bit_for_bit(shape, dtype):
    gemm = compiled.blas_gemm(dtype)
    # NumPy's wheels bring OpenBLAS with 64-bit sizes; with another NumPy the LSTM steps from Python
    assert gemm is not None, "the compiled LSTM loops cannot call NumPy's BLAS here"
    m, k, n = shape
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(m, k)).astype(dtype), rng.normal(size=(k, n)).astype(dtype)
    out = np.empty((m, n), dtype)
    compiled.blas_product(gemm, a, b, out)
    np.testing.assert_array_equal(out, a @ b)


def test_a_product_from_a_compiled_loop_takes_only_c_ordered_matrices_of_one_type():
    from numba.core.errors import TypingError

    a, read_only = np.ones((4, 3), np.float32), np.empty((4, 4), np.float32)
    read_only.flags.writeable = False
    for b, out in ((np.ones((4, 3), np.float32).T, np.empty((4, 4), np.float32)),
                   (np.ones((3, 4), np.float64), np.empty((4, 4), np.float32)),
                   (np.ones((3, 4), np.float32), read_only)):
        with pytest.raises(TypingError):
            compiled.blas_product(0, a, b, out)  # refused while typing: the address is never called


@pytest.mark.parametrize("b_shape, out_shape", [((5, 4), (4, 4)), ((3, 4), (2, 2)), ((3, 4), (4, 5))])
def test_a_product_from_a_compiled_loop_refuses_shapes_that_do_not_fit(b_shape, out_shape):
    a = np.ones((4, 3), np.float32)
    b, out = np.ones(b_shape, np.float32), np.empty(out_shape, np.float32)
    with pytest.raises(ValueError, match="shapes"):
        compiled.blas_product(compiled.blas_gemm(np.float32), a, b, out)


def test_a_loop_compiles_uncached_where_no_cache_directory_can_be_written(monkeypatch):
    from numba.core.dispatcher import Dispatcher

    def no_locator(self):
        raise RuntimeError("cannot cache function 'double': no locator available")

    monkeypatch.setattr(Dispatcher, "enable_caching", no_locator)

    def double(x, out):
        for k in range(x.size):
            out[k] = x[k] + x[k]

    x, out = np.arange(5, dtype=np.float32), np.empty(5, np.float32)
    compiled.loop(double)(x, out)
    np.testing.assert_array_equal(out, 2 * x)


def test_numba_is_imported_by_the_first_compiled_step_not_by_the_core():
    # An SGD training never runs a compiled loop: it should not pay numba's import (65 MB).
    code = (
        "import sys, dnnexp.core.optimizers, dnnexp.core.layers, dnnexp.core.models; "
        "print('numba' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_the_loops_run_as_python_with_the_jit_off():
    # NUMBA_DISABLE_JIT=1 (for stepping through a loop in a debugger) hands the functions back
    # as they are written; they must still import and run.
    code = (
        "import numpy as np; from dnnexp.core import compiled as c; f4 = np.float32; "
        "p, g, m, v = (np.full(3, 0.5, f4) for _ in range(4)); "
        "c.adam_step(p, g, m, v, f4(0.9), f4(0.1), f4(0.999), f4(0.001), f4(1e-8), f4(0.01)); print(p[0])"
    )
    code += "; print(c.blas_gemm(np.float32))"  # and the LSTM steps from Python: no BLAS from a loop
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    m, v = 0.5, 0.5 * 0.999 + 0.25 * 0.001  # m and v a step on from 0.5, the gradient 0.5
    assert done.stdout.split()[1] == "None"
    assert float(done.stdout.split()[0]) == pytest.approx(0.5 - m / (math.sqrt(v) + 1e-8) * 0.01, rel=1e-6)
