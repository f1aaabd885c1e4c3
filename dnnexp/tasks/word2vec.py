"""word2vec (`kind: word2vec`, course Day 3 §6): word vectors learned from a corpus by skip-gram
or CBOW, with negative sampling or the course's plain softmax.

The run folder gets, besides metrics.csv and summary.json: vocabulary.tsv (each word of the
vocabulary and its count, by id), neighbours.csv (each probe word's nearest neighbours after every
epoch), checkpoint.npz (both matrices, the optimizer's state), learning_curves.png (the loss) and
analogy_acc.png (the analogy accuracy, epoch by epoch). `dnnexp similar`, `analogy`,
`export` and `plot --embeddings` read a finished run back.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import Field
from rich.console import Console

from dnnexp.console import styled
from dnnexp.core.embeddings import nearest, unit_rows
from dnnexp.core.models.word2vec import Word2Vec
from dnnexp.data.memory import limited, require
from dnnexp.data.words import CORPORA, WordCorpus, analogy_file, build_corpus, read_analogies, tokenized
from dnnexp.errors import DnnexpError, RunDirError, SpecError
from dnnexp.runs.lifecycle import Lifecycle, Outcome
from dnnexp.runs.rundir import RunDir, write_atomically
from dnnexp.spec.registry import OPTIMIZERS, SCHEDULES
from dnnexp.spec.schema import Divergence, NonNegativeInt, OptimizerSpec, PositiveInt, ScheduleSpec, Section, SpecBase
from dnnexp.tasks.base import Task
from dnnexp.tasks.supervised import restore
from dnnexp.train import callbacks as cb
from dnnexp.train.threads import blas_threads
from dnnexp.train.word2vec import CorpusProgress, Word2VecTrainer, metric_columns

CHECKPOINT = "checkpoint.npz"
VOCABULARY = "vocabulary.tsv"
NEIGHBOURS = "neighbours.csv"
#: the softmax's (centres, V) scores, probabilities and gradient of a step
SOFTMAX_ARRAYS = 3


class CorpusSection(Section):
    """`data:` the corpus and its vocabulary."""

    name: Literal[tuple(CORPORA)]  # type: ignore[valid-type]  # kjv, text, ptb
    path: str | None = None  # text: the file (a sentence a line); ptb: a folder holding ptb.train.txt
    verses: str | None = None  # kjv: a range of verses as the bible program reads it (Gen1:1-Gen50:26); null: all
    lowercase: bool = True
    min_count: PositiveInt = 5  # words seen fewer times are left out, as gensim's min_count
    max_vocab: PositiveInt | None = None  # keep at most this many of the most frequent words
    sample: Annotated[float, Field(ge=0, lt=1)] = 1e-3  # subsampling of frequent words (gensim's sample); 0: none


#: the model kinds of a word2vec spec (`kind: word2vec`), as `dnnexp list models` describes them
MODEL_KINDS = {
    "skipgram": "Skip-gram (course Day 3 §6; a `kind: word2vec` spec): each word predicts the words of its window.",
    "cbow": "CBOW (course Day 3 §6; a `kind: word2vec` spec): the mean of a window's words predicts its centre word.",
}


class Word2VecModelSection(Section):
    """`model:` skip-gram or CBOW, the vectors' size, the window and the output layer."""

    kind: Literal["skipgram", "cbow"] = "skipgram"
    dim: PositiveInt = 100
    window: PositiveInt = 5  # at most this many words each side; each centre's window is drawn from 1…window
    output: Literal["negative_sampling", "softmax"] = "negative_sampling"
    negative: PositiveInt = 5  # noise words per example (negative sampling)
    negative_block: PositiveInt = 4  # consecutive centre words that share their noise words (1: each its own)


class Word2VecTrainSection(Section):
    """`train:` epochs, words per step and checkpoints."""

    epochs: PositiveInt = 5
    batch_size: PositiveInt = 500  # the corpus's words per step (before subsampling)
    checkpoint_every: NonNegativeInt = 1
    divergence: Divergence | None = Divergence()


class EvalSection(Section):
    """`eval:` what is measured after every epoch."""

    probes: list[str] = []  # words whose nearest neighbours neighbours.csv records
    top: PositiveInt = 8  # neighbours per probe word
    analogies: str | None = None  # an analogy file (`a b c d` a line), or the name of a shipped one: kjv


class Word2VecSpec(SpecBase):
    """Word vectors learned from a corpus (`kind: word2vec`)."""

    kind: Literal["word2vec"]
    seed: NonNegativeInt = 0
    data: CorpusSection
    model: Word2VecModelSection = Word2VecModelSection()
    optimizer: OptimizerSpec = {"name": "sgd", "lr": 0.025}
    schedule: ScheduleSpec = {"name": "linear", "min_factor": 0.004}  # word2vec's alpha 0.025 → 0.0001
    train: Word2VecTrainSection = Word2VecTrainSection()
    eval: EvalSection = EvalSection()


@dataclass
class Prepared:
    spec: Word2VecSpec
    trainer: Word2VecTrainer
    probes: list[int]
    checkpoint: dict[str, np.ndarray] | None = None


@dataclass
class Rebuilt:
    """A run's vocabulary and word vectors, read back from its folder."""

    spec: Word2VecSpec
    words: tuple[str, ...]
    counts: np.ndarray
    vectors: np.ndarray  # W_in (V, d)

    @property
    def unit(self) -> np.ndarray:
        return unit_rows(self.vectors)

    def ids(self, words: list[str], run: RunDir) -> list[int]:
        """Vocabulary ids of `words`; an unknown one is named with the closest words there are."""
        index = {word: k for k, word in enumerate(self.words)}
        lower = self.spec.data.lowercase
        ids = []
        for word in words:
            key = word.lower() if lower else word
            if key not in index:
                close = difflib.get_close_matches(key, self.words, n=5, cutoff=0.6)
                hint = f"; close ones: {', '.join(close)}" if close else ""
                raise DnnexpError(f"'{word}' is not in the vocabulary of {run.path} ({len(self.words):,} words){hint}")
            ids.append(index[key])
        return ids


def load_corpus(data: CorpusSection) -> WordCorpus:
    """The spec's corpus, read and numbered; a corpus with no words is refused."""
    if data.name == "text" and data.path is None:
        raise SpecError("data.path: the text corpus reads a file; give its path (data: {name: text, path: corpus.txt})")
    if data.name == "kjv" and data.path is not None:
        raise SpecError("data.path: the kjv corpus comes from the bible program; leave out data.path (data.verses picks verses)")
    if data.name != "kjv" and data.verses is not None:
        raise SpecError(f"data.verses: picks verses of the kjv corpus; leave it out for {data.name}")
    source = f"data.path '{data.path}'" if data.path else f"the {data.name} corpus"
    return build_corpus(tokenized(data.name, data.lowercase, data.path, data.verses), data.min_count, data.max_vocab, source)


class Word2VecTask(Task):
    """Word vectors from a corpus (course Day 3 §6)."""

    kind = "word2vec"
    spec_class = Word2VecSpec

    def prepare(self, spec: Word2VecSpec, resume: RunDir | None = None) -> Prepared:
        with limited("data: the corpus", "use a smaller corpus"):
            corpus = load_corpus(spec.data)
        index = corpus.index()
        case = (lambda w: w.lower()) if spec.data.lowercase else (lambda w: w)
        missing = [w for w in spec.eval.probes if case(w) not in index]
        if missing:
            raise SpecError(
                f"eval.probes: {', '.join(missing)} not in the vocabulary of {corpus.vocab_size:,} words "
                "(rarer than data.min_count, or not in the corpus); choose other probe words"
            )
        analogies = None
        if spec.eval.analogies is not None:
            analogies = read_analogies(analogy_file(spec.eval.analogies), corpus, spec.data.lowercase)
        model_spec = spec.model
        if model_spec.output == "softmax":
            centres = min(spec.train.batch_size, len(corpus.ids))
            require(
                SOFTMAX_ARRAYS * centres * corpus.vocab_size * 4,
                f"model.output: softmax over {corpus.vocab_size:,} words for {centres:,} centre words a step",
                "lower train.batch_size or data.max_vocab, or use output: negative_sampling",
            )
        with limited("model: its two matrices", "lower model.dim or data.max_vocab"):
            model = Word2Vec(
                corpus.vocab_size, model_spec.dim, model_spec.kind,
                model_spec.negative if model_spec.output == "negative_sampling" else 0,
                model_spec.negative_block, np.random.default_rng([spec.seed, 0]),
            )
        trainer = Word2VecTrainer(
            model=model, loss=None, optimizer=OPTIMIZERS.build(spec.optimizer), data=corpus,
            epochs=spec.train.epochs, batch_size=spec.train.batch_size, data_seed=spec.seed,
            schedule=SCHEDULES.build(spec.schedule), window=model_spec.window, sample=spec.data.sample,
            analogies=analogies,
        )
        checkpoint = None
        if resume is not None:
            if not resume.has(CHECKPOINT):
                raise RunDirError(f"{resume.path} has no {CHECKPOINT} to resume from; start a new run instead")
            checkpoint = resume.load_npz(CHECKPOINT)
        return Prepared(spec, trainer, [index[case(w)] for w in spec.eval.probes], checkpoint)

    def describe(self, prepared: Prepared) -> str:
        trainer, spec = prepared.trainer, prepared.spec
        corpus, model = trainer.data, trainer.model
        output = f"negative sampling, k = {model.negative}" if model.negative else "softmax over the vocabulary"
        analogies = trainer.analogies
        asked = f"; {len(analogies.questions):,} of {analogies.total:,} analogy questions in the vocabulary" if analogies else ""
        return (
            f"{spec.name}: {model.kind}, {output}, window {trainer.window}: {corpus.vocab_size:,} words × "
            f"{model.dim} = {2 * corpus.vocab_size * model.dim:,} parameters (W_in and W_out); "
            f"{corpus.raw_words:,} words read, {len(corpus.ids):,} in the vocabulary{asked}"
        )

    def run(self, prepared: Prepared, life: Lifecycle, console: Console | None) -> Outcome:
        trainer, spec, run = prepared.trainer, prepared.spec, life.run
        corpus = trainer.data
        if console is not None:
            console.print(styled((spec.name, "bold"), f"  seed {spec.seed}"))
        if not life.resumed:
            run.write_text(VOCABULARY, "".join(f"{w}\t{c}\n" for w, c in zip(corpus.words, corpus.counts.tolist())))
        trainer.callbacks = run_callbacks(prepared, life, console)
        if prepared.checkpoint is not None:
            restore(trainer, prepared.checkpoint, run)
        with blas_threads(), np.errstate(over="ignore", invalid="ignore"):
            state = trainer.fit()
        metrics = run.metrics()
        final = {k: (v.item() if hasattr(v, "item") else v) for k, v in metrics.iloc[-1].items()} if len(metrics) else {}
        # What `compare` shows beside the loss, as the end-of-run figures: the analogy accuracy and the
        # median training speed over the epochs.
        test = {"words_per_s": float(metrics["words_per_s"].median())} if len(metrics) else None
        if test is not None and "analogy_acc" in metrics:
            test["analogy_acc"] = final["analogy_acc"]
        results = {
            "epochs_completed": state.epoch, "steps": state.step, "final": final, "test": test, "seed": spec.seed,
            "parameters": 2 * corpus.vocab_size * trainer.model.dim,
            "corpus": {"words_read": corpus.raw_words, "in_vocabulary": int(len(corpus.ids)), "vocabulary": corpus.vocab_size},
        }
        if trainer.analogies is not None:
            results["analogies"] = {"questions": trainer.analogies.total, "asked": int(len(trainer.analogies.questions))}
        headline = f"analogy_acc {final['analogy_acc']:.4f}" if isinstance(final.get("analogy_acc"), float) else ""
        return Outcome(state.status, state.message, results, headline)

    def draw(self, prepared: Prepared, run: RunDir) -> None:
        from dnnexp.plots.curves import plot_curves

        metrics = run.metrics()
        if len(metrics):
            plot_curves([run], run.file("learning_curves.png"))
            if "analogy_acc" in metrics:  # not a split's metric, so the curves' panels leave it out
                plot_curves([run], run.file("analogy_acc.png"), metric="analogy_acc")

    # ---- after the run --------------------------------------------------------------------

    def rebuild(self, run: RunDir) -> Rebuilt:
        """The run's vocabulary (vocabulary.tsv) and word vectors (W_in of checkpoint.npz)."""
        from dnnexp.tasks import run_spec

        spec = run_spec(run)
        if not run.has(VOCABULARY) or not run.has(CHECKPOINT):
            raise RunDirError(f"{run.path} lacks {VOCABULARY} or {CHECKPOINT}: it stopped before its first epoch ended")
        lines = run.file(VOCABULARY).read_text(encoding="utf-8").splitlines()
        try:
            words, counts = zip(*(line.rsplit("\t", 1) for line in lines))
            vectors = run.load_npz(CHECKPOINT)["model/W_in"]
        except (ValueError, KeyError):
            raise RunDirError(f"{run.path}: {VOCABULARY} or {CHECKPOINT} is damaged; train the run again") from None
        if len(vectors) != len(words):
            raise RunDirError(f"{run.path}: {VOCABULARY} has {len(words)} words but the vectors {len(vectors)} rows")
        return Rebuilt(spec, tuple(words), np.array(counts, dtype=np.int64), vectors)

    def similar(self, run: RunDir, word: str, top: int) -> list[tuple[str, float]]:
        """The `top` words whose vectors are closest to `word`'s (cosine similarity)."""
        rebuilt = self.rebuild(run)
        (k,) = rebuilt.ids([word], run)
        unit = rebuilt.unit
        ids, similarity = nearest(unit, unit[k], top, exclude=[k])
        return [(rebuilt.words[i], float(s)) for i, s in zip(ids, similarity)]

    def analogy(self, run: RunDir, a: str, b: str, c: str, top: int) -> list[tuple[str, float]]:
        """a is to b as c is to …: the `top` words closest to b − a + c, the three left out."""
        rebuilt = self.rebuild(run)
        ids = rebuilt.ids([a, b, c], run)
        unit = rebuilt.unit
        found, similarity = nearest(unit, unit[ids[1]] - unit[ids[0]] + unit[ids[2]], top, exclude=ids)
        return [(rebuilt.words[i], float(s)) for i, s in zip(found, similarity)]

    def export(self, run: RunDir, out: Path) -> Path:
        """The vectors in word2vec's text format (gensim's KeyedVectors.load_word2vec_format): a line
        `V d`, then a word and its d numbers a line."""
        rebuilt = self.rebuild(run)  # words never hold spaces: the corpora split at them
        lines = [f"{len(rebuilt.words)} {rebuilt.vectors.shape[1]}\n"]
        lines += [f"{w} {' '.join(f'{x:.6g}' for x in row)}\n" for w, row in zip(rebuilt.words, rebuilt.vectors.tolist())]
        write_atomically(out, lambda f: f.write("".join(lines).encode("utf-8")))
        return out


def run_callbacks(prepared: Prepared, life: Lifecycle, console: Console | None) -> list[cb.Callback]:
    """A word2vec run's callbacks: divergence guard, metrics.csv, neighbours.csv, checkpoints, progress."""
    spec, trainer, run = prepared.spec, prepared.trainer, life.run
    bounds = spec.train.divergence.model_dump() if spec.train.divergence is not None else {}
    # Summed gradients of a word's many occurrences in one step are what overshoots: fewer words a step help.
    guard = cb.DivergenceGuard(**bounds, remedy="or take fewer words a step (train.batch_size)")
    callbacks: list[cb.Callback] = [guard, cb.MetricsLogger(life.log("metrics.csv", metric_columns(trainer)))]
    if prepared.probes:
        callbacks.append(cb.NeighbourLog(life.log(NEIGHBOURS, cb.NeighbourLog.COLUMNS), prepared.probes, spec.eval.top))
    # The checkpoint goes last, so it records the other callbacks' state after their epoch-end.
    callbacks.append(cb.Checkpoint(lambda arrays: run.save_npz(CHECKPOINT, arrays), spec.train.checkpoint_every))
    if console is not None:
        callbacks.insert(0, CorpusProgress(console))
    return callbacks
