"""LayerStats: per-layer statistics per epoch, and activation samples before and after training."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dnnexp.core.activations import Activation
from dnnexp.train import callbacks as cb


def deep_net(activation: str, init: str | dict) -> dict:
    """The course's vanishing-gradient net in small: three hidden layers of 40, 20, 10 units."""
    hidden = [{"type": "dense", "units": u, "activation": activation, "init": init} for u in (40, 20, 10)]
    return {"input_shape": [2], "layers": [*hidden, {"type": "dense", "units": 3, "activation": "softmax"}]}


def layer_stats_run(make_trainer, **changes) -> tuple[list[dict], dict[str, np.ndarray], object]:
    """Train with LayerStats for two epochs; its rows, its activation samples and the trainer."""
    rows, samples = [], {}
    trainer = make_trainer(train={"epochs": 2, "batch_size": 32}, **changes)
    probe, _ = trainer.data.val.batch(slice(0, 50))
    trainer.callbacks = [cb.LayerStats(rows, samples.update, probe)]
    trainer.fit()
    return rows, samples, trainer


def test_layer_stats_rows_per_layer_per_epoch_and_activation_samples(make_trainer):
    rows, samples, trainer = layer_stats_run(make_trainer)
    layers = trainer.model.layers
    watched = layers[:-1]  # the fused softmax gets no dout of its own
    assert [(r["epoch"], r["layer"]) for r in rows] == [(e, layer.name) for e in (1, 2) for layer in watched]
    for row, layer in zip(rows, watched * 2):
        assert all(math.isfinite(row[key]) for key in ("act_mean", "act_std", "dout_norm"))
        assert math.isfinite(row["grad_norm"]) == bool(layer.params) and row["kind"] == layer.kind
    activations = [layer.name for layer in layers if isinstance(layer, Activation)]
    assert sorted(samples) == sorted(f"{stage}/{name}" for stage in ("init", "final") for name in activations)
    assert not np.array_equal(samples["init/relu1"], samples["final/relu1"])
    assert not trainer.model.keep_outputs


@pytest.mark.parametrize(
    ("activation", "init", "vanishes"),
    [("sigmoid", {"name": "normal", "std": 0.01}, True), ("relu", "he_normal", False)],
)
def test_layer_stats_show_vanishing_gradients_of_deep_sigmoid_nets(make_trainer, activation, init, vanishes):
    rows, _, _ = layer_stats_run(make_trainer, model=deep_net(activation, init), optimizer={"name": "sgd", "lr": 0.1})
    norms = {row["layer"]: row["grad_norm"] for row in rows if row["epoch"] == 1}
    ratio = norms["dense4"] / norms["dense1"]
    assert (ratio > 1000) if vanishes else (ratio < 20)
