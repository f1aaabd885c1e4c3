"""Callbacks: NaN guard, checkpoints, early stopping, reduce-on-plateau and layer statistics."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from dnnexp.core.activations import Activation
from dnnexp.core.model import Sequential
from dnnexp.train import callbacks as cb
from dnnexp.train.trainer import TrainState


def scripted_trainer(base_lr: float = 0.1) -> SimpleNamespace:
    """Just what a callback reads of a trainer: a one-layer model, the state, the base rate."""
    model = Sequential.from_spec((2,), [{"type": "dense", "units": 2}])
    return SimpleNamespace(
        model=model, state=TrainState(), base_lr=base_lr, last_loss=0.5,
        checkpoint_arrays=lambda: {"epoch": np.array(model.params["dense1.W"][0, 0])},
    )


def run_epochs(callback: cb.Callback, trainer: SimpleNamespace, monitor: str, values: list[float]) -> int:
    """Feed `values` of `monitor` as epochs 1, 2, … (the weights set to the epoch number) until
    the callback stops the run; return the last epoch run."""
    for epoch, value in enumerate(values, start=1):
        trainer.model.params["dense1.W"][...] = epoch
        trainer.state.epoch = epoch
        callback.on_epoch_end(trainer, {"epoch": epoch, monitor: value})
        if trainer.state.stop:
            break
    return epoch


@pytest.mark.parametrize("loss", [math.nan, math.inf])
def test_nan_guard_ends_the_run_as_diverged_naming_epoch_and_step(loss):
    trainer = scripted_trainer()
    trainer.state.epoch, trainer.state.step = 1, 11
    cb.NaNGuard().on_batch_end(trainer)
    assert not trainer.state.stop
    trainer.last_loss = loss
    cb.NaNGuard().on_batch_end(trainer)
    assert trainer.state.stop and trainer.state.status == "diverged"
    assert "epoch 2, step 12" in trainer.state.message and "optimizer.lr is 0.1" in trainer.state.message


@pytest.mark.parametrize(
    ("every", "status", "saved"),
    [(2, "completed", [2, 4, 5]), (None, "completed", [5]), (2, "interrupted", [2, 4, 5]), (2, "diverged", [2, 4])],
)
def test_checkpoint_every_n_epochs_and_at_the_end_unless_diverged(every, status, saved):
    trainer, saves = scripted_trainer(), []
    checkpoint = cb.Checkpoint(saves.append, every)
    run_epochs(checkpoint, trainer, "val_loss", [1.0] * 5)
    trainer.state.status = status
    checkpoint.on_train_end(trainer)
    assert [int(arrays["epoch"]) for arrays in saves] == saved


MONITORED = {
    "a loss improves downwards": ("val_loss", 0.0, [1.0, 0.5, 0.5, 0.7, 0.2], [0, 0, 1, 2, 0]),
    "other metrics upwards": ("val_acc", 0.0, [0.5, 0.7, 0.7, 0.6, 0.9], [0, 0, 1, 2, 0]),
    "only by more than min_delta": ("val_loss", 0.1, [1.0, 0.95, 0.85, 0.8, 0.7], [0, 1, 0, 1, 0]),
}


@pytest.mark.parametrize("case", MONITORED, ids=list(MONITORED))
def test_monitor_base_counts_the_epochs_since_the_best_value(case):
    monitor, min_delta, values, waits = MONITORED[case]
    tracker = cb.MonitorCallback(monitor, min_delta)
    seen = [(tracker.improved({"epoch": epoch, monitor: value}), tracker.wait) for epoch, value in enumerate(values)]
    assert seen == [(wait == 0, wait) for wait in waits]


def test_monitor_base_state_carries_over_and_names_what_is_logged():
    first = cb.MonitorCallback("val_loss", 0.0)
    for value in (0.5, 0.6, 0.7):
        first.improved({"val_loss": value})
    resumed = cb.MonitorCallback("val_loss", 0.0)
    resumed.load_state_arrays(first.state_arrays())
    assert (resumed.best, resumed.wait) == (0.5, 2)
    assert not resumed.improved({"val_loss": 0.5}) and resumed.improved({"val_loss": 0.4})
    with pytest.raises(KeyError, match="'val_loss' is not logged; logged metrics: epoch, train_loss"):
        resumed.improved({"train_loss": 0.1, "epoch": 1})


EARLY_STOPS = {
    "loss stalls": ("val_loss", 0.0, [1.0, 0.5, 0.6, 0.7, 0.4], 4, 2),
    "accuracy stalls": ("val_acc", 0.0, [0.5, 0.7, 0.6, 0.7, 0.9], 4, 2),
    "gains below min_delta": ("val_loss", 0.1, [1.0, 0.95, 0.91, 0.5], 3, 1),
}


@pytest.mark.parametrize("case", EARLY_STOPS, ids=list(EARLY_STOPS))
def test_early_stopping_stops_after_patience_and_restores_the_best_weights(case):
    monitor, min_delta, values, stopped, best = EARLY_STOPS[case]
    trainer = scripted_trainer()
    early = cb.EarlyStopping(monitor, patience=2, min_delta=min_delta)
    assert run_epochs(early, trainer, monitor, values) == stopped
    assert f"after epoch {stopped}" in trainer.state.message and f"best at epoch {best}" in trainer.state.message
    trainer.state.status = "completed"
    early.on_train_end(trainer)
    assert (trainer.model.params["dense1.W"] == best).all()


def test_early_stopping_keeps_the_last_weights_of_an_interrupted_run():
    trainer = scripted_trainer()
    early = cb.EarlyStopping("val_loss", patience=5)
    run_epochs(early, trainer, "val_loss", [0.5, 0.9])
    trainer.state.status = "interrupted"
    early.on_train_end(trainer)
    assert (trainer.model.params["dense1.W"] == 2).all()


def test_early_stopping_state_carries_over_to_a_new_instance():
    values = [1.0, 0.5, 0.6, 0.7, 0.4]
    first, trainer = cb.EarlyStopping("val_loss", patience=2), scripted_trainer()
    run_epochs(first, trainer, "val_loss", values[:3])
    resumed = cb.EarlyStopping("val_loss", patience=2)
    resumed.load_state_arrays(first.state_arrays())
    trainer.state.epoch = 3
    assert run_epochs(resumed, trainer, "val_loss", values[3:]) == 1  # epoch 4: patience used up
    trainer.state.status = "completed"
    resumed.on_train_end(trainer)
    assert (trainer.model.params["dense1.W"] == 2).all()


def test_early_stopping_in_a_real_run_restores_the_best_epoch(make_trainer, record):
    weights = record(lambda t, logs: t.model.params["dense1.W"].copy(), hook="on_epoch_end")
    early = cb.EarlyStopping("val_loss", patience=2, min_delta=1.0)  # a tiny lr never gains 1.0
    trainer = make_trainer(
        weights, early, optimizer={"name": "adam", "lr": 1e-4}, train={"epochs": 10, "batch_size": 32}
    )
    state = trainer.fit()
    assert (state.status, state.epoch) == ("completed", 3) and "stopped early" in state.message
    assert len(weights.values) == 3 and not np.array_equal(weights.values[0], weights.values[2])
    np.testing.assert_array_equal(trainer.model.params["dense1.W"], weights.values[0])


@pytest.mark.parametrize(
    ("base_lr", "scales"),
    [(0.1, [1, 1, 0.5, 0.5, 0.25, 0.25, 0.2, 0.2, 0.2]), (1e-3, [1.0] * 9)],
    ids=["down to min_lr", "never above a base rate under min_lr"],
)
def test_reduce_lr_on_plateau_scales_by_factor_after_patience(base_lr, scales):
    trainer = scripted_trainer(base_lr)
    plateau = cb.ReduceLROnPlateau("val_loss", factor=0.5, patience=2, min_lr=0.02)
    seen = []
    for epoch in range(1, 10):
        plateau.on_epoch_end(trainer, {"epoch": epoch, "val_loss": 1.0})
        seen.append(trainer.state.lr_scale)
    assert seen == pytest.approx(scales)


def test_reduce_lr_on_plateau_shows_in_the_logged_lr(make_trainer, record):
    logged = record(lambda t, logs: logs["lr"], hook="on_epoch_end")
    plateau = cb.ReduceLROnPlateau("val_acc", factor=0.5, patience=1, min_lr=2e-7)
    # So small a rate leaves every validation prediction, and so val_acc, as it was.
    make_trainer(logged, plateau, optimizer={"name": "sgd", "lr": 1e-6}, train={"epochs": 6, "batch_size": 32}).fit()
    assert logged.values == pytest.approx([1e-6, 1e-6, 5e-7, 2.5e-7, 2e-7, 2e-7])


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


SEQUENCE_RUN = {
    "data": {"name": "sine_wave", "steps": 6, "n": 96, "n_test": 0},
    "model": {"input_shape": [6, 1], "layers": [
        {"type": "bidirectional", "layer": {"type": "gru", "units": 4, "return_sequences": True}},
        {"type": "lstm", "units": 3},
        {"type": "dense", "units": 1},
    ]},
    "loss": "mse",
    "train": {"epochs": 2, "batch_size": 32},
}


def test_time_grads_average_each_steps_gradient_norm_over_the_epochs_batches(make_trainer, record):
    rows = []
    norms = record(lambda trainer: {name: layer.time_grad_norms.copy() for name, layer in time_grads.layers})
    time_grads = cb.TimeGrads(rows)
    trainer = make_trainer(**SEQUENCE_RUN)
    trainer.callbacks = [time_grads, norms]
    trainer.fit()
    layers = ["bidirectional1.forward", "bidirectional1.backward", "lstm1"]
    assert [(r["epoch"], r["layer"], r["t"]) for r in rows] == [(e, name, t) for e in (1, 2) for name in layers for t in range(1, 7)]
    for epoch, batches in ((1, norms.values[:3]), (2, norms.values[3:])):
        for name in layers:
            expected = np.mean([batch[name] for batch in batches], axis=0)
            got = [r["grad_norm"] for r in rows if r["epoch"] == epoch and r["layer"] == name]
            np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert not any(layer.record_time_grads for _, layer in time_grads.layers)


def test_time_grads_resume_mid_epoch_with_their_sums(make_trainer):
    rows = []
    time_grads = cb.TimeGrads(rows)
    trainer = make_trainer(**SEQUENCE_RUN)
    trainer.callbacks = [time_grads]
    time_grads.on_train_begin(trainer)
    trainer._train_step(*trainer.data.train.batch(slice(0, 32)))
    time_grads.on_batch_end(trainer)
    restored = cb.TimeGrads([])
    restored.load_state_arrays(time_grads.state_arrays())
    assert restored.means.batches == 1 and restored.means.sums.keys() == time_grads.means.sums.keys()
    np.testing.assert_array_equal(restored.means.sums["lstm1"], time_grads.means.sums["lstm1"])


def test_epoch_means_average_a_resumed_epoch_over_all_its_batches():
    first = cb.EpochMeans()
    first.add_batch({"a": np.array([1.0, 2.0]), "b": np.array([4.0])})
    arrays = first.state_arrays()
    # The checkpoint keys old runs were saved with.
    assert sorted(arrays) == ["batches", "sums/a", "sums/b"]
    resumed = cb.EpochMeans()
    resumed.load_state_arrays(arrays)
    resumed.add_batch({"a": np.array([3.0, 6.0])})
    means = resumed.end_epoch()
    np.testing.assert_array_equal(means["a"], [2.0, 4.0])
    np.testing.assert_array_equal(means["b"], [2.0])  # missing from a batch: that batch counts as zero
    assert resumed.end_epoch() == {} and resumed.batches == 0
