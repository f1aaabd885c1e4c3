"""Progress: the model summary, a progress bar per epoch and a line per epoch on the console."""

from __future__ import annotations

import math
import time

from dnnexp.train.callbacks.base import Callback


class Progress(Callback):
    """The model summary first, then a rich progress bar per epoch (batches, loss, samples/s) and
    one summary line per epoch; the bar only on a terminal, where it can redraw in place."""

    TRAIN = "train_"  # the training metrics go by Keras's short names: loss, acc, running_loss, penalty, …
    #: what a training counts in `state.seen`, for the bar's rate
    UNIT = "samples"

    def __init__(self, console):
        self.console = console
        self.bar = None

    def on_train_begin(self, trainer):
        from dnnexp.train.summary import model_table

        self.console.print(model_table(trainer.model, "model"))

    def on_epoch_begin(self, trainer):
        if not self.console.is_terminal:
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bar, TextColumn, TimeRemainingColumn

        self.bar = Bar(
            TextColumn("epoch {task.fields[epoch]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("running loss {task.fields[loss]:.4f}  {task.fields[speed]:,.0f} " + self.UNIT + "/s"),
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
            f"{key.removeprefix(self.TRAIN)} {value:.4g}"
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
