"""Attention: finite-difference gradients of both inputs and every parameter, the textbook's
step-by-step form as the reference of the batched one, and what the weights are."""

from __future__ import annotations

import numpy as np
import pytest

from dnnexp.core.gradcheck import numerical_gradient, relative_error
from dnnexp.core.layers.attention import AdditiveAttention, Attention, DotAttention, DotAttentionReference
from tests.core.conftest import context

N, T_IN, T_OUT, H = 3, 5, 4, 6


def built(score: str, dtype: type = np.float64, memory: int = H, query: int = H) -> Attention:
    attention = DotAttention() if score == "dot" else AdditiveAttention(units=4)
    attention.build(memory, query, context(dtype))
    return attention


def states(seed: int = 0, dtype: type = np.float64, memory: int = H, query: int = H) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(N, T_IN, memory)).astype(dtype), rng.normal(size=(N, T_OUT, query)).astype(dtype)


@pytest.mark.parametrize("score, memory, query", [("dot", H, H), ("additive", H, H), ("additive", 5, 3)])
def test_gradients_match_finite_differences(score, memory, query):
    attention = built(score, memory=memory, query=query)
    hs_enc, hs_dec = states(memory=memory, query=query)
    R = np.random.default_rng(1).normal(size=(N, T_OUT, memory))
    attention.forward(hs_enc, hs_dec)
    dhs_enc, dhs_dec = attention.backward(R)
    analytic = {"hs_enc": dhs_enc, "hs_dec": dhs_dec, **{key: grad.copy() for key, grad in attention.grads.items()}}
    wrt = {"hs_enc": hs_enc, "hs_dec": hs_dec, **attention.params}

    def scalar() -> float:
        return float(np.sum(attention.forward(hs_enc, hs_dec) * R))

    errors = {key: relative_error(analytic[key], numerical_gradient(scalar, wrt[key])) for key in wrt}
    assert set(errors) == {"hs_enc", "hs_dec", *(("W_enc", "W_dec", "v") if score == "additive" else ())}
    assert max(errors.values()) < 1e-7, errors


def test_dot_attention_is_the_textbooks_step_by_step():
    hs_enc, hs_dec = states(2)
    fast, reference = built("dot"), DotAttentionReference()
    np.testing.assert_allclose(fast.forward(hs_enc, hs_dec), reference.forward(hs_enc, hs_dec), rtol=1e-12)
    np.testing.assert_allclose(fast.weights, reference.weights, rtol=1e-12)
    dcontext = np.random.default_rng(3).normal(size=(N, T_OUT, H))
    for ours, theirs in zip(fast.backward(dcontext), reference.backward(dcontext)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_additive_scores_are_a_tanh_network_on_each_pair():
    attention = built("additive")
    hs_enc, hs_dec = states(4)
    attention.forward(hs_enc, hs_dec)
    W_enc, W_dec, v = (attention.params[key] for key in ("W_enc", "W_dec", "v"))
    n, t, s = 2, 3, 1
    score = v @ np.tanh(hs_enc[n, s] @ W_enc + hs_dec[n, t] @ W_dec)
    scores = np.log(attention.weights[n, t])  # softmax inverted, up to a constant per row
    assert scores[s] - scores[0] == pytest.approx(score - v @ np.tanh(hs_enc[n, 0] @ W_enc + hs_dec[n, t] @ W_dec))


@pytest.mark.parametrize("score", ["dot", "additive"])
def test_weights_are_a_distribution_over_the_input_and_the_context_their_mix(score):
    attention = built(score, np.float32)
    hs_enc, hs_dec = states(5, np.float32)
    context = attention.forward(hs_enc, hs_dec)
    assert context.dtype == attention.weights.dtype == np.float32  # no float64 on the way
    assert attention.weights.shape == (N, T_OUT, T_IN) and (attention.weights >= 0).all()
    np.testing.assert_allclose(attention.weights.sum(axis=-1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(context[1, 2], attention.weights[1, 2] @ hs_enc[1], rtol=1e-5)
    dhs_enc, dhs_dec = attention.backward(np.ones_like(context))
    assert dhs_enc.dtype == dhs_dec.dtype == np.float32
    assert all(grad.dtype == np.float32 for grad in attention.grads.values())


def test_a_decoder_state_like_one_input_state_looks_at_it():
    hs_enc = np.eye(T_IN, H)[None] * 10.0  # input step s: a large unit vector along axis s
    attention = built("dot")
    attention.forward(hs_enc, hs_enc[:, [3, 1]])
    np.testing.assert_array_equal(attention.weights.argmax(axis=-1), [[3, 1]])
    assert attention.weights.max() > 0.99


def test_one_decoder_step_at_a_time_gives_the_all_steps_pass():
    """Generating attends one output step at a time; teacher forcing all at once: the same weights."""
    attention = built("additive")
    hs_enc, hs_dec = states(6)
    together = attention.forward(hs_enc, hs_dec).copy()
    one_by_one = np.concatenate([attention.forward(hs_enc, hs_dec[:, t : t + 1]) for t in range(T_OUT)], axis=1)
    np.testing.assert_allclose(one_by_one, together, rtol=1e-12)


def test_dot_attention_needs_states_of_one_width():
    with pytest.raises(ValueError, match="dot attention needs states of one width, got 6 and 4"):
        built("dot", memory=6, query=4)
