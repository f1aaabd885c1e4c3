"""Recurrent layers: forward and every gradient against the course-form reference steps
(`SimpleRNNStep`, `LSTMStep`, `GRUStep` looped by `TimeReference`, row vectors, one matrix per
gate sliced out of W_in, W and b — a second, independent reading of the layers), gradients of the
state against finite differences, truncated BPTT, stateful runs and the per-step gradient norms.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
import pytest

from dnnexp.core.gradcheck import numerical_gradient, relative_error
from dnnexp.core.layers import ShapeError
from dnnexp.core import parallel
from dnnexp.core.layers import recurrent as recurrent_module
from dnnexp.core.layers.recurrent import GRUStep, LSTMStep, Recurrent, SimpleRNNStep, TimeReference, time_blocks

N, T, D, H = 3, 5, 2, 4
TOLERANCE = 1e-6

#: name → (spec, the reference step of that layer)
CASES = {
    "simple_rnn tanh": ({"type": "simple_rnn"}, SimpleRNNStep),
    "simple_rnn relu": ({"type": "simple_rnn", "activation": "relu"}, partial(SimpleRNNStep, activation="relu")),
    "lstm": ({"type": "lstm"}, LSTMStep),
    "lstm peephole": ({"type": "lstm", "peephole": True}, LSTMStep),
    "gru": ({"type": "gru"}, GRUStep),
}


def recurrent(build_layer, spec: dict[str, Any], seed: int = 0, dtype: type = np.float64, **changes: Any) -> Recurrent:
    """A layer of H units for (T, D) inputs (float64 unless told), every parameter redrawn at a
    scale that leaves the gates away from saturation (peepholes too, which start at zero)."""
    layer = build_layer({**spec, "units": H, **changes}, (T, D), dtype=dtype, seed=seed)
    rng = np.random.default_rng(seed + 10)
    for value in layer.params.values():
        value[...] = rng.normal(0.0, 0.6, value.shape)
    layer.needs_input_grad = True
    return layer


def initial_state(layer: Recurrent, seed: int = 1, batch: int = N) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    return tuple(rng.normal(size=(batch, H)) for _ in layer.state_names)


def assert_close(got: np.ndarray, want: np.ndarray, name: str) -> None:
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("truncate", [None, 2])
@pytest.mark.parametrize("return_sequences", [True, False])
@pytest.mark.parametrize("case", CASES)
def test_forward_and_every_gradient_match_the_course_form_reference(case, return_sequences, truncate, build_layer):
    """Outputs, final state, dx, every dL/dparam and dL/d(initial state), from a given initial
    state and with a gradient for the final state from outside; truncated BPTT (blocks of 2 of
    the 5 steps) included."""
    spec, step = CASES[case]
    layer = recurrent(build_layer, spec, return_sequences=return_sequences, truncate_bptt=truncate)
    rng = np.random.default_rng(2)
    x, state = rng.normal(size=(N, T, D)), initial_state(layer)
    dfinal = tuple(rng.normal(size=(N, H)) for _ in state)
    layer.set_state(*state)
    out = layer.forward(x)
    dout = rng.normal(size=out.shape)
    dx = layer.backward(dout, dfinal)

    reference = TimeReference(step, layer.params, truncate)
    hs = reference.forward(x, state)
    dhs = dout if return_sequences else np.zeros_like(hs)
    if not return_sequences:
        dhs[:, -1] = dout  # only the last step's h is an output
    dx_reference = reference.backward(dhs, dfinal)

    assert_close(out, hs if return_sequences else hs[:, -1], "output")
    for name, got, want in zip(layer.state_names, layer.final_state, reference.final_state):
        assert_close(got, want, f"final {name}")
    assert_close(dx, dx_reference, "x")
    assert layer.grads.keys() == reference.grads.keys()
    for key, grad in layer.grads.items():
        assert_close(grad, reference.grads[key], key)
    for name, got, want in zip(layer.state_names, layer.dstate, reference.dstate):
        assert_close(got, want, f"d{name}")


@pytest.mark.parametrize("peephole", [False, True])
def test_a_float32_lstm_is_the_float64_course_form_to_float32s_rounding(peephole, build_layer):
    """The float32 LSTM runs the compiled steps with their own tanh (core/compiled.py): its
    outputs and gradients agree with the float64 reference on the same numbers to float32's
    rounding (the float64 layer, above, agrees to float64's)."""
    spec = {"type": "lstm", "peephole": peephole}
    layer = recurrent(build_layer, spec, dtype=np.float32, return_sequences=True)
    params = {key: value.astype(np.float64) for key, value in layer.params.items()}
    rng = np.random.default_rng(5)
    x = rng.normal(size=(N, T, D)).astype(np.float32)
    dout = rng.normal(size=(N, T, H)).astype(np.float32)
    out = layer.forward(x)
    dx = layer.backward(dout)

    reference = TimeReference(LSTMStep, params)
    hs = reference.forward(x.astype(np.float64), tuple(np.zeros((N, H)) for _ in layer.state_names))
    dx_reference = reference.backward(dout.astype(np.float64))
    close = partial(np.testing.assert_allclose, rtol=1e-5, atol=1e-6)
    assert out.dtype == dx.dtype == np.float32
    close(out, hs, err_msg="output")
    close(dx, dx_reference, err_msg="x")
    for key, grad in layer.grads.items():
        assert grad.dtype == np.float32
        close(grad, reference.grads[key], err_msg=key)


def passes(layer: Recurrent, x: np.ndarray, state: tuple, dout: np.ndarray, dfinal: tuple, lanes: int) -> list:
    """Every output and gradient of a forward and backward pass from `state` on `lanes`: the
    output, dL/dx, the final state, dL/d(initial state) and the weight gradients."""
    with parallel.using(lanes), parallel.deferring():
        layer.set_state(*state)
        out = layer.forward(x)
        dx = layer.backward(dout, dfinal)
    return [out, dx, *layer.final_state, *layer.dstate, *(g.copy() for g in layer.grads.values())]


def halves_of_any_size(monkeypatch) -> None:
    """Small layers and short sequences in halves too."""
    for layer_class in (Recurrent, *Recurrent.__subclasses__()):
        monkeypatch.setattr(layer_class, "half_step_work", 0)
        monkeypatch.setattr(layer_class, "half_sequence_work", 0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("truncate", [None, 2])
@pytest.mark.parametrize("return_sequences", [True, False])
@pytest.mark.parametrize("case", CASES)
def test_a_batch_in_halves_on_two_lanes_gives_the_whole_batchs_bits(
    case, return_sequences, truncate, dtype, build_layer, monkeypatch
):
    """Every output and gradient, the final state and dL/d(initial state) the same bits from the
    batch in two halves side by side (of 16 and 17 samples) as from the whole batch on one lane;
    where this machine's BLAS does not give the layer's products the same bits in halves of
    their columns, the batch is not cut. float32 runs the LSTM's compiled steps."""
    halves_of_any_size(monkeypatch)
    batch = 2 * recurrent_module.MIN_HALF + 1
    layer = recurrent(build_layer, CASES[case][0], dtype=dtype, return_sequences=return_sequences, truncate_bptt=truncate)
    rng = np.random.default_rng(4)
    cast = lambda array: array.astype(dtype)  # noqa: E731
    x, state = cast(rng.normal(size=(batch, T, D))), tuple(map(cast, initial_state(layer, batch=batch)))
    dfinal = tuple(cast(rng.normal(size=(batch, H))) for _ in state)
    dout = cast(rng.normal(size=(batch, T, H) if return_sequences else (batch, H)))
    runs = [passes(layer, x, state, dout, dfinal, lanes) for lanes in (1, 2)]
    exact = parallel.exact_in_halves(layer._products(D), batch, x.dtype)
    assert len(layer.pieces) == (2 if exact else 1)
    for one, two in zip(*runs):
        assert np.array_equal(one, two)
    # The weight gradients summed over the halves apart (on one lane too) are the whole batch's
    # sums, to the rounding of the type.
    monkeypatch.setattr(type(layer), "_halves", lambda self, N, *sizes: [slice(0, N)])
    layer.set_state(*state)
    layer.forward(x)
    layer.backward(dout, dfinal)
    summed_in_halves = runs[0][2 + 2 * len(state) :]  # after out, dx, the final state and its gradient
    for (key, grad), in_halves in zip(layer.grads.items(), summed_in_halves):
        if dtype == np.float64:
            assert_close(in_halves, grad, key)
        else:
            np.testing.assert_allclose(in_halves, grad, rtol=1e-5, atol=1e-6, err_msg=key)


@pytest.mark.parametrize("case", CASES)
def test_halves_over_several_blocks_of_steps_and_a_stateful_second_batch(case, build_layer, monkeypatch):
    """33 steps (four blocks of weight gradients, each half's worked out by its own loop) and a
    batch of 50 (halves of 32 and 18), two batches of a stateful layer: the same bits on two
    lanes as on one."""
    halves_of_any_size(monkeypatch)
    steps, batch = 33, 50
    assert len(time_blocks(steps)) == 4 and parallel.halves(batch, parallel.COLUMN_ALIGN)[0] == slice(0, 32)
    layer = build_layer({**CASES[case][0], "units": H, "return_sequences": True}, (steps, D))
    rng = np.random.default_rng(5)
    for value in layer.params.values():
        value[...] = rng.normal(0.0, 0.6, value.shape)
    layer.needs_input_grad = True
    x, dout = rng.normal(size=(2, batch, steps, D)), rng.normal(size=(2, batch, steps, H))
    runs = []
    for lanes in (1, 2):
        layer.reset_state()
        layer.stateful = True
        runs.append([])
        for k in range(2):
            with parallel.using(lanes), parallel.deferring():
                out = layer.forward(x[k])
                dx = layer.backward(dout[k])
            runs[-1] += [out, dx, *layer.final_state, *layer.dstate, *(g.copy() for g in layer.grads.values())]
    exact = parallel.exact_in_halves(layer._products(D), batch, x.dtype)
    assert len(layer.pieces) == (2 if exact else 1)
    for one, two in zip(*runs):
        assert np.array_equal(one, two)


@pytest.mark.parametrize("batch, units", [(2 * recurrent_module.MIN_HALF + 1, H), (1, H), (3, 1)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("truncate", [None, 7])
@pytest.mark.parametrize("return_sequences", [True, False])
@pytest.mark.parametrize("case", ["lstm", "lstm peephole"])
def test_the_lstms_compiled_time_loops_give_its_step_by_step_loops_bits(
    case, return_sequences, truncate, dtype, batch, units, build_layer, monkeypatch
):
    """The LSTM's time loops compiled whole, calling BLAS themselves (`compiled.blas_gemm`), against
    a step at a time from Python with NumPy's products, where NumPy's BLAS cannot be called so:
    every output and gradient the same bits, whole and in halves on two lanes, over two blocks of
    weight gradients, from a given state and with a gradient for the final state; also one sample
    and one unit, where NumPy's matmul takes gemv and the layer steps from Python either way."""
    from dnnexp.core import compiled

    # NumPy's wheels bring OpenBLAS with 64-bit sizes; with another NumPy the LSTM steps from Python
    assert compiled.blas_gemm(dtype) is not None, "the compiled LSTM loops cannot call NumPy's BLAS here"
    halves_of_any_size(monkeypatch)
    steps = 20
    assert len(time_blocks(steps)) == 2
    layer = build_layer({**CASES[case][0], "units": units, "return_sequences": return_sequences,
                         "truncate_bptt": truncate}, (steps, D), dtype=dtype)
    rng = np.random.default_rng(6)
    for value in layer.params.values():
        value[...] = rng.normal(0.0, 0.6, value.shape)
    layer.needs_input_grad = True
    x = rng.normal(size=(batch, steps, D)).astype(dtype)
    state = tuple(rng.normal(size=(batch, units)).astype(dtype) for _ in layer.state_names)
    dfinal = tuple(rng.normal(size=(batch, units)).astype(dtype) for _ in layer.state_names)
    dout = rng.normal(size=(batch, steps, units) if return_sequences else (batch, units)).astype(dtype)
    runs = []
    for gemm in (compiled.blas_gemm(dtype), None):
        monkeypatch.setitem(compiled._gemm, np.dtype(dtype), gemm)
        runs += [passes(layer, x, state, dout, dfinal, lanes) for lanes in (1, 2)]
    for run in runs[1:]:
        for first, other in zip(runs[0], run):
            assert np.array_equal(first, other)


@pytest.mark.parametrize("inputs", [np.float64, np.float32])
def test_an_lstm_takes_inputs_of_another_float_type_than_its_weights(inputs, build_layer):
    """NumPy works such a layer's products in the wider type; the compiled time loops, which take
    one type, leave it to the steps from Python."""
    weights = np.float32 if inputs == np.float64 else np.float64
    layer = recurrent(build_layer, CASES["lstm"][0], dtype=weights)
    rng = np.random.default_rng(7)
    x, dout = rng.normal(size=(N, T, D)).astype(inputs), rng.normal(size=(N, H)).astype(inputs)
    reference = TimeReference(LSTMStep, {key: value.astype(np.float64) for key, value in layer.params.items()})
    zeros = np.zeros((N, H))
    want = reference.forward(x.astype(np.float64), (zeros, zeros))[:, -1]
    dhs = np.zeros((N, T, H))
    dhs[:, -1] = dout
    close = partial(np.testing.assert_allclose, rtol=1e-4, atol=1e-5)
    close(layer.forward(x), want)
    close(layer.backward(dout), reference.backward(dhs))
    for key, grad in layer.grads.items():
        close(grad, reference.grads[key], err_msg=key)


@pytest.mark.parametrize("case", CASES)
def test_a_fresh_layer_starts_from_zeros(case, build_layer):
    spec, step = CASES[case]
    layer = recurrent(build_layer, spec)
    x = np.random.default_rng(2).normal(size=(N, T, D))
    zeros = tuple(np.zeros((N, H)) for _ in layer.state_names)
    assert_close(layer.forward(x), TimeReference(step, layer.params).forward(x, zeros)[:, -1], "output")


@pytest.mark.parametrize("case", CASES)
def test_float32_in_float32_out(case, build_layer):
    layer = build_layer({**CASES[case][0], "units": H, "return_sequences": True}, (T, D), dtype=np.float32)
    out = layer.forward(np.ones((N, T, D), np.float32))
    layer.needs_input_grad = True
    dx = layer.backward(np.ones_like(out))
    assert out.dtype == dx.dtype == np.float32 and all(g.dtype == np.float32 for g in layer.grads.values())


@pytest.mark.parametrize("return_sequences", [True, False])
@pytest.mark.parametrize("case", CASES)
def test_gradients_of_the_initial_and_final_state(case, return_sequences, build_layer):
    """A decoder started from an encoder's final state sends a gradient back into it (`dfinal`)
    and needs the gradient of its own initial state (`dh`, `dc`): both against finite differences."""
    layer = recurrent(build_layer, CASES[case][0], return_sequences=return_sequences)
    rng = np.random.default_rng(3)
    x, state = rng.normal(size=(N, T, D)), initial_state(layer)
    R = rng.normal(size=layer.forward(x).shape)
    R_final = tuple(rng.normal(size=(N, H)) for _ in state)

    def loss() -> float:
        layer.set_state(*state)
        out = layer.forward(x)
        return float(np.sum(out * R) + sum(np.sum(s * r) for s, r in zip(layer.final_state, R_final)))

    loss()
    layer.backward(R, dfinal=R_final)
    analytic = {**{k: v.copy() for k, v in layer.grads.items()}, **{n: d.copy() for n, d in zip(layer.state_names, layer.dstate)}}
    for name, value in zip(layer.state_names, state):
        assert relative_error(analytic[name], numerical_gradient(loss, value)) < TOLERANCE, name
    for key, value in layer.params.items():
        assert relative_error(analytic[key], numerical_gradient(loss, value)) < TOLERANCE, key
    assert (layer.dh.shape, layer.h.shape) == ((N, H), (N, H))


def block_gradients(layer: Recurrent, x: np.ndarray, dout: np.ndarray, block: int) -> dict[str, np.ndarray]:
    """deep-learning-from-scratch-2's truncated BPTT: a stateful layer fed the sequence in blocks,
    each block's backward pass right after its forward; the gradients summed over the blocks."""
    layer.stateful = True
    total = {key: np.zeros_like(value) for key, value in layer.params.items()}
    dx = []
    for start in range(0, x.shape[1], block):
        layer.forward(x[:, start : start + block])
        dx.append(layer.backward(dout[:, start : start + block]))
        for key in total:
            total[key] += layer.grads[key]
    return {**total, "x": np.concatenate(dx, axis=1)}


@pytest.mark.parametrize("case", ["simple_rnn tanh", "lstm peephole", "gru"])
def test_truncated_bptt_is_full_bptt_when_as_long_as_the_sequence_and_blocks_otherwise(case, build_layer):
    spec = CASES[case][0]
    rng = np.random.default_rng(4)
    x, dout = rng.normal(size=(N, T, D)), rng.normal(size=(N, T, H))

    def gradients(truncate: int | None) -> dict[str, np.ndarray]:
        layer = recurrent(build_layer, spec, return_sequences=True, truncate_bptt=truncate)
        layer.forward(x)
        dx = layer.backward(dout)
        return {**{k: v.copy() for k, v in layer.grads.items()}, "x": dx}

    full = gradients(None)
    for long_enough in (T, T + 3):
        for key, value in gradients(long_enough).items():
            np.testing.assert_array_equal(value, full[key])
    truncated = gradients(2)
    # Cut: the recurrent weights get less of the past, and the first block's inputs no gradient from later blocks.
    assert relative_error(truncated["W"], full["W"]) > 1e-3
    assert relative_error(truncated["x"], full["x"]) > 1e-3
    chunked = block_gradients(recurrent(build_layer, spec, return_sequences=True), x, dout, 2)
    for key, value in chunked.items():
        np.testing.assert_allclose(truncated[key], value, rtol=1e-10, atol=1e-12, err_msg=key)


@pytest.mark.parametrize("case", CASES)
def test_stateful_layers_carry_their_state_until_reset(case, build_layer):
    spec = CASES[case][0]
    x = np.random.default_rng(5).normal(size=(N, T, D))
    whole = recurrent(build_layer, spec, return_sequences=True).forward(x)
    layer = recurrent(build_layer, spec, return_sequences=True)
    layer.stateful = True
    halves = np.concatenate([layer.forward(x[:, :2]), layer.forward(x[:, 2:])], axis=1)
    np.testing.assert_allclose(halves, whole, rtol=1e-12)
    # The state carries on into the next batch until reset_state().
    assert not np.allclose(layer.forward(x[:, :2]), whole[:, :2])
    layer.reset_state()
    np.testing.assert_allclose(layer.forward(x[:, :2]), whole[:, :2], rtol=1e-12)
    with pytest.raises(ValueError, match="reset_state"):
        layer.forward(x[:2])


def test_set_state_wants_as_many_arrays_as_the_layer_has_states(build_layer):
    with pytest.raises(ValueError, match=r"\('h', 'c'\)"):
        recurrent(build_layer, {"type": "lstm"}).set_state(np.zeros((N, H)))
    with pytest.raises(ValueError, match=r"\('h',\)"):
        recurrent(build_layer, {"type": "gru"}).set_state(np.zeros((N, H)), np.zeros((N, H)))


@pytest.mark.parametrize("case", CASES)
def test_time_grad_norms_are_the_gradients_reaching_each_state(case, build_layer):
    """‖dL/ds_t‖ recorded at step t equals the initial-state gradient of the same layer run from
    s_t = h_t (the LSTM's (h_t, c_t)) over the rest of the sequence."""
    spec = CASES[case][0]
    rng = np.random.default_rng(6)
    x, dout = rng.normal(size=(N, T, D)), rng.normal(size=(N, H))
    layer = recurrent(build_layer, spec)
    layer.record_time_grads = True
    layer.forward(x)
    layer.backward(dout)
    norms = layer.time_grad_norms
    assert norms.shape == (T,) and norms[-1] == pytest.approx(np.linalg.norm(dout))
    for t in range(T - 1):
        head, rest = recurrent(build_layer, spec), recurrent(build_layer, spec)
        head.forward(x[:, : t + 1])
        rest.set_state(*head.final_state)
        rest.forward(x[:, t + 1 :])
        rest.backward(dout)
        assert norms[t] == pytest.approx(np.sqrt(sum(np.sum(d * d) for d in rest.dstate)), rel=1e-10)
    layer.record_time_grads = False
    layer.backward(dout)
    assert layer.time_grad_norms is None


def test_a_simple_rnn_forgets_faster_than_an_lstm(build_layer):
    """The course's point: through 30 steps the simple RNN's gradient all but vanishes, the LSTM's
    (forget gate biased open) shrinks by orders of magnitude less."""
    x = np.random.default_rng(7).normal(size=(8, 30, D))
    decay = {}
    for kind in ("simple_rnn", "lstm"):
        layer = build_layer({"type": kind, "units": 16, "init": {"name": "normal", "std": 0.1},
                             "recurrent_init": {"name": "normal", "std": 0.1}}, (30, D))
        layer.record_time_grads = True
        layer.forward(x)
        layer.backward(np.ones((8, 16)))
        decay[kind] = layer.time_grad_norms[0] / layer.time_grad_norms[-1]
    # About σ(1) ≈ 0.73 of the cell's gradient survives each step, far less through tanh' and 0.1-weights: 5e-4 and 3e-12 here.
    assert decay["simple_rnn"] < 1e-9 < 1e-6 < decay["lstm"]


def test_forget_gate_bias_starts_at_one_and_is_configurable(build_layer):
    b = build_layer({"type": "lstm", "units": H}, (T, D)).params["b"]
    np.testing.assert_array_equal(b[H : 2 * H], 1.0)
    assert not b[:H].any() and not b[2 * H :].any()
    zeros = build_layer({"type": "lstm", "units": H, "forget_bias_init": "zeros"}, (T, D)).params["b"]
    assert not zeros.any()


@pytest.mark.parametrize("kind, gates", [("simple_rnn", 1), ("lstm", 4), ("gru", 3)])
def test_parameter_shapes_and_orthogonal_recurrent_blocks(kind, gates, build_layer):
    layer = build_layer({"type": kind, "units": H}, (T, D))
    assert {k: v.shape for k, v in layer.params.items()} == {"W_in": (D, gates * H), "W": (H, gates * H), "b": (gates * H,)}
    for k in range(gates):
        block = layer.params["W"][:, k * H : (k + 1) * H]
        np.testing.assert_allclose(block.T @ block, np.eye(H), atol=1e-12)


@pytest.mark.parametrize("kind", ["simple_rnn", "lstm", "gru"])
def test_flat_inputs_are_refused_with_a_hint(output_shape, kind):
    with pytest.raises(ShapeError, match="data.sequence: true"):
        output_shape({"type": kind, "units": H}, (784,))


@pytest.mark.parametrize("lanes", [1, 2])
@pytest.mark.parametrize("case", CASES)
def test_weight_gradients_summed_in_blocks_of_steps_match_the_reference(case, lanes, build_layer):
    """20 steps: the weight gradients are summed over blocks of steps (`time_blocks`), worked out
    beside the backward loop; on one lane or two they match the course's step-by-step sums."""
    steps = 20
    assert len(time_blocks(steps)) > 1
    spec, step = CASES[case]
    layer = build_layer({**spec, "units": H, "return_sequences": True}, (steps, D))
    rng = np.random.default_rng(3)
    for value in layer.params.values():
        value[...] = rng.normal(0.0, 0.6, value.shape)
    layer.needs_input_grad = True
    x, state = rng.normal(size=(N, steps, D)), initial_state(layer)
    dout = rng.normal(size=(N, steps, H))
    with parallel.using(lanes), parallel.deferring():
        layer.set_state(*state)
        layer.forward(x)
        dx = layer.backward(dout)
    reference = TimeReference(step, layer.params)
    reference.forward(x, state)
    assert_close(dx, reference.backward(dout), "x")
    for key, grad in layer.grads.items():
        assert_close(grad, reference.grads[key], key)
