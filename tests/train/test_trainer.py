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


def test_the_logged_train_loss_is_the_epoch_mean_of_the_penalized_batch_losses(make_trainer, record):
    batches = record(lambda t: (t.last_loss, t.state.seen))
    logged = record(lambda t, logs: logs["train_loss"], hook="on_epoch_end")
    make_trainer(batches, logged, regularization={"l2": 0.1}, train={"epochs": 1, "batch_size": 32}).fit()
    losses, seen = zip(*batches.values)
    sizes = np.diff((0, *seen))
    assert sizes.tolist() == [32] * 7 + [16]
    assert logged.values == [pytest.approx(np.dot(losses, sizes) / 240, rel=1e-12)]


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
    """Presses Ctrl-C `times` times, for real, after optimizer step `step`."""

    def __init__(self, step: int, times: int = 1):
        self.step, self.times = step, times

    def on_batch_end(self, trainer):
        if trainer.state.step == self.step:
            for _ in range(self.times):
                signal.raise_signal(signal.SIGINT)


def test_ctrl_c_finishes_the_batch_and_stops_as_interrupted(make_trainer, record):
    steps = record(lambda t: t.state.step)
    before = signal.getsignal(signal.SIGINT)
    state = make_trainer(CtrlC(step=11), steps).fit()
    assert (state.status, state.stop, state.step, state.epoch, state.batch) == ("interrupted", True, 11, 1, 3)
    assert steps.values == list(range(1, 12)) and "--resume" in state.message
    assert signal.getsignal(signal.SIGINT) is before


def test_a_second_ctrl_c_stops_at_once(make_trainer):
    before = signal.getsignal(signal.SIGINT)
    trainer = make_trainer(CtrlC(step=3, times=2))
    with pytest.raises(KeyboardInterrupt):
        trainer.fit()
    assert trainer.state.status == "failed" and trainer.state.step == 3
    assert signal.getsignal(signal.SIGINT) is before


def test_training_outside_the_main_thread_leaves_ctrl_c_alone(make_trainer):
    trainer = make_trainer(train={"epochs": 1})
    worker = threading.Thread(target=trainer.fit)
    worker.start()
    worker.join()
    assert trainer.state.status == "completed" and trainer.state.epoch == 1
