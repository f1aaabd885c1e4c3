"""Loops that numba compiles, where NumPy's passes cost more than their numbers: the LSTM's time
loop, forward and backward, and the transposed copy of its recurrent weights; Adam's step.

A NumPy step of the LSTM is a dozen calls on (H, n) and (4H, n) arrays around its one product.
Each call takes Python's GIL and hands it back, and a layer running the two halves of a batch
side by side on two lanes (`Recurrent._halves`) has its loops wait on each other at every one
of them: the two loops ran 20–25% slower side by side than alone, where two processes ran at
full speed. Here each step's elementwise work is one loop over the units and samples that runs
without the GIL (`nogil`), and each number is read and written once a step instead of once a
pass. The steps are one call (`lstm_forward_steps`, `lstm_backward_steps`): the loop calls the
BLAS routine NumPy's matmul would for each step's product itself (`blas_gemm`, `gemm_call`), so
it goes back to Python only between blocks of steps, not between steps (those returns took 5%
of a step, and each could wait for the GIL the other half's loop held). Adam's ten passes, each
through all of memory, become one. numba is the well-kept library that does this: it compiles
these loops with LLVM, which vectorizes them (AVX2, AVX-512), and caches the machine code beside
this module.

The arithmetic is IEEE, as written: no fast-math, so LLVM neither reorders sums nor fuses
multiply-adds, a number comes out the same whichever vector lane, loop or batch piece computed
it, and Adam's pass gives NumPy's passes' very bits. `tanh` is the one function the loops need
from a math library; libm's is scalar (12 ns a number), so for float32 it is worked out here from
e^y (`tanh32`, at most 2.5 units in the last place), for float64 (gradient checks) it is libm's.

The LSTM's equations, the sigmoid as (1 + tanh(a/2))/2 on halved pre-activations, and its array
layout are `LSTM`'s (core/layers/recurrent.py); its course form is `LSTMStep` there. Adam's
course form is `optimizers.AdamReference`.
"""

from __future__ import annotations

import ctypes
import math
import os
from typing import Callable

import numpy as np

# Intel's SVML (numba from conda, with icc_rt) would vectorize libm's tanh in the float64 loops:
# its vector results differ from the scalar libm of a loop's last few numbers, and a number's bits
# would then depend on where in the loop it fell (the two halves of a batch against the whole).
os.environ.setdefault("NUMBA_DISABLE_INTEL_SVML", "1")

# numba reads the setting when it is imported: below it
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic, overload

f4 = np.float32
INV_LN2 = f4(1 / math.log(2))
# ln 2 in two parts: n·LN2_HI is exact for the n here (LN2_HI has 16 significant bits), so
# y − n·ln 2 loses nothing to rounding
LN2_HI = f4(0.693145751953125)
LN2_LO = f4(math.log(2) - 0.693145751953125)
#: tanh(9) rounds to 1 in float32: larger arguments are clamped there
TANH_SATURATES = f4(9)


def loop(function: Callable) -> Callable:
    """`function` compiled as one of these loops: without the GIL, with NumPy's float errors (no
    ZeroDivisionError check, which keeps LLVM from vectorizing a division), its machine code
    cached beside this module or in the user's cache directory. Where neither can be written
    (a read-only installation and home), it is compiled afresh in each process instead; with
    NUMBA_DISABLE_JIT=1 (debugging) it stays the Python function."""
    dispatcher = njit(nogil=True, error_model="numpy")(function)
    try:
        dispatcher.enable_caching()
    except (RuntimeError, AttributeError):  # no cache directory it can write; the JIT is off
        pass
    return dispatcher


@intrinsic
def float32_from_bits(typingctx, bits):
    """The float32 whose IEEE bits are the int32 `bits` (LLVM's bitcast: no conversion, one
    vector instruction or none)."""

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())

    return types.float32(types.int32), codegen


@njit(error_model="numpy")
def tanh32(x):
    """tanh(x) = sign(x) · (e^y − 1)/(e^y + 1), y = 2|x| ≤ 18, with e^y − 1 = 2^n (e^r − 1) + 2^n − 1,
    n = round(y / ln 2), |r| ≤ ln 2 / 2: e^r − 1 from its Taylor series to r⁷ (the next term is
    below float32's rounding), 2^n (n ≤ 26) exactly, as the float with exponent field n + 127.
    Every step is a select, an IEEE operation or a bitcast, so LLVM vectorizes the loop around it;
    e^r − 1 keeps small arguments accurate relative to themselves."""
    y = f4(2) * min(abs(x), TANH_SATURATES)
    n = np.int32(y * INV_LN2 + f4(0.5))  # y ≥ 0: truncation rounds
    r = (y - f4(n) * LN2_HI) - f4(n) * LN2_LO
    expm1_r = r + r * r * (
        f4(1 / 2) + r * (f4(1 / 6) + r * (f4(1 / 24) + r * (f4(1 / 120) + r * (f4(1 / 720) + r * f4(1 / 5040)))))
    )
    power = float32_from_bits((n + np.int32(127)) << np.int32(23))
    expm1_y = power * expm1_r + (power - f4(1))
    t = expm1_y / (expm1_y + f4(2))
    return t if x >= f4(0) else -t


def tanh(x):
    """tanh in a compiled loop: `tanh32` for float32, libm's otherwise."""
    return math.tanh(x)


@overload(tanh)
def _tanh_for(x):
    if x == types.float32:
        return lambda x: tanh32(x)
    return lambda x: math.tanh(x)


#: CBLAS's enum values (cblas.h): operands stored row-major, neither transposed
CBLAS_ROW_MAJOR, CBLAS_NO_TRANS = 101, 111


@intrinsic
def _cblas_gemm(typingctx, gemm, a, b, out):
    """cblas_?gemm(row-major, neither transposed, m, n, k, 1, a, k, b, n, 0, out, n) at the address
    `gemm`, its sizes in 64 bits (ILP64), for C-ordered matrices of one float type, `out`
    writable; the shapes are `gemm_call`'s to check."""
    arrays = (a, b, out)
    if not all(isinstance(x, types.Array) and x.ndim == 2 and x.layout == "C" for x in arrays):
        return None
    if len({x.dtype for x in arrays}) != 1 or a.dtype not in (types.float32, types.float64) or not out.mutable:
        return None

    def codegen(context, builder, signature, args):
        size = ir.IntType(64)
        scalar = ir.FloatType() if a.dtype == types.float32 else ir.DoubleType()
        pointer, flag = ir.IntType(8).as_pointer(), ir.IntType(32)
        parameters = [flag, flag, flag, size, size, size, scalar, pointer, size, pointer, size, scalar, pointer, size]
        function = builder.inttoptr(args[0], ir.FunctionType(ir.VoidType(), parameters).as_pointer())
        matrices = [context.make_array(kind)(context, builder, value) for kind, value in zip(arrays, args[1:])]
        m, k = cgutils.unpack_tuple(builder, matrices[0].shape, 2)
        n = cgutils.unpack_tuple(builder, matrices[1].shape, 2)[1]
        A, B, C = (builder.bitcast(matrix.data, pointer) for matrix in matrices)
        order, plain = ir.Constant(flag, CBLAS_ROW_MAJOR), ir.Constant(flag, CBLAS_NO_TRANS)
        one, zero = ir.Constant(scalar, 1.0), ir.Constant(scalar, 0.0)
        builder.call(function, [order, plain, plain, m, n, k, one, A, k, B, n, zero, C, n])
        return context.get_dummy_value()

    return types.void(types.int64, a, b, out), codegen


@njit(error_model="numpy")
def gemm_call(gemm, a, b, out):
    """out = a (m, k) @ b (k, n), C-ordered matrices of one float type, through the CBLAS ?gemm at
    the address `gemm` (`blas_gemm`): the call NumPy's matmul makes for such operands when none
    of m, k, n is 1 (then it takes gemv or a loop of its own), so then the same bits. `out` must
    not overlap a or b. Shapes that do not fit raise: BLAS would write past out's end."""
    m, k = a.shape
    if b.shape[0] != k or out.shape[0] != m or out.shape[1] != b.shape[1]:
        raise ValueError("gemm_call: the shapes are not (m, k) @ (k, n) into (m, n)")
    _cblas_gemm(gemm, a, b, out)


@loop
def blas_product(gemm, a, b, out):
    """out = a @ b through `gemm` (`gemm_call`), from Python: `blas_gemm`'s check."""
    gemm_call(gemm, a, b, out)


#: CBLAS ?gemm with 64-bit sizes, by the names NumPy's OpenBLAS builds give it (numpy ≥ 2's
#: scipy-openblas64, numpy 1.26's openblas64_)
GEMM_NAMES = ("scipy_cblas_{}gemm64_", "cblas_{}gemm64_")
_gemm: dict[np.dtype, int | None] = {}


def blas_gemm(dtype: np.dtype) -> int | None:
    """The address of the CBLAS sgemm (float32) or dgemm (float64) that NumPy's matmul calls,
    for the compiled time loops, which then call it per step without going back to Python; or
    None, and they are not used: NumPy's BLAS is not OpenBLAS, its sizes are not 64-bit, the JIT
    is off (`NUMBA_DISABLE_JIT`), or products through it did not give NumPy's bits (tried once
    per type)."""
    dtype = np.dtype(dtype)
    if dtype not in _gemm:
        _gemm[dtype] = _find_gemm(dtype)
    return _gemm[dtype]


def _find_gemm(dtype: np.dtype) -> int | None:
    from numba.core import config

    from dnnexp.core import parallel

    if config.DISABLE_JIT or dtype.type not in (np.float32, np.float64):
        return None
    blas = parallel.numpy_openblas()
    if blas is None:
        return None
    library = ctypes.CDLL(blas.filepath)  # the one NumPy loaded: the same threads and settings
    letter = "s" if dtype == np.float32 else "d"
    for name in GEMM_NAMES:
        function = getattr(library, name.format(letter), None)
        if function is not None:
            gemm = ctypes.cast(function, ctypes.c_void_p).value
            break
    else:
        return None
    rng = np.random.default_rng(0)
    for m, k, n in ((37, 29, 45), (512, 128, 32)):  # odd sizes, and a step's product
        a, b = rng.normal(size=(m, k)).astype(dtype), rng.normal(size=(k, n)).astype(dtype)
        out = np.empty((m, n), dtype)
        blas_product(gemm, a, b, out)
        if not np.array_equal(out, a @ b):
            return None
    return gemm


@loop
def lstm_forward_step(a, recurrent, peep, c_prev, c, tanh_c, h):
    """One forward step of `LSTM` for n samples (columns). In: a (4H, n) the step's input part
    W_inᵀ x + b, recurrent (4H, n) = Wᵀ h^{t−1}, both halved in the rows of i, f and o, peep (3, H)
    the halved peepholes (zeros without them), c_prev (H, n). Out: the gate values i, f, o, g into
    a, c^t into c, tanh c^t into tanh_c, h^t into h."""
    H, n = c.shape
    half = a.dtype.type(0.5)
    for u in range(H):
        p_i, p_f, p_o = peep[0, u], peep[1, u], peep[2, u]
        for k in range(n):
            i = half + half * tanh(a[u, k] + recurrent[u, k] + p_i * c_prev[u, k])
            f = half + half * tanh(a[H + u, k] + recurrent[H + u, k] + p_f * c_prev[u, k])
            g = tanh(a[3 * H + u, k] + recurrent[3 * H + u, k])
            c_new = f * c_prev[u, k] + i * g
            o = half + half * tanh(a[2 * H + u, k] + recurrent[2 * H + u, k] + p_o * c_new)
            squashed = tanh(c_new)
            a[u, k], a[H + u, k], a[2 * H + u, k], a[3 * H + u, k] = i, f, o, g
            c[u, k], tanh_c[u, k], h[u, k] = c_new, squashed, o * squashed


@loop
def lstm_backward_step(gates, peep, c_prev, tanh_c, dh, dc, da):
    """One backward step of `LSTM`: from the step's gate values (4H, n), the peepholes (3, H)
    (zeros without them; not halved: δ is dL/d of the whole pre-activation), c^{t−1}, tanh c^t,
    and dL/dh^t and dL/dc^t from the steps after (H, n), write δ of the pre-activations into
    da (4H, n) and dL/dc^{t−1} into dc, over dL/dc^t:

        δ_o = dh ⊙ tanh c ⊙ σ'_o        dc ← dc + dh ⊙ o ⊙ (1 − tanh² c) + δ_o ⊙ p_o
        δ_i = dc ⊙ g ⊙ σ'_i             δ_f = dc ⊙ c^{t−1} ⊙ σ'_f        δ_g = dc ⊙ i ⊙ (1 − g²)
        dc^{t−1} = dc ⊙ f + δ_i ⊙ p_i + δ_f ⊙ p_f,      σ' = σ (1 − σ)
    """
    H, n = dc.shape
    one = gates.dtype.type(1)
    for u in range(H):
        p_i, p_f, p_o = peep[0, u], peep[1, u], peep[2, u]
        for k in range(n):
            i, f, o, g = gates[u, k], gates[H + u, k], gates[2 * H + u, k], gates[3 * H + u, k]
            squashed = tanh_c[u, k]
            d_o = dh[u, k] * squashed * (o * (one - o))
            d_c = dc[u, k] + dh[u, k] * o * (one - squashed * squashed) + d_o * p_o
            d_i = d_c * g * (i * (one - i))
            d_f = d_c * c_prev[u, k] * (f * (one - f))
            da[u, k], da[H + u, k], da[2 * H + u, k] = d_i, d_f, d_o
            da[3 * H + u, k] = d_c * i * (one - g * g)
            dc[u, k] = d_c * f + d_i * p_i + d_f * p_f


@loop
def lstm_forward_steps(gemm, W_half, a, peep, hs, cs, tanh_c, recurrent):
    """`LSTM`'s forward pass through all T steps of a piece of n samples in one call: in each, the
    product recurrent = W_half h^{t−1} through the BLAS ?gemm at `gemm` (`blas_gemm`), then
    `lstm_forward_step`. a (T, 4H, n), as that step takes it; hs and cs (T + 1, H, n), the
    states, index 0 the initial ones; tanh_c (T, H, n); recurrent (4H, n), for every step."""
    for t in range(a.shape[0]):
        gemm_call(gemm, W_half, hs[t], recurrent)
        lstm_forward_step(a[t], recurrent, peep, cs[t], cs[t + 1], tanh_c[t], hs[t + 1])


@loop
def lstm_backward_steps(gemm, W, gates, peep, cs, tanh_c, douts, dh, dc, da, start, stop, truncate):
    """`LSTM`'s backward pass through steps stop − 1 down to `start` in one call, dh and dc
    (H, n) carried from step to step in place: in each, the output's gradient douts[t] added to
    dh (douts (T, H, n), or none (0, H, n)), `lstm_backward_step` into da[t], then
    dh = W δ^t through the BLAS ?gemm at `gemm`. After a step t > 0 that is a multiple of
    `truncate` (truncated BPTT; 0: none), dh and dc start again from zeros."""
    for t in range(stop - 1, start - 1, -1):
        if douts.shape[0]:
            dh += douts[t]
        lstm_backward_step(gates[t], peep, cs[t], tanh_c[t], dh, dc, da[t])
        gemm_call(gemm, W, da[t], dh)
        if truncate and t % truncate == 0 and t > 0:
            dh[:] = 0
            dc[:] = 0


#: the side of the square blocks `halved_transpose` copies: a block of rows and one of columns
#: stay in cache, where NumPy's transposed copy reads a new cache line for every number
TRANSPOSE_BLOCK = 16


@loop
def halved_transpose(W, halved, out):
    """out = Wᵀ (G, H) of W (H, G), its first `halved` rows times 1/2: the LSTM's recurrent
    weights for a step's product, the rows of i, f and o halved (in a third of NumPy's time for
    a transposed copy alone)."""
    H, G = W.shape
    half, one = W.dtype.type(0.5), W.dtype.type(1)
    for j0 in range(0, G, TRANSPOSE_BLOCK):
        for i0 in range(0, H, TRANSPOSE_BLOCK):
            for j in range(j0, min(j0 + TRANSPOSE_BLOCK, G)):
                scale = half if j < halved else one
                for i in range(i0, min(i0 + TRANSPOSE_BLOCK, H)):
                    out[j, i] = W[i, j] * scale


@loop
def adam_step(param, grad, m, v, beta1, rest1, beta2, rest2, eps, lr_t):
    """One Adam step of flat arrays in one pass: m ← β1 m + (1 − β1) g, v ← β2 v + (1 − β2) g²,
    θ ← θ − m / (√v + ε) · lr_t (the scalars in the arrays' type, `rest` = 1 − β). The very
    operations of NumPy's passes in `optimizers.Adam`, in their order, so the same bits; NumPy
    took ten passes, each through memory (3.3 ms for 1.8·10⁶ parameters, 0.74 here)."""
    for k in range(param.size):
        g = grad[k]
        m_k = m[k] * beta1 + g * rest1
        v_k = v[k] * beta2 + g * g * rest2
        m[k], v[k] = m_k, v_k
        param[k] -= m_k / (np.sqrt(v_k) + eps) * lr_t
