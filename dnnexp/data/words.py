"""Corpora of words for word2vec (course Day 3 §6), their vocabulary, and each epoch's windows.

Corpora, each a list of sentences (windows never cross a sentence's end):

- `kjv`: the King James Bible from Debian's `bible-kjv` package, a verse a sentence (31,102
  verses, 789,684 words);
- `text`: any UTF-8 file, a sentence a line;
- `ptb`: the Penn Treebank text of deep-learning-from-scratch-2 (ptb.train.txt: 42,068 lines,
  887,521 words, the book's 929,589 with an `<eos>` closing each line; already lowercased, `<unk>`
  for rare words), downloaded on first use, its SHA-256 checked.

Words are runs of letters and digits (with inner apostrophes: "lord's"); `ptb` is already split
at spaces. The vocabulary keeps words seen at least `min_count` times, at most the `max_vocab`
most frequent, ids by falling frequency as gensim numbers them; words outside it are dropped
before windows are taken, as word2vec.c and gensim do.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from dnnexp.core.models.word2vec import Windows, window_offsets
from dnnexp.data.idx import find_files
from dnnexp.errors import DataNotFoundError, DnnexpError, SpecError

WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
#: the whole of the Bible, as the `bible` program of bible-kjv names it
KJV_RANGE = "Gen1:1-Rev22:21"
#: the exponent of word2vec's noise distribution: counts to the 3/4 draw rare words more often
NOISE_POWER = 0.75


@dataclass(frozen=True)
class WordCorpus:
    """A corpus as vocabulary ids.

    - `words` (V,): the vocabulary, id k being `words[k]`, most frequent first;
    - `counts` (V,): how often each occurs in the corpus;
    - `ids` (N,) int32: the corpus's words that are in the vocabulary, in order;
    - `sentence_starts` (S,): where each sentence begins in `ids` (empty ones left out);
    - `raw_words`: words read, in the vocabulary or not.
    """

    words: tuple[str, ...]
    counts: np.ndarray
    ids: np.ndarray
    sentence_starts: np.ndarray
    raw_words: int

    @property
    def vocab_size(self) -> int:
        return len(self.words)

    def index(self) -> dict[str, int]:
        """Word → id."""
        return {word: k for k, word in enumerate(self.words)}

    def noise_cdf(self) -> np.ndarray:
        """The cumulative noise distribution, counts^0.75 normalised (V,) float64."""
        weights = self.counts.astype(np.float64) ** NOISE_POWER
        cdf = np.cumsum(weights)
        return cdf / cdf[-1]

    def keep_probabilities(self, sample: float) -> np.ndarray:
        """Each word's chance to stay in an epoch's text (V,) float64: gensim's subsampling of frequent
        words, (√(c / t) + 1) · t / c for a word seen c times, t = sample × the corpus's words, at
        most 1; `sample` 0 keeps every word."""
        if not sample:
            return np.ones(self.vocab_size)
        threshold = sample * float(self.counts.sum())
        counts = self.counts.astype(np.float64)
        return np.minimum((np.sqrt(counts / threshold) + 1.0) * threshold / counts, 1.0)


# ---- reading corpora ------------------------------------------------------------------------


def kjv_sentences(verses: str | None = None) -> list[str]:
    """The King James Bible's verses from the `bible` program of Debian's bible-kjv package: all
    of them, or the range `verses` as the program reads it ("Gen1:1-Gen50:26": Genesis)."""
    program = shutil.which("bible")
    if program is None:
        raise DataNotFoundError(
            "data.name: kjv reads the King James Bible from Debian's bible-kjv package, which is not installed; "
            "install it (`sudo apt-get install bible-kjv`, or `make data` as root), or use data.name: text "
            "with a file of your own"
        )
    text = subprocess.run([program, verses or KJV_RANGE], capture_output=True, text=True, check=True).stdout
    # Chapters are headed by a line of their own ("Genesis 1"); each verse starts with its number,
    # indented, and wraps onto unindented lines.
    found = []
    for block in re.split(r"\n\s*\n", text):
        found += [" ".join(verse.split()) for verse in re.split(r"(?m)^\s+\d+\s", block)[1:]]
    if not found:
        raise SpecError(f"data.verses: the bible program finds no verses in '{verses}' ({text.strip()[:80]}); "
                        "write a range as it reads them, e.g. Gen1:1-Gen50:26")
    return found


def text_sentences(path: str | Path) -> list[str]:
    """The lines of a UTF-8 text file, one sentence each."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise DataNotFoundError(f"data.path: cannot read '{path}' ({error.strerror}); give the path of a UTF-8 text file") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise DnnexpError(
            f"data.path: '{path}' is not UTF-8 text (byte {error.start}, line {line}: {raw[error.start:error.start + 1]!r}); "
            "convert it first, e.g. `iconv -f latin1 -t utf-8`"
        ) from None
    return text.splitlines()


def ptb_sentences(folder: str | None = None) -> list[str]:
    """The training text of the Penn Treebank (ptb.train.txt), a sentence a line: from `folder`,
    $DNNEXP_DATA or the cache, else downloaded and checked against its SHA-256 (dnnexp.data.fetch)."""
    present = lambda place: [place / PTB_TRAIN] if (place / PTB_TRAIN).is_file() else None  # noqa: E731
    return text_sentences(find_files("ptb", folder, present, PTB_TRAIN)[0])


PTB_TRAIN = "ptb.train.txt"


#: corpus name → (its sentences, how they split into words); `text` takes the spec's `path`
CORPORA: dict[str, tuple[Callable[..., list[str]], Callable[[str], list[str]]]] = {
    "kjv": (kjv_sentences, WORD.findall),
    "text": (text_sentences, WORD.findall),
    "ptb": (ptb_sentences, str.split),
}


def tokenized(name: str, lowercase: bool, path: str | None = None, verses: str | None = None) -> list[list[str]]:
    """Corpus `name`'s sentences as lists of words; `path` is text's file, ptb's folder, `verses`
    the range of kjv."""
    read, split = CORPORA[name]
    sentences = read(verses) if name == "kjv" else read(path)
    # One string object per distinct word: 790,000 separate ones would hold about 40 MB more.
    return [[sys.intern(word) for word in split(line.lower() if lowercase else line)] for line in sentences]


def build_corpus(sentences: Iterable[list[str]], min_count: int = 5, max_vocab: int | None = None, source: str = "the corpus") -> WordCorpus:
    """Vocabulary and ids of tokenized sentences (see the module's docstring)."""
    sentences = [s for s in sentences if s]
    counts = Counter(word for sentence in sentences for word in sentence)
    raw_words = sum(counts.values())
    if not raw_words:
        raise DnnexpError(f"data: {source} holds no words; give a corpus with text in it")
    # Most frequent first; ties in the order words first appear (Counter keeps it, sorting is stable).
    kept = [(word, count) for word, count in counts.most_common() if count >= min_count][:max_vocab]
    if not kept:
        most = counts.most_common(1)[0][1]
        raise DnnexpError(
            f"data.min_count: no word of {source} occurs {min_count} times (the most frequent occurs {most}); "
            f"lower data.min_count to at most {most}"
        )
    words = tuple(word for word, _ in kept)
    index = {word: k for k, word in enumerate(words)}
    per_sentence = [[index[w] for w in sentence if w in index] for sentence in sentences]
    per_sentence = [s for s in per_sentence if s]
    lengths = np.array([len(s) for s in per_sentence], dtype=np.int64)
    ids = np.fromiter((k for s in per_sentence for k in s), dtype=np.int32, count=int(lengths.sum()))
    starts = np.r_[0, np.cumsum(lengths)[:-1]].astype(np.int64)
    return WordCorpus(words, np.array([c for _, c in kept], dtype=np.int64), ids, starts, raw_words)


# ---- an epoch's text: subsampled, windows shrunk --------------------------------------------


@dataclass
class EpochText:
    """One epoch's text: the corpus's words that survived subsampling, each with its window.

    `positions` (n,) where each kept word stands in `corpus.ids`, `ids` (n,) the words,
    `sentence` (n,) each one's sentence, `window` (n,) its shrunk window (1…window, drawn
    uniformly as word2vec.c does: near words count more). Windows are taken over the kept words,
    so subsampling widens them, as in word2vec.c and gensim.
    """

    positions: np.ndarray
    ids: np.ndarray
    sentence: np.ndarray
    window: np.ndarray

    @classmethod
    def draw(cls, corpus: WordCorpus, keep: np.ndarray, window: int, rng: np.random.Generator) -> EpochText:
        """Subsample with the keep probabilities `keep` (V,) and shrink windows, from `rng`."""
        kept = rng.random(len(corpus.ids)) < keep[corpus.ids]
        positions = np.flatnonzero(kept)
        sentence = np.searchsorted(corpus.sentence_starts, positions, side="right") - 1
        shrunk = window - rng.integers(0, window, size=len(positions))
        return cls(positions, corpus.ids[positions], sentence, shrunk)

    def windows(self, first: int, last: int, max_window: int) -> Windows:
        """The centre words first…last − 1 (indices into this epoch's text) with their windows;
        where the text ends, the stretch is padded with word 0, which no window includes."""
        w, n = max_window, len(self.ids)
        offsets = window_offsets(w)
        stretch = np.arange(first - w, last + w)
        inside = (stretch >= 0) & (stretch < n)
        clipped = np.clip(stretch, 0, max(n - 1, 0))
        ids = np.where(inside, self.ids[clipped], 0).astype(np.int64)
        sentence = np.where(inside, self.sentence[clipped], -1)
        context = np.arange(last - first)[:, None] + w + offsets  # index into the stretch
        centre = np.arange(first, last)
        valid = (
            (sentence[context] == self.sentence[centre, None])
            & (np.abs(offsets) <= self.window[centre, None])
        )
        return Windows(ids, valid)


def draw_negatives(cdf: np.ndarray, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Noise words (int32, `shape`) drawn from the noise distribution's cumulative `cdf` (V,)."""
    drawn = np.searchsorted(cdf, rng.random(shape), side="right")
    return np.minimum(drawn, len(cdf) - 1).astype(np.int32)  # a draw of exactly 1.0 stays in range


# ---- analogies --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Analogies:
    """Questions "a is to b as c is to d" of an analogy file, as vocabulary ids (q, 4), and how many
    the file held: questions with a word outside the vocabulary are left out, as gensim does."""

    questions: np.ndarray
    total: int


#: analogy files shipped with dnnexp, by the name `eval.analogies` may give instead of a path
SHIPPED_ANALOGIES = Path(__file__).resolve().parent / "analogies"


def analogy_file(name: str) -> Path:
    """`eval.analogies` as a path: a shipped file's name (kjv), else the path given."""
    shipped = SHIPPED_ANALOGIES / f"{name}.txt"
    return shipped if "/" not in name and shipped.is_file() else Path(name)


def read_analogies(path: str | Path, corpus: WordCorpus, lowercase: bool) -> Analogies:
    """An analogy file in Google's and gensim's format: `a b c d` a line, `: section` lines between."""
    index = corpus.index()
    questions, total = [], 0
    lines = text_sentences(path)
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith(":"):
            continue
        words = (line.lower() if lowercase else line).split()
        if len(words) != 4:
            raise SpecError(f"eval.analogies: {path}:{number}: '{line.strip()}' should be four words, a b c d")
        total += 1
        if all(w in index for w in words):
            questions.append([index[w] for w in words])
    return Analogies(np.array(questions, dtype=np.int64).reshape(-1, 4), total)
