"""Every registered layer, activation, loss and penalty, whole models and the optimizer surfaces,
against finite differences.

The tables below give each registered name a small example; a name registered later without one
fails its test with a message saying where to add it, so no layer goes unchecked.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

from dnnexp.core.gradcheck import (
    RELATIVE_ERROR_FLOOR,
    check_layer,
    check_loss,
    check_model,
    fixed_noise,
    numerical_gradient,
    relative_error,
)
from dnnexp.core.layers import BuildContext
from dnnexp.core.layers.dense import Dense
from dnnexp.core.losses import CrossEntropy
from dnnexp.spec.build import sequential
from tests.core.conftest import token_data
from dnnexp.core.surfaces import SURFACES
from dnnexp.spec.registry import ACTIVATIONS, LAYERS, LOSSES, MODELS, REGULARIZERS

#: largest relative error a correct backward pass may show in float64 (correct ones give ~1e-9)
TOLERANCE = 1e-6
#: a wrong backward pass is off by far more than rounding
WRONG = 1e-2
N, K = 5, 4

#: per registered layer type: (spec arguments, input shape without the batch axis) examples
LAYER_EXAMPLES: dict[str, list[tuple[dict[str, Any], tuple[int, ...]]]] = {
    "dense": [({"units": 3}, (4,)), ({"units": 3, "use_bias": False, "init": "he_normal"}, (4,))],
    "activation": [({"activation": "tanh"}, (5,)), ({"activation": {"name": "leaky_relu", "alpha": 0.2}}, (5,))],
    "batchnorm": [({}, (4,)), ({"momentum": 0.5}, (2, 3, 3))],
    "dropout": [({"rate": 0.5}, (6,))],
    # Images (C, H, W): stride 2, int and 'same' padding, non-square inputs and kernels (batch size
    # 1 in tests/core/layers/test_conv.py and test_pool.py).
    "conv2d": [
        ({"filters": 2, "kernel_size": [3, 2], "stride": 2, "padding": 1}, (2, 5, 4)),
        ({"filters": 3, "kernel_size": 2, "padding": "same", "use_bias": False}, (1, 3, 4)),
    ],
    "maxpool2d": [({"pool_size": 2}, (2, 4, 6)), ({"pool_size": 3, "stride": 2, "padding": "same"}, (1, 5, 4))],
    "avgpool2d": [({"pool_size": [2, 3], "stride": 1, "padding": 1}, (2, 3, 4))],
    "global_avg_pool2d": [({}, (3, 2, 4))],
    "flatten": [({}, (2, 3, 2))],
    # Sequences (T, D): lengths 1 and > 1, all steps' outputs or the last one's.
    "simple_rnn": [
        ({"units": 3}, (4, 2)), ({"units": 3}, (1, 2)),
        ({"units": 3, "activation": "relu", "return_sequences": True, "recurrent_init": "xavier_normal"}, (5, 2)),
        # truncation at least as long as the sequence is full BPTT (shorter ones: tests/core/layers/test_recurrent.py)
        ({"units": 3, "return_sequences": True, "truncate_bptt": 4}, (4, 2)),
    ],
    "lstm": [
        ({"units": 3}, (4, 2)), ({"units": 3, "return_sequences": True}, (1, 2)),
        ({"units": 3, "return_sequences": True, "peephole": True, "peephole_init": {"name": "normal", "std": 0.5}}, (4, 2)),
        ({"units": 2, "peephole": True, "peephole_init": {"name": "normal", "std": 0.5}}, (1, 3)),
    ],
    "gru": [({"units": 3}, (4, 2)), ({"units": 3, "return_sequences": True}, (1, 2)), ({"units": 3, "return_sequences": True}, (5, 2))],
    "bidirectional": [
        ({"layer": {"type": "lstm", "units": 3, "return_sequences": True}}, (4, 2)),
        ({"layer": {"type": "gru", "units": 3}, "merge": "sum"}, (4, 2)),
        ({"layer": {"type": "simple_rnn", "units": 2, "return_sequences": True}, "merge": "sum"}, (1, 3)),
    ],
    "time_distributed": [
        ({"layer": {"type": "dense", "units": 2, "activation": "sigmoid"}}, (4, 3)),
        ({"layer": {"type": "dense", "units": 2}}, (1, 3)),
    ],
    "embedding": [({"vocab_size": 7, "dim": 3}, (5,))],
    # The Transformer's layers on sequences (T, D); cross-attention and key masks: tests/core/layers/test_multihead.py.
    "multi_head_attention": [({"heads": 2}, (4, 6)), ({"heads": 3, "causal": True}, (5, 6)), ({"heads": 1, "causal": True}, (1, 4))],
    "layer_norm": [({}, (5,)), ({"eps": 1e-3}, (3, 4))],
    "positional_encoding": [({}, (4, 6)), ({}, (3, 5))],
    "feed_forward": [({"units": 5}, (3, 4)), ({"units": 2, "init": "he_normal"}, (1, 3))],
}

#: layers whose input is not real numbers: how to draw a batch of it (default: standard normal)
LAYER_INPUTS: dict[str, Callable[[np.random.Generator, tuple[int, ...]], np.ndarray]] = {
    "embedding": lambda rng, shape: rng.integers(0, 7, shape),
}

#: per registered loss: named ways of drawing targets for (N, K) outputs
LOSS_TARGETS: dict[str, dict[str, Callable[[np.random.Generator], np.ndarray]]] = {
    "mse": {"real": lambda rng: rng.normal(size=(N, K))},
    # spread wide enough that some differences fall beyond δ = 1, where the gradient is ±δ
    "huber": {"real": lambda rng: rng.normal(scale=3.0, size=(N, K))},
    "binary_cross_entropy": {
        "binary": lambda rng: rng.integers(0, 2, (N, K)).astype(np.float64),
        "soft": lambda rng: rng.uniform(size=(N, K)),
    },
    "cross_entropy": {
        "labels": lambda rng: rng.integers(0, K, N),
        "one_hot": lambda rng: np.eye(K)[rng.integers(0, K, N)],
    },
}


def missing_example(kind: str, name: str, table: str) -> str:
    return f"{kind} '{name}' has no gradient check: add an example for it to {table} in {__file__}"


def away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Normal draws pushed at least 0.1 away from 0, where relu, leaky_relu, step and |w| have kinks."""
    x = rng.normal(size=shape)
    return x + 0.1 * np.sign(x)


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("kind", LAYERS.names())
def test_layer_gradients(kind: str, train: bool, build_layer) -> None:
    assert kind in LAYER_EXAMPLES, missing_example("layer", kind, "LAYER_EXAMPLES")
    rng = np.random.default_rng(0)
    for args, shape in LAYER_EXAMPLES[kind]:
        layer = build_layer({"type": kind, **args}, shape)
        draw = LAYER_INPUTS.get(kind)
        # Training batches first, so that evaluation runs on running statistics other than the initial ones.
        for _ in range(3):
            layer.forward(draw(rng, (N, *shape)) if draw else rng.normal(1.0, 2.0, (N, *shape)), train=True)
        errors = check_layer(layer, draw(rng, (N, *shape)) if draw else rng.normal(size=(N, *shape)), train=train)
        # Token ids have no gradient: an embedding checks its table only.
        assert set(errors) == {"x", *layer.params} - (set() if layer.needs_input_grad else {"x"})
        assert max(errors.values()) < TOLERANCE, (args, errors)


@pytest.mark.parametrize("name", ACTIVATIONS.names())
def test_activation_gradients(name: str) -> None:
    errors = check_layer(ACTIVATIONS.build(name), away_from_zero(np.random.default_rng(1), (N, K)))
    assert errors["x"] < TOLERANCE


def test_step_gradient_is_zero_and_finite_differences_agree() -> None:
    step, rng = ACTIVATIONS.build("step"), np.random.default_rng(2)
    x, R = away_from_zero(rng, (N, K)), rng.normal(size=(N, K))
    step.forward(x)
    assert np.array_equal(step.backward(R), np.zeros((N, K)))
    assert np.array_equal(numerical_gradient(lambda: float(np.sum(step.forward(x) * R)), x), np.zeros((N, K)))


@pytest.mark.parametrize("logits", [False, True], ids=["plain", "fused"])
@pytest.mark.parametrize("name", LOSSES.names())
def test_loss_gradients(name: str, logits: bool) -> None:
    assert name in LOSS_TARGETS, missing_example("loss", name, "LOSS_TARGETS")
    loss, rng = LOSSES.build(name), np.random.default_rng(3)
    for targets, draw in LOSS_TARGETS[name].items():
        u, t = rng.normal(size=(N, K)), draw(rng)
        # The plain form is checked where it is used: on the output activation's values.
        y = u if logits else ACTIVATIONS.build(loss.output_activation).forward(u)
        assert check_loss(loss, y, t, logits=logits) < TOLERANCE, targets


@pytest.mark.parametrize("name", REGULARIZERS.names())
def test_penalty_gradients(name: str) -> None:
    penalty, w = REGULARIZERS.build({"name": name, "lam": 0.3}), away_from_zero(np.random.default_rng(4), (3, 4))
    grad = np.zeros_like(w)
    penalty.add_grad(w, grad)
    assert relative_error(grad, numerical_gradient(lambda: penalty.loss(w), w)) < TOLERANCE


@pytest.mark.parametrize("name", SURFACES)
def test_optimizer_surface_gradients(name: str) -> None:
    surface, p = SURFACES[name], np.random.default_rng(5).normal(size=2)
    assert relative_error(surface(p)[1], numerical_gradient(lambda: surface(p)[0], p)) < TOLERANCE


def dense(units: int, activation: str | None = None) -> dict[str, Any]:
    return {"type": "dense", "units": units, **({"activation": activation} if activation else {})}


#: (layers, loss, targets, whether training takes the fused path)
MODEL_EXAMPLES = {
    "dense-relu-batchnorm-dropout-dense-softmax + cross_entropy": (
        [dense(6, "relu"), {"type": "batchnorm"}, {"type": "dropout", "rate": 0.3}, dense(K, "softmax")],
        "cross_entropy", LOSS_TARGETS["cross_entropy"]["labels"], True,
    ),
    "dense-tanh-dense-softmax + one-hot cross_entropy": (
        [dense(6, "tanh"), dense(K, "softmax")], "cross_entropy", LOSS_TARGETS["cross_entropy"]["one_hot"], True,
    ),
    "dense-tanh-dense-sigmoid + binary_cross_entropy": (
        [dense(6, "tanh"), dense(K, "sigmoid")], "binary_cross_entropy",
        LOSS_TARGETS["binary_cross_entropy"]["binary"], True,
    ),
    "dense-sigmoid-dense + mse": ([dense(6, "sigmoid"), dense(K)], "mse", LOSS_TARGETS["mse"]["real"], False),
    "dense-dense-softmax + mse": ([dense(6), dense(K, "softmax")], "mse", LOSS_TARGETS["mse"]["real"], False),
}


@pytest.mark.parametrize("example", MODEL_EXAMPLES)
def test_model_gradients(example: str) -> None:
    layers, loss_name, draw, fused = MODEL_EXAMPLES[example]
    rng = np.random.default_rng(5)
    model, loss = sequential((3,), layers, dtype=np.float64), LOSSES.build(loss_name)
    assert model.fuses(loss) == fused
    errors = check_model(model, rng.normal(size=(N, 3)), draw(rng), loss)
    assert set(errors) == set(model.params)
    assert max(errors.values()) < TOLERANCE, errors


#: per registered model kind but sequential (MODEL_EXAMPLES): (spec arguments, sample shape) examples;
#: the vocabulary has V tokens, replies TOKENS_OUT, the end token END (where given)
V, TOKENS_OUT, END = 6, 3, 2
MODEL_KIND_EXAMPLES: dict[str, list[tuple[dict[str, Any], tuple[int, ...]]]] = {
    "seq2seq": [
        ({"embedding": 3, "units": 4}, (4,)),
        ({"embedding": 2, "units": 3, "cell": "gru", "reverse_input": True}, (1,)),
        ({"embedding": 2, "units": 3, "cell": "simple_rnn", "peeky": True}, (3,)),
        ({"embedding": 2, "units": 3, "reverse_input": True, "peeky": True}, (3,)),
        ({"embedding": 3, "units": 4, "attention": "dot"}, (4,)),
        ({"embedding": 2, "units": 3, "cell": "gru", "attention": "additive", "reverse_input": True}, (3,)),
        ({"embedding": 2, "units": 4, "cell": "simple_rnn", "attention": "dot", "bidirectional": True, "peeky": True}, (3,)),
        ({"embedding": 2, "units": 4, "attention": "additive", "bidirectional": True}, (3,)),
        ({"embedding": 2, "units": 4, "cell": "gru", "bidirectional": True}, (3,)),
    ],
    "hred": [
        ({"embedding": 3, "units": 3, "context_units": 4}, (2, 3)),
        ({"embedding": 2, "units": 3, "context_units": 2, "cell": "lstm", "peeky": True}, (1, 2)),
    ],
    # one block and two, several heads and one, with dropout (masks fixed) and an input of one token
    "transformer": [
        ({"d_model": 4, "heads": 2, "d_ff": 6, "blocks": 1}, (4,)),
        ({"d_model": 6, "heads": 3, "d_ff": 3, "blocks": 2, "dropout": 0.3}, (3,)),
        ({"d_model": 4, "heads": 1, "d_ff": 4, "blocks": 2}, (1,)),
    ],
    # kl_anneal_steps 8 with 3 steps taken: β = 3/8 (every forward pass starts from step 3; see below)
    "vhred": [
        ({"embedding": 3, "units": 3, "context_units": 4, "latent": 2, "kl_anneal_steps": 8}, (2, 4)),
        ({"embedding": 2, "units": 3, "context_units": 2, "latent": 3, "kl_anneal_steps": 0, "cell": "lstm", "peeky": True}, (3, 2)),
    ],
}


@pytest.mark.parametrize("kind", [kind for kind in MODELS.names() if kind != "sequential"])
def test_model_kind_gradients(kind: str) -> None:
    assert kind in MODEL_KIND_EXAMPLES, missing_example("model kind", kind, "MODEL_KIND_EXAMPLES")
    rng = np.random.default_rng(11)
    for args, shape in MODEL_KIND_EXAMPLES[kind]:
        model = MODELS.get(kind)(**args)
        model.build(token_data(shape, V, start=1, end=END, length=TOKENS_OUT), BuildContext(rng, rng, np.float64))
        # Weights of order 1: the small initial ones leave the encoders' gradients too small for
        # finite differences to measure to 1e-6.
        for value in model.params.values():
            value[...] = rng.normal(0.0, 0.7, value.shape)
        x, t = rng.integers(0, V, (N, *shape)), rng.integers(0, V, (N, 1 + TOKENS_OUT))

        same_masks = fixed_noise(model.layers)

        def same_draws() -> None:
            # The same latent draws and dropout masks in every pass, from the same point of the KL annealing.
            model.rng = np.random.default_rng(0)
            same_masks()
            for buffer in model.buffers.values():
                buffer[...] = 3

        errors = check_model(model, x, t, CrossEntropy(), before_forward=same_draws)
        assert set(errors) == set(model.params)
        assert max(errors.values()) < TOLERANCE, (args, errors)


class MisscaledDense(Dense):
    """A dense layer whose backward pass gets one gradient 10% wrong: what the checker must catch."""

    def __init__(self, wrong: str):
        super().__init__(units=3)
        self.wrong = wrong

    def backward(self, dout):
        dx = super().backward(dout)
        if self.wrong == "x":
            return 1.1 * dx
        self.grads[self.wrong] *= 1.1
        return dx


@pytest.mark.parametrize("wrong", ["x", "W", "b"])
def test_check_layer_catches_a_wrong_gradient(wrong: str) -> None:
    layer = MisscaledDense(wrong)
    layer.build((4,), BuildContext(dtype=np.float64))
    errors = check_layer(layer, np.random.default_rng(6).normal(size=(N, 4)))
    assert errors.pop(wrong) > WRONG
    assert max(errors.values()) < TOLERANCE


class MisscaledCrossEntropy(CrossEntropy):
    """Cross-entropy whose fused gradient is 10% off: the path a softmax model trains on."""

    def backward_logits(self):
        return 1.1 * super().backward_logits()


def test_check_model_catches_a_wrong_fused_gradient() -> None:
    model = sequential((3,), [dense(K, "softmax")], dtype=np.float64)
    rng = np.random.default_rng(7)
    errors = check_model(model, rng.normal(size=(N, 3)), rng.integers(0, K, N), MisscaledCrossEntropy())
    assert min(errors.values()) > WRONG


def test_dropout_check_needs_the_mask_fixed(build_layer) -> None:
    layer, x = build_layer({"type": "dropout", "rate": 0.5}, (6,)), np.random.default_rng(8).normal(size=(N, 6))
    assert check_layer(layer, x)["x"] < TOLERANCE
    assert check_layer(layer, x, before_forward=lambda: None)["x"] > WRONG


def test_first_layer_of_a_model_is_checked_without_input_gradient(build_layer) -> None:
    layer = build_layer({"type": "dense", "units": 3}, (4,))
    layer.needs_input_grad = False
    errors = check_layer(layer, np.random.default_rng(9).normal(size=(N, 4)))
    assert set(errors) == {"W", "b"} and max(errors.values()) < TOLERANCE


def test_numerical_gradient_of_a_cube_and_x_restored() -> None:
    x = np.random.default_rng(10).normal(size=(3, 2))
    before = x.copy()
    grad = numerical_gradient(lambda: float(np.sum(x**3)), x)
    np.testing.assert_allclose(grad, 3 * before**2, rtol=1e-8)
    assert np.array_equal(x, before)


def test_numerical_gradient_refuses_float32() -> None:
    with pytest.raises(TypeError, match="float64"):
        numerical_gradient(lambda: 0.0, np.zeros(3, np.float32))


@pytest.mark.parametrize(
    "a, b, expected",
    [([1.0, 2.0], [1.0, 2.0], 0.0), ([1.0, 2.0], [-1.0, -2.0], 1.0), ([3.0, 0.0], [0.0, 4.0], 5 / 7)],
)
def test_relative_error_does_not_depend_on_scale(a: list[float], b: list[float], expected: float) -> None:
    for scale in (1e-6, 1.0, 1e6):
        assert relative_error(scale * np.array(a), scale * np.array(b)) == pytest.approx(expected, abs=1e-15)


def test_relative_error_floor_keeps_zero_gradients_comparable() -> None:
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(np.array([1e-20, 0.0]), np.zeros(2)) == pytest.approx(1e-20 / RELATIVE_ERROR_FLOOR, rel=1e-12)


def test_relative_error_refuses_different_shapes() -> None:
    with pytest.raises(ValueError, match="shapes"):
        relative_error(np.zeros(3), np.zeros((3, 1)))
