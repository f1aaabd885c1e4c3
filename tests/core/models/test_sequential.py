"""Sequential: building from specs, shapes and names, state, modes, the fused loss, and learning."""

from __future__ import annotations

import numpy as np
import pytest

from dnnexp.core.layers import ShapeError
from dnnexp.core.models.sequential import Sequential
from dnnexp.spec.build import sequential
from dnnexp.spec.registry import LOSSES, OPTIMIZERS

MLP = [
    {"type": "dense", "units": 100, "activation": "relu"},
    {"type": "dense", "units": 10, "activation": "softmax"},
]
NOISY = [
    {"type": "dense", "units": 8, "activation": "relu"},
    {"type": "batchnorm"},
    {"type": "dropout", "rate": 0.5},
    {"type": "dense", "units": 3, "activation": "softmax"},
]


def noisy_model(seed: int = 0, dtype: type = np.float32) -> Sequential:
    return sequential((4,), NOISY, rng=np.random.default_rng(seed), dtype=dtype)


def test_layers_names_and_shapes() -> None:
    model = sequential((784,), MLP)
    assert [layer.name for layer in model.layers] == ["dense1", "relu1", "dense2", "softmax1"]
    assert model.output_shapes == [(100,), (100,), (10,), (10,)]
    assert model.output_shape == (10,)
    assert list(model.params) == ["dense1.W", "dense1.b", "dense2.W", "dense2.b"]
    assert list(model.grads) == list(model.params)
    assert model.params["dense1.W"].shape == (784, 100) and model.params["dense1.W"].dtype == np.float32
    assert model.penalized == ["dense1.W", "dense2.W"]


def test_summary_counts_parameters_per_layer() -> None:
    model = sequential((784,), MLP)
    assert [(name, kind, count) for name, kind, _, count in model.summary_rows()] == [
        ("dense1", "dense", 78_500), ("relu1", "relu", 0), ("dense2", "dense", 1_010), ("softmax1", "softmax", 0),
    ]
    assert model.count_params() == 79_510


def test_activation_layers_are_named_after_their_function() -> None:
    model = sequential((4,), [{"type": "activation", "activation": "tanh"}, {"type": "dense", "units": 2}])
    assert [layer.name for layer in model.layers] == ["tanh1", "dense1"]


def test_shape_error_says_which_spec_layer() -> None:
    with pytest.raises(ShapeError) as caught:
        sequential((1, 28, 28), [{"type": "batchnorm"}, {"type": "dense", "units": 10, "activation": "relu"}])
    assert (caught.value.index, caught.value.layer_type) == (1, "dense")


def test_gradients_are_views_that_backward_fills() -> None:
    model = sequential((3,), [{"type": "dense", "units": 2}, {"type": "dense", "units": 2}])
    model.forward(np.ones((4, 3), np.float32))
    assert model.backward(np.ones((4, 2), np.float32)) is None  # the first layer skips dL/dx
    assert model.grads["dense1.b"] is model.layers[0].grads["b"]
    assert np.any(model.grads["dense1.W"] != 0)


def test_state_round_trip_restores_parameters_and_running_statistics(through_npz) -> None:
    model, x = noisy_model(seed=0), np.random.default_rng(0).normal(size=(16, 4)).astype(np.float32)
    model.forward(x, train=True)
    assert set(model.state_arrays()) == {*model.params, "batchnorm1.running_mean", "batchnorm1.running_var"}
    other = noisy_model(seed=1)
    assert not np.array_equal(other.forward(x), model.forward(x))
    other.load_state_arrays(through_npz(model.state_arrays()))
    np.testing.assert_array_equal(other.forward(x), model.forward(x))


def test_loading_state_of_another_model_fails(through_npz) -> None:
    model, state = noisy_model(), through_npz(noisy_model().state_arrays())
    with pytest.raises(KeyError, match="batchnorm1.running_var"):
        model.load_state_arrays({key: value for key, value in state.items() if key != "batchnorm1.running_var"})
    with pytest.raises(ValueError, match="dense1.W"):
        model.load_state_arrays({**state, "dense1.W": np.zeros((5, 8), np.float32)})


def test_evaluation_is_deterministic_and_training_is_not() -> None:
    model, x = noisy_model(), np.random.default_rng(0).normal(size=(16, 4)).astype(np.float32)
    np.testing.assert_array_equal(model.forward(x, train=False), model.forward(x, train=False))
    assert not np.array_equal(model.forward(x, train=True), model.forward(x, train=True))


def test_running_statistics_change_only_in_training() -> None:
    model, x = noisy_model(), np.random.default_rng(0).normal(3.0, 2.0, (16, 4)).astype(np.float32)
    before = {key: value.copy() for key, value in model.buffers.items()}
    model.forward(x, train=False)
    assert all(np.array_equal(model.buffers[key], before[key]) for key in before)
    model.forward(x, train=True)
    assert all(not np.array_equal(model.buffers[key], before[key]) for key in before)


@pytest.mark.parametrize(
    "head, loss_name, t",
    [
        ("softmax", "cross_entropy", np.array([0, 2, 1, 2, 0, 1])),
        ("sigmoid", "binary_cross_entropy", np.eye(6, 3)),
    ],
)
def test_fused_and_unfused_loss_agree(head: str, loss_name: str, t: np.ndarray) -> None:
    model = sequential(
        (4,), [{"type": "dense", "units": 5, "activation": "tanh"}, {"type": "dense", "units": 3, "activation": head}],
        dtype=np.float64,
    )
    loss, x = LOSSES.build(loss_name), np.random.default_rng(0).normal(size=(6, 4))
    assert model.fuses(loss)
    fused_value, y = model.forward_loss(x, t, loss)
    model.backward_loss(loss)
    fused_grads = {key: grad.copy() for key, grad in model.grads.items()}
    np.testing.assert_array_equal(y, model.forward(x))
    assert loss.forward(model.forward(x), t) == pytest.approx(fused_value, rel=1e-12)
    model.backward(loss.backward())
    for key, grad in model.grads.items():
        np.testing.assert_allclose(grad, fused_grads[key], rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize(
    "pool", [{"pool_size": 2}, {"pool_size": 3, "stride": 2, "padding": "same"}], ids=["side by side", "overlapping, padded"]
)
def test_max_pooling_runs_before_the_relu_it_follows_with_the_same_numbers(pool) -> None:
    """Without kept outputs, conv → ReLU → max pool runs as conv → max pool → ReLU, on the pooled
    numbers; losses, gradients and the weights after three Adam steps are the same bits as the
    layers run as written (each layer's output kept, as layer statistics keep them)."""
    layers = [{"type": "conv2d", "filters": 4, "kernel_size": 3, "activation": "relu"}, {"type": "maxpool2d", **pool},
              {"type": "flatten"}, {"type": "dense", "units": 3, "activation": "softmax"}]
    rng = np.random.default_rng(0)
    x, t = rng.normal(size=(5, 2, 10, 10)).astype(np.float32), rng.integers(0, 3, size=5)
    results = []
    for keep in (False, True):
        model, loss = sequential((2, 10, 10), layers, rng=np.random.default_rng(1)), LOSSES.build("cross_entropy")
        model.keep_outputs, optimizer, losses = keep, OPTIMIZERS.build({"name": "adam", "lr": 0.01}), []
        for _ in range(3):
            losses.append(model.forward_loss(x, t, loss, train=True)[0])
            model.backward_loss(loss)
            optimizer.update(model.params, model.grads)
        relu, pooling = model.layers[1], model.layers[2]
        assert relu.positive.shape[2:] == (pooling.out.shape[2:] if not keep else (8, 8))  # where the ReLU ran
        results.append((losses, {key: value.copy() for key, value in model.params.items()}))
    (fused_losses, fused), (written_losses, written) = results
    assert fused_losses == written_losses
    for key in written:
        np.testing.assert_array_equal(fused[key], written[key], err_msg=key)


def test_xor_is_learned() -> None:
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
    t = np.array([0, 1, 1, 0], np.float32)
    model = sequential(
        (2,), [{"type": "dense", "units": 8, "activation": "tanh"}, {"type": "dense", "units": 1, "activation": "sigmoid"}],
        rng=np.random.default_rng(0),
    )
    loss, optimizer = LOSSES.build("binary_cross_entropy"), OPTIMIZERS.build({"name": "adam", "lr": 0.05})
    first, _ = model.forward_loss(x, t, loss, train=True)
    for _ in range(300):
        model.forward_loss(x, t, loss, train=True)
        model.backward_loss(loss)
        optimizer.update(model.params, model.grads)
    last, y = model.forward_loss(x, t, loss)
    assert last < 0.05 < first
    assert loss.accuracy(y, t) == 1.0 and y.dtype == np.float32
