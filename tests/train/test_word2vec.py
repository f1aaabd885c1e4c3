"""The word2vec trainer: steps that cover the corpus, epochs drawn from the data seed alone, the
learning rate's line, and what an epoch logs."""

from __future__ import annotations

import numpy as np
import pytest

from dnnexp.core.models.word2vec import Word2Vec
from dnnexp.core.optimizers import SGD
from dnnexp.core.schedules import LinearDecay
from dnnexp.data.words import build_corpus
from dnnexp.train.word2vec import Word2VecTrainer, metric_columns

SENTENCES = [["a", "b", "c", "d", "a", "b"], ["c", "d", "e", "a"]] * 30


def trainer(seed: int = 0, epochs: int = 2) -> Word2VecTrainer:
    corpus = build_corpus(SENTENCES, min_count=1)
    model = Word2Vec(corpus.vocab_size, 4, "skipgram", 2, 2, np.random.default_rng(seed))
    return Word2VecTrainer(
        model=model, loss=None, optimizer=SGD(0.05), data=corpus, epochs=epochs, batch_size=50,
        data_seed=seed, schedule=LinearDecay(0.01), window=2, sample=0.0,
    )


def test_steps_cover_the_corpus_and_every_kept_word_is_a_centre_once():
    t = trainer()
    assert t.steps_per_epoch == 6  # 300 words in steps of 50
    text = t.epoch_text(0)
    bounds = np.searchsorted(text.positions, np.arange(t.steps_per_epoch + 1) * t.batch_size)
    centres = np.concatenate([t.step_windows(text, bounds, i).centres for i in range(t.steps_per_epoch)])
    np.testing.assert_array_equal(centres, text.ids)


def test_an_epoch_is_drawn_from_the_data_seed_and_epoch_alone():
    one, two = trainer(), trainer()
    np.testing.assert_array_equal(one.epoch_text(1).window, two.epoch_text(1).window)
    assert not np.array_equal(one.epoch_text(0).window, one.epoch_text(1).window)


def test_training_logs_loss_speed_and_lowers_the_loss():
    t = trainer(epochs=3)
    rows = []

    class Record:
        def __getattr__(self, name):
            return lambda *args: rows.append(args[1]) if name == "on_epoch_end" else None

        def state_arrays(self):
            return {}

    t.callbacks = [Record()]
    state = t.fit()
    assert state.status == "completed" and state.step == 18
    assert list(rows[0]) == [c for c in metric_columns(t)]
    assert rows[-1]["train_loss"] < rows[0]["train_loss"] and rows[0]["words_per_s"] > 0
    assert rows[-1]["lr"] == pytest.approx(0.05 * (1 - 0.99 * 17 / 18))


def test_the_progress_bar_counts_examples_where_a_classifier_counts_samples():
    import io

    from rich.console import Console

    from dnnexp.train.word2vec import CorpusProgress

    out = io.StringIO()
    t = trainer(epochs=1)
    t.callbacks = [CorpusProgress(Console(file=out, width=200, force_terminal=True))]
    t.fit()
    assert "examples/s" in out.getvalue() and "samples/s" not in out.getvalue()
