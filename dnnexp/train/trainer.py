"""The mini-batch training loop (course Day 1 §4: mini-batch gradient descent).

The loop itself only does forward, loss, backward and update; everything else — logging,
checkpoints, early stopping, NaN guards, progress bars — is a callback.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from dnnexp.core.losses import Loss
from dnnexp.core.models.base import Model
from dnnexp.core.optimizers import Optimizer
from dnnexp.core.regularizers import Penalty, clip_by_global_norm
from dnnexp.core.schedules import Schedule
from dnnexp.data.base import Batches, Split
from dnnexp.train.arrays import split_arrays
from dnnexp.train import loop

#: the most training samples evaluated after each epoch; a larger training set is represented by a fixed sample
TRAIN_SAMPLE_MAX = 10_000
# The fixed sample's stream: [data seed, this], beyond any epoch number, so never an epoch order's [data seed, epoch].
TRAIN_SAMPLE_STREAM = 0xFFFF_FFFF


@dataclass
class TrainState:
    """Where training stands; everything in it is saved in a checkpoint."""

    epoch: int = 0  # epochs completed
    batch: int = 0  # batches completed in the current epoch
    step: int = 0  # optimizer steps taken
    lr_scale: float = 1.0  # set by reduce-on-plateau
    loss_sum: float = 0.0  # running sums over the current epoch's batches (of the data loss, without penalties)
    metric_sums: dict[str, float] = field(default_factory=dict)  # of the model's metrics, by name
    seen: int = 0
    status: str = "running"  # → completed | diverged | interrupted | failed
    message: str = ""
    stop: bool = False
    #: training is over (every epoch done, or stopped early): a resumed run trains no further
    finished: bool = False

    def to_arrays(self) -> dict[str, np.ndarray]:
        # The message too: an early stop's reason must outlive a resume that only evaluates the test set.
        kept = ("epoch", "batch", "step", "lr_scale", "loss_sum", "seen", "finished", "message")
        arrays = {k: np.array(getattr(self, k)) for k in kept}
        return {**arrays, **{f"metric_sums/{name}": np.array(total) for name, total in self.metric_sums.items()}}

    def load_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        for key, value in arrays.items():
            if key.startswith("metric_sums/"):
                self.metric_sums[key.removeprefix("metric_sums/")] = float(value)
            elif key == "correct_sum":  # checkpoints from before the model named its metrics
                self.metric_sums["acc"] = float(value)
            else:
                setattr(self, key, type(getattr(self, key))(value))


@dataclass
class Trainer:
    """Trains `model` on `data` with mini-batches; callbacks watch and steer through `state`."""

    model: Model
    loss: Loss
    optimizer: Optimizer
    data: Batches
    epochs: int
    batch_size: int
    data_seed: int  # the data-order stream, apart from the init and dropout streams
    schedule: Schedule
    penalties: list[Penalty] = field(default_factory=list)
    clip_norm: float | None = None
    test_every_epoch: bool = False
    callbacks: list = field(default_factory=list)
    noise_rng: np.random.Generator | None = None  # dropout's stream, shared with the layers
    state: TrainState = field(default_factory=TrainState)

    def __post_init__(self) -> None:
        self.base_lr = self.optimizer.lr
        # What accuracy means comes from the loss, or from the targets when the loss is a regression
        # loss: mse on 0/1 targets (the course's Day 4 binary addition) still has an accuracy.
        self.task = self.data.task if self.loss.task == "regression" else self.loss.task
        # The metrics besides the loss come from the model: accuracy for a classifier, more for seq2seq.
        self.train_metrics = self.model.metric_names(self.task, train=True)
        self.eval_metrics = self.model.metric_names(self.task, train=False)
        self.state.metric_sums = dict.fromkeys(self.train_metrics, 0.0)

    @cached_property
    def train_sample(self) -> Split:
        """The training samples evaluated in evaluation mode after each epoch (train_loss, train_acc):
        all of them, or, when there are more than the validation split holds (and at most
        TRAIN_SAMPLE_MAX), a random sample of that size — drawn from the data seed alone, so it is the
        same every epoch, in every run of a sweep and after a resume, and in stored order."""
        train, val = self.data.train, self.data.val
        size = min(TRAIN_SAMPLE_MAX, len(val) if val is not None else TRAIN_SAMPLE_MAX)
        if len(train) <= size:
            return train
        rng = np.random.default_rng([self.data_seed, TRAIN_SAMPLE_STREAM])
        picked = np.sort(rng.choice(len(train), size, replace=False))
        return dataclasses.replace(train, x=train.x[picked], t=train.t[picked])

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(len(self.data.train) / self.batch_size)

    def epoch_order(self, epoch: int) -> np.ndarray:
        """The training samples' order in `epoch`: fixed by (data seed, epoch) alone, so runs of a
        sweep see the same batches and a resumed run picks up mid-epoch exactly."""
        return np.random.default_rng([self.data_seed, epoch]).permutation(len(self.data.train))

    def fit(self) -> TrainState:
        return loop.fit(self.state, self.epochs, self._run_epoch, self._call)

    def _run_epoch(self) -> None:
        state = self.state
        order = self.epoch_order(state.epoch)
        started = time.perf_counter()
        self._call("on_epoch_begin")
        for index in range(state.batch, self.steps_per_epoch):
            batch = order[index * self.batch_size : (index + 1) * self.batch_size]
            x, t = self.data.train.batch(batch)
            if self.data.augment is not None:
                x = self.data.augment(x, state.epoch, index)
            self._train_step(x, t)
            state.batch = index + 1
            self._call("on_batch_end")
            if state.stop:
                return  # interrupted or diverged: the epoch stays unfinished
        logs = self._epoch_logs(time.perf_counter() - started)
        state.epoch, state.batch = state.epoch + 1, 0
        state.loss_sum, state.seen = 0.0, 0
        state.metric_sums = dict.fromkeys(self.train_metrics, 0.0)
        self._call("on_epoch_end", logs)

    def _train_step(self, x: np.ndarray, t: np.ndarray) -> None:
        state, model = self.state, self.model
        self.optimizer.lr = self.lr
        loss, y = model.forward_loss(x, t, self.loss, train=True)
        self.last_loss = loss + self.penalty()  # what the optimizer minimizes
        if not math.isfinite(self.last_loss):
            return  # the NaN guard callback ends the run; no update from a broken loss
        model.backward_loss(self.loss)
        for penalty in self.penalties:
            for key in model.penalized:
                penalty.add_grad(model.params[key], model.grads[key])
        if self.clip_norm is not None:
            clip_by_global_norm(model.grads, self.clip_norm)
        self.optimizer.update(model.params, model.grads)
        state.step += 1
        state.loss_sum += loss * len(x)
        for name, value in model.batch_metrics(x, t, y, self.task, train=True).items():
            state.metric_sums[name] += value * len(x)
        state.seen += len(x)

    def penalty(self) -> float:
        """The weight penalties' sum for the current weights (λ/2 ΣW², λ Σ|W|; 0 without penalties)."""
        return sum((p.loss(self.model.params[key]) for p in self.penalties for key in self.model.penalized), 0.0)

    @property
    def lr(self) -> float:
        """The learning rate of the next step."""
        return self.lr_at(self.state.step)

    def lr_at(self, step: int) -> float:
        """The learning rate of optimizer step `step` (counted from 0): schedule × plateau factor."""
        return self.schedule.lr(self.base_lr, step, self.steps_per_epoch, self.epochs) * self.state.lr_scale

    def _epoch_logs(self, seconds: float) -> dict[str, float]:
        state = self.state
        # The rate of the epoch's last step, not optimizer.lr: a run resumed after an epoch's last
        # batch takes no step before this row, and optimizer.lr then still holds the base rate.
        logs: dict[str, float] = {"epoch": state.epoch + 1, "step": state.step, "lr": self.lr_at(state.step - 1)}
        # As the book measures it: the training set in evaluation mode with the epoch's final weights
        # (no dropout, batch norm's running statistics), beside the running means in training mode.
        logs.update(self.evaluate(self.train_sample, "train"))
        if self.penalties:
            logs["train_penalty"] = self.penalty()
        logs["train_running_loss"] = state.loss_sum / max(state.seen, 1)
        logs.update(
            {f"train_running_{name}": state.metric_sums[name] / max(state.seen, 1) for name in self.train_metrics}
        )
        if self.data.val is not None:
            logs.update(self.evaluate(self.data.val, "val"))
        if self.test_every_epoch and self.data.test is not None:
            logs.update(self.evaluate(self.data.test, "test"))
        logs["epoch_time_s"] = seconds
        return logs

    def evaluate(self, split: Split, prefix: str) -> dict[str, float]:
        """Mean loss and metrics (accuracy, …) over a split in evaluation mode (no dropout, running BN stats)."""
        loss_sum, sums = 0.0, dict.fromkeys(self.eval_metrics, 0.0)
        # In training-sized batches: a convolution's im2col matrix then never outgrows a training step's.
        for x, t in split.batches(self.batch_size):
            loss, y = self.model.forward_loss(x, t, self.loss, train=False)
            loss_sum += loss * len(x)
            for name, value in self.model.batch_metrics(x, t, y, self.task, train=False).items():
                sums[name] += value * len(x)
        return {f"{prefix}_loss": loss_sum / len(split), **{f"{prefix}_{name}": sums[name] / len(split) for name in sums}}

    def checkpoint_arrays(self) -> dict[str, np.ndarray]:
        """Everything needed to continue exactly where training stands, as named arrays."""
        arrays = {f"model/{k}": v for k, v in self.model.state_arrays().items()}
        arrays.update({f"optimizer/{k}": v for k, v in self.optimizer.state_arrays().items()})
        arrays.update({f"state/{k}": v for k, v in self.state.to_arrays().items()})
        if self.noise_rng is not None:
            # The generator's state holds 128-bit integers: kept as JSON text, not as objects.
            arrays["rng/noise"] = np.array(json.dumps(self.noise_rng.bit_generator.state))
        for callback in self.callbacks:
            arrays.update({f"callback/{type(callback).__name__}/{k}": v for k, v in callback.state_arrays().items()})
        return arrays

    def restore(self, arrays: dict[str, np.ndarray]) -> None:
        """Load what `checkpoint_arrays` saved."""
        self.model.load_state_arrays(split_arrays(arrays, "model"))
        self.optimizer.load_state_arrays(split_arrays(arrays, "optimizer"))
        self.state.load_arrays(split_arrays(arrays, "state"))
        if self.noise_rng is not None and "rng/noise" in arrays:
            self.noise_rng.bit_generator.state = json.loads(str(arrays["rng/noise"]))
        for callback in self.callbacks:
            callback.load_state_arrays(split_arrays(arrays, f"callback/{type(callback).__name__}"))

    def _call(self, hook: str, *args) -> None:
        for callback in self.callbacks:
            getattr(callback, hook)(self, *args)
