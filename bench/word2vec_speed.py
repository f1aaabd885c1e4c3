"""word2vec's training speed and quality, dnnexp against gensim 4.4, side by side in one run.

    python bench/word2vec_speed.py [--epochs 5] [--models skipgram cbow] [--repeats 1]

The King James Bible (dnnexp's kjv corpus, the same sentences for both), dim 100, window 5, 5
noise words, min_count 5, sample 1e-3, 5 epochs, the rate falling linearly to 0.0001: gensim with
workers=1 and its alpha 0.025, dnnexp with one BLAS thread and configs/day3/word2vec/{skipgram,
cbow}_kjv.yaml as they are (skip-gram at 0.025; CBOW at 0.1, which that file explains, in steps
of 1,000 words; skip-gram's steps are 500 words). Each model trains in turn
in dnnexp and gensim (interleaved, so a machine that gets busier slows both); speed is the corpus's
words read per second of training (building the vocabulary left out of both), the median over
epochs. Quality: the analogy accuracy of both on dnnexp/data/analogies/kjv.txt — 3CosAdd over the
same questions with dnnexp's function, and gensim's own evaluate_word_analogies on its vectors —
and the nearest neighbours of a few words. Peak memory: the maximum resident size of a separate
process running `dnnexp train` for one epoch of each model.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SPECS = {"skipgram": ROOT / "configs/day3/word2vec/skipgram_kjv.yaml", "cbow": ROOT / "configs/day3/word2vec/cbow_kjv.yaml"}
ANALOGIES = ROOT / "dnnexp/data/analogies/kjv.txt"
PROBES = ["god", "king", "egypt", "water", "son"]


def dnnexp_run(model: str, epochs: int) -> tuple[list[float], np.ndarray, tuple[str, ...]]:
    """words/s of each epoch, the trained vectors W_in and the vocabulary."""
    from dnnexp import tasks
    from dnnexp.train.callbacks import Callback
    from dnnexp.train.threads import blas_threads

    spec = tasks.load_spec(SPECS[model], [f"train.epochs={epochs}", "eval.analogies=null", "eval.probes=[]"])
    prepared = tasks.task_for(spec).prepare(spec)
    trainer, words = prepared.trainer, prepared.trainer.data.raw_words

    class EpochRates(Callback):
        rates: list[float] = []

        def on_epoch_end(self, trainer, logs):
            self.rates.append(words / logs["epoch_time_s"])

    timer = EpochRates()
    trainer.callbacks = [timer]
    with blas_threads():
        trainer.fit()
    return timer.rates, trainer.model.embeddings.copy(), trainer.data.words


def gensim_run(model: str, sentences: list[list[str]], epochs: int, raw_words: int):
    """words/s of each epoch of gensim's Word2Vec with the same settings, and the model."""
    from gensim.models import Word2Vec
    from gensim.models.callbacks import CallbackAny2Vec

    class EpochRates(CallbackAny2Vec):
        def __init__(self):
            self.rates, self.started = [], 0.0

        def on_epoch_begin(self, model):
            self.started = time.perf_counter()

        def on_epoch_end(self, model):
            self.rates.append(raw_words / (time.perf_counter() - self.started))

    w2v = Word2Vec(
        vector_size=100, window=5, negative=5, min_count=5, sample=1e-3, sg=int(model == "skipgram"),
        workers=1, alpha=0.025, min_alpha=0.0001, seed=0,
    )
    w2v.build_vocab(sentences)
    timer = EpochRates()
    w2v.train(sentences, total_examples=len(sentences), epochs=epochs, callbacks=[timer])
    return timer.rates, w2v


def analogy_score(vectors: np.ndarray, words: tuple[str, ...]) -> tuple[float, int, int]:
    """dnnexp's 3CosAdd accuracy on the shipped KJV questions: (accuracy, asked, in the file)."""
    from dnnexp.core.embeddings import analogy_accuracy, unit_rows
    from dnnexp.data.words import WordCorpus, read_analogies

    corpus = WordCorpus(words, np.ones(len(words), np.int64), np.zeros(0, np.int32), np.zeros(0, np.int64), 0)
    analogies = read_analogies(ANALOGIES, corpus, lowercase=True)
    return analogy_accuracy(unit_rows(vectors), analogies.questions), len(analogies.questions), analogies.total


def neighbours(vectors: np.ndarray, words: tuple[str, ...], top: int = 5) -> dict[str, list[str]]:
    from dnnexp.core.embeddings import nearest, unit_rows

    unit, index = unit_rows(vectors), {w: k for k, w in enumerate(words)}
    return {p: [words[i] for i in nearest(unit, unit[index[p]], top, [index[p]])[0]] for p in PROBES}


def peak_memory_mb(model: str) -> float:
    """Max resident memory of a separate `dnnexp train` process: one epoch of `model`."""
    with tempfile.TemporaryDirectory() as runs:
        command = [sys.executable, "-m", "dnnexp", "train", str(SPECS[model]), "--set", "train.epochs=1", "--runs-dir", runs, "-q"]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(ROOT)})
        _, status, usage = os.wait4(process.pid, 0)
    if status:
        raise SystemExit(f"{' '.join(command)} failed")
    return usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--models", nargs="+", default=["skipgram", "cbow"], choices=list(SPECS))
    parser.add_argument("--repeats", type=int, default=1, help="dnnexp and gensim runs per model, interleaved")
    args = parser.parse_args()

    import gensim

    from dnnexp.data.words import tokenized

    sentences = tokenized("kjv", lowercase=True)
    raw_words = sum(map(len, sentences))
    print(f"{time.strftime('%Y-%m-%d %H:%M')}  {platform.machine()}  python {platform.python_version()}  "
          f"numpy {np.__version__}  gensim {gensim.__version__}  load average {os.getloadavg()[0]:.1f}")
    print(f"kjv: {len(sentences):,} verses, {raw_words:,} words; {args.epochs} epochs, medians over epochs (words/s)")
    for model in args.models:
        ours, theirs = [], []
        for _ in range(args.repeats):
            rates, vectors, words = dnnexp_run(model, args.epochs)
            ours += rates
            g_rates, w2v = gensim_run(model, sentences, args.epochs, raw_words)
            theirs += g_rates
        ours_median, theirs_median = statistics.median(ours), statistics.median(theirs)
        print(f"\n{model}: dnnexp {ours_median:,.0f} words/s, gensim {theirs_median:,.0f} words/s, "
              f"ratio {ours_median / theirs_median:.2f}")
        accuracy, asked, total = analogy_score(vectors, words)
        g_words = tuple(w2v.wv.index_to_key)
        g_accuracy, _, _ = analogy_score(w2v.wv.vectors, g_words)
        g_own = w2v.wv.evaluate_word_analogies(str(ANALOGIES))[0]
        print(f"  analogy accuracy ({asked} of {total} questions in the vocabulary): dnnexp {accuracy:.3f}, "
              f"gensim {g_accuracy:.3f} (gensim's own evaluate_word_analogies: {g_own:.3f})")
        ours_near, theirs_near = neighbours(vectors, words), neighbours(w2v.wv.vectors, g_words)
        for probe in PROBES:
            print(f"  {probe:>6}  dnnexp: {', '.join(ours_near[probe]):<48} gensim: {', '.join(theirs_near[probe])}")
    for model in args.models:
        print(f"peak memory, `dnnexp train` of one {model} epoch (own process): {peak_memory_mb(model):.0f} MB")


if __name__ == "__main__":
    main()
