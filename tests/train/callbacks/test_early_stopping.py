"""EarlyStopping: stops after `patience` epochs without gain and restores the best weights."""

from __future__ import annotations

import numpy as np
import pytest

from dnnexp.train import callbacks as cb

EARLY_STOPS = {
    "loss stalls": ("val_loss", 0.0, [1.0, 0.5, 0.6, 0.7, 0.4], 4, 2),
    "accuracy stalls": ("val_acc", 0.0, [0.5, 0.7, 0.6, 0.7, 0.9], 4, 2),
    "gains below min_delta": ("val_loss", 0.1, [1.0, 0.95, 0.91, 0.5], 3, 1),
}


@pytest.mark.parametrize("case", EARLY_STOPS, ids=list(EARLY_STOPS))
def test_early_stopping_stops_after_patience_and_restores_the_best_weights(case, scripted_trainer, run_epochs):
    monitor, min_delta, values, stopped, best = EARLY_STOPS[case]
    trainer = scripted_trainer()
    early = cb.EarlyStopping(monitor, patience=2, min_delta=min_delta)
    assert run_epochs(early, trainer, monitor, values) == stopped
    assert f"after epoch {stopped}" in trainer.state.message and f"best at epoch {best}" in trainer.state.message
    trainer.state.status = "completed"
    early.on_train_end(trainer)
    assert (trainer.model.params["dense1.W"] == best).all()


def test_early_stopping_keeps_the_last_weights_of_an_interrupted_run(scripted_trainer, run_epochs):
    trainer = scripted_trainer()
    early = cb.EarlyStopping("val_loss", patience=5)
    run_epochs(early, trainer, "val_loss", [0.5, 0.9])
    trainer.state.status = "interrupted"
    early.on_train_end(trainer)
    assert (trainer.model.params["dense1.W"] == 2).all()


def test_early_stopping_state_carries_over_to_a_new_instance(scripted_trainer, run_epochs):
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


def test_early_stopping_saves_its_state_under_the_keys_of_earlier_checkpoints(scripted_trainer, run_epochs):
    early = cb.EarlyStopping("val_loss", patience=2)
    run_epochs(early, scripted_trainer(), "val_loss", [1.0, 1.5])
    arrays = early.state_arrays()
    assert sorted(arrays) == ["best", "best_epoch", "wait", "weights/dense1.W", "weights/dense1.b"]
    assert (float(arrays["best"]), int(arrays["wait"]), int(arrays["best_epoch"])) == (1.0, 1, 1)
