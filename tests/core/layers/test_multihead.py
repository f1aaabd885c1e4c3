"""Multi-head attention: against a loop over samples and heads of the paper's formula, masks, cross-attention's
gradients for both inputs, and shapes. (Self-attention's gradients: tests/core/test_gradcheck.py.)"""

from __future__ import annotations

import math

import numpy as np
import pytest

from dnnexp.core.gradcheck import numerical_gradient, relative_error
from dnnexp.core.layers import ShapeError
from dnnexp.core.layers.multihead import causal_mask
from tests.core.test_gradcheck import TOLERANCE


def reference(layer, x: np.ndarray, memory: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """softmax(Q Kᵀ / √d_k) V one sample and one head at a time, hidden keys left out of the
    softmax altogether; allowed (N, T_q, T_k) bool."""
    p, h = layer.params, layer.heads
    N, T_q, D = x.shape
    d_k = D // h
    out = np.zeros((N, T_q, D))
    for n in range(N):
        Q, K, V = x[n] @ p["W_q"] + p["b_q"], memory[n] @ p["W_k"], memory[n] @ p["W_v"] + p["b_v"]
        heads = []
        for i in range(h):
            part = slice(i * d_k, (i + 1) * d_k)
            scores = Q[:, part] @ K[:, part].T / math.sqrt(d_k)
            weights = np.where(allowed[n], np.exp(scores - scores.max()), 0.0)
            heads.append(weights / weights.sum(axis=1, keepdims=True) @ V[:, part])
        out[n] = np.concatenate(heads, axis=1) @ p["W_o"] + p["b_o"]
    return out


@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
def test_self_attention_is_the_formula_per_sample_and_head(build_layer, causal):
    layer = build_layer({"type": "multi_head_attention", "heads": 3, "causal": causal}, (5, 6))
    x = np.random.default_rng(0).normal(size=(4, 5, 6))
    allowed = np.broadcast_to(causal_mask(5, 5) if causal else True, (4, 5, 5))
    np.testing.assert_allclose(layer.forward(x), reference(layer, x, x, allowed), rtol=1e-12, atol=1e-12)
    weights = layer.attention_weights
    assert weights.shape == (4, 3, 5, 5)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0)
    if causal:
        assert (weights[..., ~causal_mask(5, 5)] == 0.0).all()


def test_a_causal_step_is_blind_to_the_steps_after_it(build_layer):
    layer = build_layer({"type": "multi_head_attention", "heads": 2, "causal": True}, (6, 4))
    x = np.random.default_rng(1).normal(size=(3, 6, 4))
    before = layer.forward(x).copy()
    x[:, 4:] += 10.0
    after = layer.forward(x)
    np.testing.assert_array_equal(after[:, :4], before[:, :4])
    assert not np.allclose(after[:, 4:], before[:, 4:])


def cross_attention(build_layer, causal: bool = False):
    layer = build_layer({"type": "multi_head_attention", "heads": 2, "causal": causal}, (3, 4))
    rng = np.random.default_rng(2)
    x, memory = rng.normal(size=(4, 3, 4)), rng.normal(size=(4, 5, 4))
    key_mask = rng.random((4, 5)) > 0.4
    key_mask[1] = True
    key_mask[2] = False  # every key hidden: equal weights, and no NaN
    key_mask[3] = [True, False, False, False, False]  # one key: all the weight
    return layer, x, memory, key_mask


def test_hidden_keys_get_no_weight_and_change_nothing(build_layer):
    layer, x, memory, key_mask = cross_attention(build_layer)
    out = layer.attend(x, memory, key_mask)
    seen = [0, 1, 3]  # sample 2 has every key hidden
    allowed = np.broadcast_to(key_mask[seen, None, :], (3, 3, 5))
    np.testing.assert_allclose(out[seen], reference(layer, x[seen], memory[seen], allowed), rtol=1e-12, atol=1e-12)
    weights = layer.attention_weights
    assert (weights[0][..., ~key_mask[0]] == 0.0).all()
    np.testing.assert_allclose(weights[3][..., 0], 1.0)
    np.testing.assert_allclose(weights[2], 1 / 5)  # a row with every key hidden reads them all alike
    memory[~key_mask] += 100.0
    np.testing.assert_array_equal(layer.attend(x, memory, key_mask)[seen], out[seen])


@pytest.mark.parametrize("causal", [False, True], ids=["key-mask", "key-mask-and-causal"])
def test_cross_attention_gradients_for_both_inputs_and_every_parameter(build_layer, causal):
    layer, x, memory, key_mask = cross_attention(build_layer, causal)
    R = np.random.default_rng(3).normal(size=(4, 3, 4))
    layer.attend(x, memory, key_mask)
    dx, dmemory = layer.backward_attend(R.copy())
    analytic = {"x": dx, "memory": dmemory, **{key: grad.copy() for key, grad in layer.grads.items()}}

    def scalar() -> float:
        return float(np.sum(layer.attend(x, memory, key_mask) * R))

    wrt = {"x": x, "memory": memory, **layer.params}
    errors = {key: relative_error(analytic[key], numerical_gradient(scalar, wrt[key])) for key in analytic}
    assert max(errors.values()) < TOLERANCE, errors
    assert set(errors) == {"x", "memory", "W_q", "b_q", "W_k", "W_v", "b_v", "W_o", "b_o"}


def test_hidden_keys_get_no_gradient(build_layer):
    layer, x, memory, key_mask = cross_attention(build_layer)
    layer.attend(x, memory, key_mask)
    _, dmemory = layer.backward_attend(np.ones((4, 3, 4)))
    partly = key_mask.any(axis=1)  # a sample with every key hidden reads them all
    assert (dmemory[partly][~key_mask[partly]] == 0.0).all()
    assert (np.abs(dmemory[key_mask]) > 0).all()


def test_float32_in_float32_out(build_layer):
    layer = build_layer({"type": "multi_head_attention", "heads": 2, "causal": True}, (3, 4), dtype=np.float32)
    x = np.random.default_rng(4).normal(size=(2, 3, 4)).astype(np.float32)
    assert layer.forward(x).dtype == np.float32 and layer.attention_weights.dtype == np.float32
    assert layer.backward(np.ones_like(x)).dtype == np.float32
    assert {grad.dtype for grad in layer.grads.values()} == {np.dtype(np.float32)}


def test_without_its_input_gradient_backward_still_fills_the_parameters(build_layer):
    layer = build_layer({"type": "multi_head_attention", "heads": 1}, (3, 2))
    layer.needs_input_grad = False
    layer.forward(np.random.default_rng(5).normal(size=(2, 3, 2)))
    assert layer.backward(np.ones((2, 3, 2))) is None
    assert np.abs(layer.grads["W_q"]).sum() > 0


def test_causal_mask_lets_the_last_query_read_every_key():
    np.testing.assert_array_equal(causal_mask(3, 3), np.tril(np.ones((3, 3), bool)))
    np.testing.assert_array_equal(causal_mask(2, 4), [[1, 1, 1, 0], [1, 1, 1, 1]])


@pytest.mark.parametrize(
    "spec, shape, match",
    [
        ({"heads": 4}, (5, 6), "6 features do not split into 4 heads"),
        ({"heads": 2}, (6,), r"sequences \(T, D\)"),
        ({"heads": 2}, (2, 3, 4), r"sequences \(T, D\)"),
    ],
)
def test_shapes_it_cannot_take(output_shape, spec, shape, match):
    with pytest.raises(ShapeError, match=match):
        output_shape({"type": "multi_head_attention", **spec}, shape)
