"""The training loop: data order, penalties and clipping, learning-rate schedules, dtypes, Ctrl-C."""

from __future__ import annotations

import math
import signal
import threading

import numpy as np
import pytest

from dnnexp.spec.registry import OPTIMIZERS
from dnnexp.train.callbacks import Callback


def global_norm(grads: dict[str, np.ndarray]) -> float:
    return math.sqrt(sum(float(np.sum(g.astype(np.float64) ** 2)) for g in grads.values()))


def test_each_epoch_trains_on_every_sample_once_in_its_own_order(make_trainer):
    trainer = make_trainer(train={"epochs": 3, "batch_size": 32})
    seen: list[np.ndarray] = []
    batch = trainer.data.train.batch
    trainer.data.train.batch = lambda index: (seen.append(index), batch(index))[1]
    trainer.fit()
    per_epoch = np.split(np.concatenate(seen), 3)
    for epoch, order in enumerate(per_epoch):
        np.testing.assert_array_equal(order, trainer.epoch_order(epoch))
        assert sorted(order) == list(range(len(trainer.data.train)))
    assert not np.array_equal(per_epoch[0], per_epoch[1])


# The course's penalties: (1/p) λ‖W‖_p^p added to the loss, and its gradient added to ∇E.
PENALTIES = {
    "l2": (lambda w: 0.5 * np.sum(w.astype(np.float64) ** 2), lambda w: w),
    "l1": (lambda w: np.sum(np.abs(w.astype(np.float64))), np.sign),
}


@pytest.mark.parametrize("name", PENALTIES)
def test_penalties_enter_the_reported_loss_and_the_gradient(make_trainer, record, name):
    penalty, gradient = PENALTIES[name]
    lam, lr = 0.1, 0.5
    first_steps = {}
    for strength in (0.0, lam):
        after_first = record(lambda t: (t.last_loss, {k: v.copy() for k, v in t.model.params.items()}))
        trainer = make_trainer(
            after_first, optimizer={"name": "sgd", "lr": lr}, regularization={name: strength}, train={"epochs": 1}
        )
        initial = {k: v.copy() for k, v in trainer.model.params.items()}
        trainer.fit()
        first_steps[strength] = after_first.values[0]
    (plain_loss, plain), (loss, penalized) = first_steps[0.0], first_steps[lam]
    assert trainer.model.penalized == ["dense1.W", "dense2.W"]
    expected = lam * sum(penalty(initial[key]) for key in trainer.model.penalized)
    assert loss - plain_loss == pytest.approx(expected, rel=1e-5)
    for key in initial:
        # SGD from the same weights: the runs differ by exactly −lr·λ·∂penalty/∂W, and only in W.
        shift = -lr * lam * gradient(initial[key]) if key in trainer.model.penalized else 0.0
        np.testing.assert_allclose(penalized[key] - plain[key], shift, atol=1e-6)


def test_the_running_loss_is_the_epoch_mean_of_the_data_losses_and_the_penalty_a_column_of_its_own(make_trainer, record):
    lam = 0.1
    batches = record(lambda t: (t.last_loss, t.state.loss_sum, t.state.seen))
    logged = record(lambda t, logs: (logs, t.penalty()), hook="on_epoch_end")
    trainer = make_trainer(batches, logged, regularization={"l2": lam}, train={"epochs": 1, "batch_size": 32})
    weights = {key: trainer.model.params[key].copy() for key in trainer.model.penalized}
    trainer.fit()
    totals, sums, seen = map(np.array, zip(*batches.values))
    sizes = np.diff((0, *seen))
    assert sizes.tolist() == [32] * 7 + [16]
    data_losses = np.diff((0, *sums)) / sizes
    (logs, penalty), = logged.values
    assert logs["train_running_loss"] == pytest.approx(np.dot(data_losses, sizes) / 240, rel=1e-12)
    # The optimizer's loss is data + penalty; the first batch's penalty is that of the initial weights.
    first_penalty = 0.5 * lam * sum(np.sum(w.astype(np.float64) ** 2) for w in weights.values())
    assert totals[0] - data_losses[0] == pytest.approx(first_penalty, rel=1e-5)
    final_penalty = 0.5 * lam * sum(np.sum(trainer.model.params[k].astype(np.float64) ** 2) for k in weights)
    assert logs["train_penalty"] == penalty == pytest.approx(final_penalty, rel=1e-5)
    assert logs["train_penalty"] > 0.01 and logs["train_loss"] < logs["train_running_loss"] + logs["train_penalty"]


def test_without_penalties_there_is_no_penalty_column(make_trainer, record):
    logged = record(lambda t, logs: set(logs), hook="on_epoch_end")
    make_trainer(logged, train={"epochs": 1}).fit()
    assert {"train_loss", "train_acc", "train_running_loss", "train_running_acc"} <= logged.values[0]
    assert "train_penalty" not in logged.values[0]


def manual_evaluation(trainer) -> tuple[float, float]:
    """Cross-entropy and accuracy of the whole training sample in one evaluation-mode pass, by hand."""
    x, t = trainer.train_sample.batch(slice(None))
    y = trainer.model.forward(x, train=False).astype(np.float64)
    loss = -np.mean(np.log(y[np.arange(len(t)), t]))
    return float(loss), float(np.mean(y.argmax(axis=1) == t))


def test_train_metrics_are_the_training_sample_evaluated_without_dropout(make_trainer, blobs_spec, record):
    """With heavy dropout the running (training-mode) accuracy trails the evaluated one; train_loss
    and train_acc are what one evaluation-mode pass over the sample gives after the epoch, and
    train_loss is the data loss alone: the L2 term is train_penalty's."""
    layers = blobs_spec["model"]["layers"]
    layers[1]["rate"] = 0.6
    logged = record(lambda t, logs: (logs, manual_evaluation(t)), hook="on_epoch_end")
    trainer = make_trainer(
        logged, model={"input_shape": [2], "layers": layers}, regularization={"l2": 0.01}, train={"epochs": 4, "batch_size": 32}
    )
    trainer.fit()
    for logs, (loss, acc) in logged.values:
        assert logs["train_loss"] == pytest.approx(loss, rel=1e-5)
        assert logs["train_acc"] == pytest.approx(acc, abs=1e-12)
    gaps = [logs["train_acc"] - logs["train_running_acc"] for logs, _ in logged.values]
    assert min(gaps[1:]) > 0.05, gaps


def test_the_training_sample_is_fixed_by_the_data_seed_and_as_large_as_the_validation_split(make_trainer, blobs_spec, record):
    trainer = make_trainer(train={"epochs": 3, "batch_size": 32})
    train, sample = trainer.data.train, trainer.train_sample
    assert len(sample) == len(trainer.data.val) == 60 < len(train) == 240
    rows = {tuple(row) for row in train.x}
    assert len({tuple(row) for row in sample.x}) == 60 and {tuple(row) for row in sample.x} <= rows
    seen = record(lambda t, logs: t.train_sample.x.copy(), hook="on_epoch_end")
    trainer.callbacks = [seen]
    trainer.fit()
    assert all(np.array_equal(x, sample.x) for x in seen.values) and len(seen.values) == 3
    other_model = make_trainer(model={"input_shape": [2], "layers": [{"type": "dense", "units": 3, "activation": "softmax"}]})
    np.testing.assert_array_equal(other_model.train_sample.x, sample.x)
    assert not np.array_equal(make_trainer(seed=1).train_sample.x, sample.x)
    everything = make_trainer(data={**blobs_spec["data"], "validation": 150})
    assert everything.train_sample is everything.data.train  # 150 training samples: all of them


def test_clip_norm_bounds_the_global_gradient_norm(make_trainer, record):
    clip = 0.05
    norms = {}
    for clip_norm in (None, clip):
        grad_norms = record(lambda t: global_norm(t.model.grads))
        make_trainer(grad_norms, regularization={"clip_norm": clip_norm}, train={"epochs": 2}).fit()
        norms[clip_norm] = grad_norms.values
    assert max(norms[None]) > 4 * clip  # the bound is really reached, so the test can fail
    assert max(norms[clip]) <= clip * (1 + 1e-5)
    assert min(norms[clip]) == pytest.approx(clip, rel=1e-5)


@pytest.mark.parametrize("optimizer", OPTIMIZERS.names())
def test_every_parameter_and_optimizer_state_stays_float32(make_trainer, blobs_spec, optimizer):
    layers = blobs_spec["model"]["layers"]
    trainer = make_trainer(
        model={"input_shape": [2], "layers": [layers[0], {"type": "batchnorm"}, *layers[1:]]},
        optimizer={"name": optimizer, "lr": 0.01},
        regularization={"l2": 1e-3, "l1": 1e-4, "clip_norm": 1.0},
        schedule={"name": "cosine", "warmup_steps": 3},
        train={"epochs": 2, "batch_size": 32},
    )
    trainer.fit()
    arrays = {**trainer.model.state_arrays(), **trainer.optimizer.state}
    assert len(arrays) > len(trainer.model.state_arrays()) or optimizer == "sgd"
    assert {key: a.dtype for key, a in arrays.items() if a.dtype != np.float32} == {}
    x, _ = trainer.data.val.batch(slice(0, 5))
    assert trainer.model.forward(x).dtype == np.float32


def test_step_schedule_halves_the_logged_lr_every_epoch(make_trainer, record):
    logged = record(lambda t, logs: logs["lr"], hook="on_epoch_end")
    make_trainer(logged, schedule={"name": "step", "step_size": 1, "gamma": 0.5}).fit()
    assert logged.values == [0.01, 0.005, 0.0025, 0.00125]


def test_warmup_ramps_the_first_steps_linearly(make_trainer, record):
    used = record(lambda t: t.optimizer.lr)  # the rate of the step just taken
    trainer = make_trainer(used, schedule={"name": "constant", "warmup_steps": 5}, train={"epochs": 1, "batch_size": 32})
    assert [trainer.lr_at(step) for step in range(7)] == pytest.approx([0.002, 0.004, 0.006, 0.008, 0.01, 0.01, 0.01])
    trainer.fit()
    assert used.values[:7] == [trainer.lr_at(step) for step in range(7)]
    assert trainer.lr == trainer.lr_at(trainer.state.step) == 0.01


class CtrlC(Callback):
    """Sends `signals` (Ctrl-C's SIGINT by default), for real, after optimizer step `step`."""

    def __init__(self, step: int, *signals: signal.Signals):
        self.step, self.signals = step, signals or (signal.SIGINT,)

    def on_batch_end(self, trainer):
        if trainer.state.step == self.step:
            for number in self.signals:
                signal.raise_signal(number)


@pytest.mark.parametrize("number, told", [(signal.SIGINT, "Ctrl-C"), (signal.SIGTERM, "SIGTERM")])
def test_ctrl_c_or_sigterm_finishes_the_batch_and_stops_as_interrupted(make_trainer, record, number, told):
    steps = record(lambda t: t.state.step)
    before = {n: signal.getsignal(n) for n in (signal.SIGINT, signal.SIGTERM)}
    state = make_trainer(CtrlC(11, number), steps).fit()
    assert (state.status, state.stop, state.step, state.epoch, state.batch) == ("interrupted", True, 11, 1, 3)
    assert steps.values == list(range(1, 12)) and f"interrupted by {told}" in state.message and "--resume" in state.message
    assert {n: signal.getsignal(n) for n in before} == before


@pytest.mark.parametrize("first, second", [(signal.SIGINT, signal.SIGINT), (signal.SIGTERM, signal.SIGINT), (signal.SIGINT, signal.SIGTERM)])
def test_a_second_signal_stops_at_once(make_trainer, first, second):
    """Mid-batch: the checkpoint is not written (its state would be half a step), and the
    KeyboardInterrupt says why, for the run's summary."""
    before = {n: signal.getsignal(n) for n in (signal.SIGINT, signal.SIGTERM)}
    trainer = make_trainer(CtrlC(3, first, second))
    with pytest.raises(KeyboardInterrupt, match="stopped at once by a second .*--resume"):
        trainer.fit()
    assert trainer.state.status == "failed" and trainer.state.step == 3
    assert {n: signal.getsignal(n) for n in before} == before


def test_a_finished_training_stays_finished_after_a_restore(make_trainer):
    """An early stop is remembered in the checkpoint: a resumed run trains no further."""
    trainer = make_trainer(train={"epochs": 3, "batch_size": 32})
    trainer.state.stop = True  # as early stopping does
    trainer.fit()
    assert (trainer.state.epoch, trainer.state.finished) == (0, True)
    again = make_trainer(train={"epochs": 3, "batch_size": 32})
    again.restore(trainer.checkpoint_arrays())
    assert again.fit().epoch == 0


def test_training_outside_the_main_thread_leaves_ctrl_c_alone(make_trainer):
    trainer = make_trainer(train={"epochs": 1})
    worker = threading.Thread(target=trainer.fit)
    worker.start()
    worker.join()
    assert trainer.state.status == "completed" and trainer.state.epoch == 1
