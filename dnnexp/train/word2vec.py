"""Training word2vec (course Day 3 §6): the trainer's loop, with a corpus for its data.

An epoch is a pass over the corpus in steps of `batch_size` of its words (counted before
subsampling, so every epoch has the same steps and the learning-rate schedule its usual meaning).
Each epoch's subsampling and window sizes come from the stream (data seed, epoch), each step's noise
words from (data seed, epoch, step): a run resumed mid-epoch redraws the same text and goes on
bit for bit. What the generic `Trainer` does — the schedule, callbacks, Ctrl-C, checkpoints and
their restoring — it does here too; what differs is the step (sparse row updates) and what an
epoch logs: the training loss per example, words per second, and the analogy accuracy.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from dnnexp.core.embeddings import analogy_accuracy, unit_rows
from dnnexp.core.models.word2vec import Windows, Word2Vec
from dnnexp.data.words import Analogies, EpochText, WordCorpus, draw_negatives
from dnnexp.train.callbacks.progress import Progress
from dnnexp.train.trainer import Trainer


@dataclass
class Word2VecTrainer(Trainer):
    """Trains a `Word2Vec` on `data`, a `WordCorpus` (the `loss` field is unused: the model's loss
    is its own)."""

    model: Word2Vec
    data: WordCorpus
    window: int = 5
    sample: float = 1e-3
    analogies: Analogies | None = None
    keep: np.ndarray = field(init=False)
    noise_cdf: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.base_lr = self.optimizer.lr
        self.train_metrics, self.eval_metrics = (), ()
        self.keep = self.data.keep_probabilities(self.sample)
        self.noise_cdf = self.data.noise_cdf()

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(len(self.data.ids) / self.batch_size)

    def epoch_text(self, epoch: int) -> EpochText:
        """Epoch `epoch`'s subsampled text and window sizes, from (data seed, epoch) alone."""
        return EpochText.draw(self.data, self.keep, self.window, np.random.default_rng([self.data_seed, epoch]))

    def step_windows(self, text: EpochText, bounds: np.ndarray, index: int) -> Windows:
        """Step `index`'s centre words with their windows and noise words."""
        windows = text.windows(int(bounds[index]), int(bounds[index + 1]), self.window)
        model = self.model
        if model.negative:
            blocks = -(-len(windows.valid) // model.block)
            rng = np.random.default_rng([self.data_seed, self.state.epoch, index])
            windows.negatives = draw_negatives(self.noise_cdf, (blocks, model.negative), rng)
        return windows

    def _run_epoch(self) -> None:
        state = self.state
        text = self.epoch_text(state.epoch)
        # Step i's centres: the kept words among the corpus's words i·batch … (i + 1)·batch − 1.
        bounds = np.searchsorted(text.positions, np.arange(self.steps_per_epoch + 1) * self.batch_size)
        first, started = state.batch, time.perf_counter()
        self._call("on_epoch_begin")
        for index in range(state.batch, self.steps_per_epoch):
            self._train_step(self.step_windows(text, bounds, index))
            state.batch = index + 1
            self._call("on_batch_end")
            if state.stop:
                return
        seconds = time.perf_counter() - started
        words = min(self.steps_per_epoch * self.batch_size, len(self.data.ids)) - first * self.batch_size
        logs = self._epoch_logs(seconds, words)
        state.epoch, state.batch = state.epoch + 1, 0
        state.loss_sum, state.seen = 0.0, 0
        self._call("on_epoch_end", logs)

    def _train_step(self, windows: Windows) -> None:
        state, model = self.state, self.model
        self.optimizer.lr = self.lr
        loss = model.forward(windows)
        examples = model.examples(windows)
        self.last_loss = loss / max(examples, 1)  # per example, what the divergence guard bounds
        if not math.isfinite(self.last_loss):
            return  # the divergence guard ends the run; no update from a broken loss
        self.optimizer.update_rows(model.params, model.backward())
        state.step += 1
        state.loss_sum += loss
        state.seen += examples

    def _epoch_logs(self, seconds: float, words: int) -> dict[str, float]:
        state = self.state
        logs: dict[str, float] = {"epoch": state.epoch + 1, "step": state.step, "lr": self.lr_at(state.step - 1)}
        logs["train_loss"] = state.loss_sum / max(state.seen, 1)
        logs["words_per_s"] = words / max(seconds, 1e-9)
        if self.analogies is not None:
            logs["analogy_acc"] = analogy_accuracy(unit_rows(self.model.embeddings), self.analogies.questions)
        logs["epoch_time_s"] = seconds
        return logs


def metric_columns(trainer: Word2VecTrainer) -> list[str]:
    """metrics.csv's columns: `train_loss` is the mean loss of an example over the epoch (a pair's
    for skip-gram, a centre word's for CBOW), `words_per_s` the corpus's words read per second."""
    analogy = ["analogy_acc"] if trainer.analogies is not None else []
    return ["epoch", "step", "lr", "train_loss", "words_per_s", *analogy, "epoch_time_s"]


class CorpusProgress(Progress):
    """Progress with the corpus and the model's size first, where a layer table would stand."""

    UNIT = "examples"  # a (centre, context) pair for skip-gram, a centre word for CBOW

    def on_train_begin(self, trainer):
        corpus, model = trainer.data, trainer.model
        self.console.print(
            f"{model.kind}: {corpus.vocab_size:,} words × {model.dim} dimensions, "
            f"{2 * corpus.vocab_size * model.dim:,} parameters; {corpus.raw_words:,} words read, "
            f"{len(corpus.ids):,} in the vocabulary, {trainer.steps_per_epoch:,} steps an epoch"
        )
