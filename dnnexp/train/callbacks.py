"""Callbacks: everything the training loop does besides learning.

A callback sees the trainer at fixed points (train begin/end, epoch begin/end, after each batch)
and steers it only through `trainer.state` (`stop`, `status`, `lr_scale`). One whose behaviour
depends on the past saves that past in `state_arrays`, so a resumed run continues exactly.
"""

from __future__ import annotations

import math
import time
from typing import Callable, Protocol

import numpy as np

from dnnexp.core.activations import Activation
from dnnexp.core.layers.recurrent import recurrent_layers
from dnnexp.train.arrays import split_arrays

SaveArrays = Callable[[dict[str, np.ndarray]], None]


class RowLog(Protocol):
    """Where metric rows go (a CSV file in a run folder)."""

    def append(self, row: dict) -> None: ...


class Callback:
    """Base callback: every hook does nothing."""

    def on_train_begin(self, trainer) -> None: ...

    def on_epoch_begin(self, trainer) -> None: ...

    def on_batch_end(self, trainer) -> None: ...

    def on_epoch_end(self, trainer, logs: dict[str, float]) -> None: ...

    def on_train_end(self, trainer) -> None: ...

    def state_arrays(self) -> dict[str, np.ndarray]:
        return {}

    def load_state_arrays(self, arrays: dict[str, np.ndarray]) -> None: ...


class NaNGuard(Callback):
    """Ends the run as `diverged` the moment the loss is NaN or infinite."""

    def on_batch_end(self, trainer):
        if not math.isfinite(trainer.last_loss):
            state = trainer.state
            state.stop, state.status = True, "diverged"
            state.message = (
                f"the loss became {trainer.last_loss} at epoch {state.epoch + 1}, step {state.step + 1}; "
                f"lower the learning rate (optimizer.lr is {trainer.base_lr:g}) "
                "or clip gradients (regularization.clip_norm)"
            )


class MetricsLogger(Callback):
    """Writes one row per epoch to a log (metrics.csv)."""

    def __init__(self, log: RowLog):
        self.log = log

    def on_epoch_end(self, trainer, logs):
        self.log.append(logs)


class Checkpoint(Callback):
    """Saves the whole training state every `every` epochs and when training stops for any reason
    but divergence (whose weights are broken: the last good checkpoint stays)."""

    def __init__(self, save: SaveArrays, every: int | None = None):
        self.save, self.every = save, every

    def on_epoch_end(self, trainer, logs):
        if self.every and trainer.state.epoch % self.every == 0:
            self.save(trainer.checkpoint_arrays())

    def on_train_end(self, trainer):
        if trainer.state.status in ("completed", "interrupted"):
            self.save(trainer.checkpoint_arrays())


class MonitorCallback(Callback):
    """Base of the callbacks that watch one logged metric: tracks its best value (lower is better
    for losses, higher otherwise) and how many epochs have passed without gaining `min_delta` on it."""

    def __init__(self, monitor: str, min_delta: float):
        self.monitor, self.min_delta = monitor, min_delta
        self.sign = 1.0 if "loss" in monitor else -1.0
        self.best, self.wait = math.inf, 0

    def improved(self, logs: dict[str, float]) -> bool:
        """Whether this epoch's `logs` beat the best by more than `min_delta`; counts the wait if not."""
        if self.monitor not in logs:
            raise KeyError(f"'{self.monitor}' is not logged; logged metrics: {', '.join(sorted(logs))}")
        value = self.sign * logs[self.monitor]
        if value < self.best - self.min_delta:
            self.best, self.wait = value, 0
            return True
        self.wait += 1
        return False

    def state_arrays(self):
        return {"best": np.array(self.best), "wait": np.array(self.wait)}

    def load_state_arrays(self, arrays):
        self.best, self.wait = float(arrays["best"]), int(arrays["wait"])


class EarlyStopping(MonitorCallback):
    """Stops when `monitor` has not improved by `min_delta` for `patience` epochs; with
    `restore_best`, the best epoch's weights are put back when the run ends."""

    def __init__(self, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0, restore_best: bool = True):
        super().__init__(monitor, min_delta)
        self.patience, self.restore_best = patience, restore_best
        self.best_epoch = 0
        self.best_weights: dict[str, np.ndarray] = {}

    def on_epoch_end(self, trainer, logs):
        if self.improved(logs):
            self.best_epoch = int(logs["epoch"])
            if self.restore_best:
                self.best_weights = {k: v.copy() for k, v in trainer.model.state_arrays().items()}
        elif self.wait >= self.patience:
            state = trainer.state
            state.stop = True
            state.message = (
                f"stopped early after epoch {int(logs['epoch'])}: {self.monitor} has not improved "
                f"for {self.patience} epochs (best at epoch {self.best_epoch})"
            )

    def on_train_end(self, trainer):
        if self.restore_best and self.best_weights and trainer.state.status == "completed":
            trainer.model.load_state_arrays(self.best_weights)

    def state_arrays(self):
        arrays = {**super().state_arrays(), "best_epoch": np.array(self.best_epoch)}
        arrays.update({f"weights/{k}": v for k, v in self.best_weights.items()})
        return arrays

    def load_state_arrays(self, arrays):
        super().load_state_arrays(arrays)
        self.best_epoch = int(arrays["best_epoch"])
        self.best_weights = split_arrays(arrays, "weights")


class ReduceLROnPlateau(MonitorCallback):
    """Multiplies the learning rate by `factor` when `monitor` has not improved for `patience`
    epochs, down to `min_lr`."""

    def __init__(self, monitor: str = "val_loss", factor: float = 0.5, patience: int = 3, min_lr: float = 1e-6):
        super().__init__(monitor, 0.0)
        self.factor, self.patience, self.min_lr = factor, patience, min_lr

    def on_epoch_end(self, trainer, logs):
        if not self.improved(logs) and self.wait >= self.patience:
            state = trainer.state
            # Never upwards: a base rate already under min_lr stays where it is.
            floor = min(state.lr_scale, self.min_lr / trainer.base_lr)
            state.lr_scale = max(state.lr_scale * self.factor, floor)
            self.wait = 0


class EpochMeans:
    """Per-name means of arrays over an epoch's batches, for callbacks that log one row per epoch.

    The sums so far are part of a checkpoint (`sums/<name>`, `batches`): a run resumed mid-epoch
    then averages that epoch over all its batches.
    """

    def __init__(self):
        self.sums: dict[str, np.ndarray] = {}  # by name, over the current epoch's batches so far
        self.batches = 0

    def add_batch(self, values: dict[str, np.ndarray]) -> None:
        """One batch's values, by name; a name missing from a batch counts as zero there."""
        for name, value in values.items():
            self.sums[name] = self.sums.get(name, 0) + value
        self.batches += 1

    def end_epoch(self) -> dict[str, np.ndarray]:
        """The epoch's means, by name; the sums start afresh for the next epoch."""
        means = {name: total / self.batches for name, total in self.sums.items()}
        self.sums, self.batches = {}, 0
        return means

    def state_arrays(self) -> dict[str, np.ndarray]:
        return {**{f"sums/{name}": total for name, total in self.sums.items()}, "batches": np.array(self.batches)}

    def load_state_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self.sums = split_arrays(arrays, "sums")
        self.batches = int(arrays["batches"])


class LayerStats(Callback):
    """Per-layer activation mean/std and gradient norms, averaged over each epoch's batches (the
    numbers that show vanishing gradients), plus samples of every activation layer's outputs on a
    fixed probe batch before and after training (for activation histograms)."""

    SAMPLE_SIZE = 20_000  # values kept per layer for a histogram

    def __init__(self, log: RowLog, save_samples: SaveArrays, probe: np.ndarray):
        self.log, self.save_samples, self.probe = log, save_samples, probe
        self.samples: dict[str, np.ndarray] = {}
        self.means = EpochMeans()

    def on_train_begin(self, trainer):
        trainer.model.keep_outputs = True
        if trainer.state.step == 0:
            self.samples.update(self._sample(trainer, "init"))

    def on_batch_end(self, trainer):
        model, rows = trainer.model, {}
        for layer in model.layers:
            out, dout = model.outputs.get(layer.name), model.output_grads.get(layer.name)
            if out is None or dout is None:
                continue
            grad_norm = math.sqrt(sum(float(np.vdot(g, g)) for g in layer.grads.values())) if layer.grads else math.nan
            rows[layer.name] = np.array([out.mean(), out.std(), grad_norm, math.sqrt(float(np.vdot(dout, dout)))])
        self.means.add_batch(rows)

    def on_epoch_end(self, trainer, logs):
        kinds = {layer.name: layer.kind for layer in trainer.model.layers}
        for name, mean in self.means.end_epoch().items():
            self.log.append(
                {"epoch": int(logs["epoch"]), "layer": name, "kind": kinds[name], "act_mean": mean[0],
                 "act_std": mean[1], "grad_norm": mean[2], "dout_norm": mean[3]}
            )

    def on_train_end(self, trainer):
        self.samples.update(self._sample(trainer, "final"))
        self.save_samples(self.samples)
        trainer.model.keep_outputs = False

    def state_arrays(self):
        initial = {key: value for key, value in self.samples.items() if key.startswith("init/")}
        return {**initial, **self.means.state_arrays()}

    def load_state_arrays(self, arrays):
        self.samples = {key: value for key, value in arrays.items() if key.startswith("init/")}
        self.means.load_state_arrays(arrays)

    def _sample(self, trainer, stage: str) -> dict[str, np.ndarray]:
        model = trainer.model
        model.forward(self.probe, train=False)
        rng = np.random.default_rng(0)
        samples = {}
        for layer in model.layers:
            # A model's forward pass may leave parts out (VHRED's posterior, which only training uses).
            if isinstance(layer, Activation) and layer.name in model.outputs:
                values = model.outputs[layer.name].ravel()
                if values.size > self.SAMPLE_SIZE:
                    values = rng.choice(values, self.SAMPLE_SIZE, replace=False)
                samples[f"{stage}/{layer.name}"] = values.astype(np.float32)
        model.outputs.clear()
        return samples


class TimeGrads(Callback):
    """‖dL/ds_t‖ at every time step t of every recurrent layer, averaged over each epoch's batches
    (time_grads.csv): how the gradient changes as it flows backwards through time (course Day 3
    §1–2: it vanishes in a simple RNN; the LSTM's cell carries it).

    s_t is the state the layer carries from step t to t + 1: h_t, and for the LSTM (h_t, c_t),
    whose c_t is where the constant error carousel keeps the gradient. The norm is over the batch
    and the units, of the total gradient (from the output at t and from the steps after it). A
    bidirectional layer's backward half counts its steps in the order it reads them, last input first.
    """

    def __init__(self, log: RowLog):
        self.log = log
        self.means = EpochMeans()

    def on_train_begin(self, trainer):
        self.layers = recurrent_layers({layer.name: layer for layer in trainer.model.layers})
        for _, layer in self.layers:
            layer.record_time_grads = True

    def on_batch_end(self, trainer):
        if not math.isfinite(trainer.last_loss):
            return  # no backward pass ran
        self.means.add_batch({name: layer.time_grad_norms for name, layer in self.layers})

    def on_epoch_end(self, trainer, logs):
        for name, mean in self.means.end_epoch().items():
            for t, norm in enumerate(mean, start=1):
                self.log.append({"epoch": int(logs["epoch"]), "layer": name, "t": t, "grad_norm": norm})

    def on_train_end(self, trainer):
        for _, layer in self.layers:
            layer.record_time_grads = False

    def state_arrays(self):
        return self.means.state_arrays()

    def load_state_arrays(self, arrays):
        self.means.load_state_arrays(arrays)


class Progress(Callback):
    """The model summary first, then a rich progress bar per epoch (batches, loss, samples/s) and
    one summary line per epoch; the bar only on a terminal, where it can redraw in place."""

    SHOWN = {"train_loss": "loss", "train_acc": "acc"}  # Keras's short names for the training metrics

    def __init__(self, console):
        self.console = console
        self.bar = None

    def on_train_begin(self, trainer):
        from dnnexp.summary import model_table

        self.console.print(model_table(trainer.model, "model"))

    def on_epoch_begin(self, trainer):
        if not self.console.is_terminal:
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bar, TextColumn, TimeRemainingColumn

        self.bar = Bar(
            TextColumn("epoch {task.fields[epoch]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]:.4f}  {task.fields[speed]:,.0f} samples/s"),
            TimeRemainingColumn(),
            console=self.console,
            transient=True,
        )
        state = trainer.state
        self.task = self.bar.add_task(
            "train", total=trainer.steps_per_epoch, completed=state.batch,
            epoch=f"{state.epoch + 1}/{trainer.epochs}", loss=math.nan, speed=0.0,
        )
        self.started, self.first_seen = time.perf_counter(), state.seen
        self.bar.start()

    def on_batch_end(self, trainer):
        if self.bar is None:
            return
        state = trainer.state
        elapsed = max(time.perf_counter() - self.started, 1e-9)
        self.bar.update(
            self.task, completed=state.batch, loss=state.loss_sum / max(state.seen, 1),
            speed=(state.seen - self.first_seen) / elapsed,
        )

    def on_epoch_end(self, trainer, logs):
        self._close()
        shown = "  ".join(
            f"{self.SHOWN.get(key, key)} {value:.4g}"
            for key, value in logs.items()
            if key not in ("epoch", "step", "epoch_time_s")
        )
        self.console.print(
            f"epoch {int(logs['epoch'])}/{trainer.epochs}  {shown}  {logs['epoch_time_s']:.1f}s", soft_wrap=True
        )

    def on_train_end(self, trainer):
        self._close()

    def _close(self):
        if self.bar is not None:
            self.bar.stop()
            self.bar = None
