"""Wrappers: bidirectional as two recurrent layers read both ways, time_distributed as a layer per step."""

from __future__ import annotations

import numpy as np
import pytest

from dnnexp.core.layers import ShapeError
from dnnexp.spec.build import sequential

N, T, D = 3, 4, 2


@pytest.mark.parametrize("return_sequences", [True, False])
@pytest.mark.parametrize("merge", ["concat", "sum"])
def test_bidirectional_is_a_forward_and_a_reversed_copy(merge, return_sequences, build_layer):
    spec = {"type": "gru", "units": 5, "return_sequences": return_sequences}
    layer = build_layer({"type": "bidirectional", "layer": spec, "merge": merge}, (T, D))
    x = np.random.default_rng(0).normal(size=(N, T, D))
    forwards, backwards = layer.forward_layer.forward(x), layer.backward_layer.forward(x[:, ::-1])
    if return_sequences:
        backwards = backwards[:, ::-1]  # step t of the reversed reading sits at t again
    expected = np.concatenate([forwards, backwards], axis=-1) if merge == "concat" else forwards + backwards
    np.testing.assert_array_equal(layer.forward(x), expected)
    # Two layers with their own weights, both drawn at build.
    assert not np.array_equal(layer.params["forward.W"], layer.params["backward.W"])


def test_bidirectional_names_its_halves_in_a_model():
    model = sequential((T, D), [
        {"type": "bidirectional", "layer": {"type": "lstm", "units": 3}},
        {"type": "dense", "units": 2, "activation": "softmax"},
    ])
    assert model.output_shapes[0] == (6,)
    assert [k for k in model.params if k.startswith("bidirectional1.")] == [
        f"bidirectional1.{half}.{p}" for half in ("forward", "backward") for p in ("W_in", "W", "b")
    ]
    assert "bidirectional1.forward.W_in" in model.penalized and "bidirectional1.backward.b" not in model.penalized
    # The model's gradient views are the halves' own arrays, which backward fills in place.
    assert model.grads["bidirectional1.backward.W"] is model.layers[0].backward_layer.grads["W"]


def test_bidirectional_wraps_only_a_recurrent_layer(build_layer):
    with pytest.raises(ShapeError, match="wraps one recurrent layer"):
        build_layer({"type": "bidirectional", "layer": {"type": "dense", "units": 3}}, (T, D))


def test_time_distributed_applies_one_layer_at_every_step(build_layer):
    layer = build_layer({"type": "time_distributed", "layer": {"type": "dense", "units": 2, "activation": "sigmoid"}}, (T, D))
    x = np.random.default_rng(1).normal(size=(N, T, D))
    W, b = layer.params["dense1.W"], layer.params["dense1.b"]
    expected = np.stack([1 / (1 + np.exp(-(x[:, t] @ W + b))) for t in range(T)], axis=1)
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-12)
    assert [name for name in layer.wrapped] == ["dense1", "sigmoid1"]


def test_time_distributed_in_a_model_has_the_course_output_layer():
    model = sequential((8, 2), [
        {"type": "simple_rnn", "units": 16, "activation": "relu", "return_sequences": True},
        {"type": "time_distributed", "layer": {"type": "dense", "units": 1, "activation": "sigmoid"}},
    ])
    assert model.output_shapes == [(8, 16), (8, 1)]
    assert list(model.params) == ["simple_rnn1.W_in", "simple_rnn1.W", "simple_rnn1.b",
                                  "time_distributed1.dense1.W", "time_distributed1.dense1.b"]
    assert model.penalized == ["simple_rnn1.W_in", "simple_rnn1.W", "time_distributed1.dense1.W"]


def test_time_distributed_refuses_inputs_without_a_time_axis(build_layer):
    with pytest.raises(ShapeError, match="sequences"):
        build_layer({"type": "time_distributed", "layer": {"type": "dense", "units": 2}}, (D,))
