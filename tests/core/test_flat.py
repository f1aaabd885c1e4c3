"""One flat array of parameters and one of gradients: what `pack` makes of a model's layers, what
`span` finds, and that training on them gives the numbers of separate arrays."""

from __future__ import annotations

import numpy as np
import pytest

from dnnexp.core import flat, parallel
from dnnexp.spec.build import sequential
from dnnexp.spec.registry import LOSSES, OPTIMIZERS

CNN = [
    {"type": "conv2d", "filters": 4, "kernel_size": 3, "activation": "relu"},
    {"type": "maxpool2d", "pool_size": 2},
    {"type": "batchnorm"},
    {"type": "flatten"},
    {"type": "dense", "units": 16, "activation": "relu"},
    {"type": "dense", "units": 3, "activation": "softmax"},
]


def cnn(packed: bool, monkeypatch: pytest.MonkeyPatch):
    with monkeypatch.context() as patch:
        if not packed:
            patch.setattr(flat, "pack", lambda layers: None)
        return sequential((1, 8, 8), CNN, rng=np.random.default_rng(0))


def test_a_sequential_holds_its_parameters_and_gradients_in_one_array_each(monkeypatch) -> None:
    model, separate = cnn(True, monkeypatch), cnn(False, monkeypatch)
    params, grads = flat.span(list(model.params.values())), flat.span(list(model.grads.values()))
    assert params is not None and grads is not None
    assert params.size == grads.size == sum(p.size for p in model.params.values())
    assert flat.span(list(separate.params.values())) is None
    for key, value in separate.params.items():  # the values the layers were built with
        np.testing.assert_array_equal(model.params[key], value, err_msg=key)
        assert np.shares_memory(model.params[key], params) and np.shares_memory(model.grads[key], grads)


@pytest.mark.parametrize("lanes", [1, 2])
def test_training_on_one_array_gives_the_numbers_of_separate_ones(lanes: int, monkeypatch) -> None:
    """Layers write their gradients into the views and Adam steps the flat arrays whole: the
    same bits as separate arrays gathered and stepped one by one."""
    rng = np.random.default_rng(1)
    x, t = rng.random((32, 1, 8, 8)).astype(np.float32), rng.integers(0, 3, 32)
    trained = []
    for packed in (True, False):
        model, loss, optimizer = cnn(packed, monkeypatch), LOSSES.build("cross_entropy"), OPTIMIZERS.build("adam")
        with parallel.using(lanes):
            for _ in range(4):
                model.forward_loss(x, t, loss, train=True)
                model.backward_loss(loss)
                optimizer.update(model.params, model.grads)
        taken_whole = optimizer._packed.flat_params is not None and optimizer._packed.flat_grads is not None
        assert taken_whole == packed  # the flat arrays stepped as such, the separate ones apart
        trained.append(model.params)
    for key, value in trained[1].items():
        np.testing.assert_array_equal(trained[0][key], value, err_msg=key)


def test_a_wrapper_model_keeps_its_arrays() -> None:
    """A wrapper exposes its parts' arrays, which the parts read: they are not moved."""
    model = sequential((5, 3), [{"type": "bidirectional", "layer": {"type": "lstm", "units": 4}}, {"type": "dense", "units": 2}])
    assert flat.span(list(model.params.values())) is None


def test_span_only_of_consecutive_views_in_order() -> None:
    whole = np.arange(10, dtype=np.float32)
    a, b, c = whole[:4].reshape(2, 2), whole[4:6], whole[6:]
    np.testing.assert_array_equal(flat.span([a, b, c]), whole)
    np.testing.assert_array_equal(flat.span([b, c]), whole[4:])
    assert flat.span([]) is None
    assert flat.span([b, a, c]) is None  # out of order
    assert flat.span([a, c]) is None  # a gap
    assert flat.span([a, whole[4:6].copy()]) is None  # another array
    assert flat.span([whole[::2]]) is None  # not contiguous
