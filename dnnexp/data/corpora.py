"""Small text corpora for sequence-to-sequence models, generated from the run's random stream.

Texts become token ids through a vocabulary built from the corpus itself (`Dataset.classes` holds
it: id k is `classes[k]`). Targets start with the start token, so a decoder trained with teacher
forcing reads `t[:, :-1]` and learns to predict `t[:, 1:]`; index 0 is always the padding token.

- `addition`: "16+75" → "91", character by character (the 13-character vocabulary of the
  textbook's addition.txt: digits, '+', ' ' for padding, '_' to start an answer).
- `dates`: dates written in many human ways → "1994-09-27", character by character.
- `dialogue`: multi-turn conversations from templates, word by word, for HRED/VHRED: each sample
  is the previous `context` utterances and the reply that follows; every context has several
  possible replies, so the diversity of what a model says can be measured.
"""

from __future__ import annotations

import datetime
from typing import Sequence

import numpy as np

from dnnexp.core.models.base import Vocabulary
from dnnexp.data.base import Dataset, registered
from dnnexp.data.memory import require
from dnnexp.data.text import END, PAD, START, encode
from dnnexp.errors import SpecError

def _split(x: np.ndarray, t: np.ndarray, n: int, vocab: list[str], joiner: str) -> Dataset:
    """The first n samples for training, the rest for testing; tokens written as text joined by `joiner`."""
    test = (x[n:], t[n:]) if len(x) > n else (None, None)
    end = vocab.index(END) if END in vocab else None
    vocabulary = Vocabulary(tuple(vocab), vocab.index(PAD), vocab.index(START), end, joiner)
    return Dataset(x[:n], t[:n], *test, task="multiclass", classes=vocab, vocabulary=vocabulary)


#: the most memory generating one sample takes (Python strings and lists before the id arrays),
#: measured with tracemalloc for 4,000 samples: 554, 585 and 1,545 bytes
PEAK_BYTES = {"addition": 600, "dates": 600, "dialogue": 1600}


def _check_sizes(corpus: str, n: int, n_test: int) -> None:
    if n < 1 or n_test < 0:
        raise SpecError(f"data.n must be at least 1 and data.n_test at least 0, not {n} and {n_test}")
    require((n + n_test) * PEAK_BYTES[corpus], f"data.n: {n} + data.n_test: {n_test} samples of {corpus}", "lower them")


def _char_corpus(questions: list[str], answers: list[str], n: int, fixed: str = "") -> Dataset:
    """Character-level pairs: the vocabulary is padding, start, `fixed`, then every other character seen."""
    seen = sorted(set("".join(questions + answers)) - set(PAD + START + fixed))
    vocab = [PAD, START, *fixed, *seen]
    x = encode(questions, vocab, max(map(len, questions)))
    t = encode([START + a for a in answers], vocab, 1 + max(map(len, answers)))
    return _split(x, t, n, vocab, joiner="")


@registered("addition")
def addition(digits: int = 3, n: int = 45000, n_test: int = 5000, *, rng: np.random.Generator) -> Dataset:
    """Sums as text, "16+75" → "91", up to `digits`-digit numbers: character ids (N, 2·digits+1) → (N, digits+2)."""
    _check_sizes("addition", n, n_test)
    a, b = rng.integers(0, 10**digits, (2, n + n_test))
    questions = [f"{p}+{q}" for p, q in zip(a.tolist(), b.tolist())]
    answers = [str(s) for s in (a + b).tolist()]
    return _char_corpus(questions, answers, n, fixed="0123456789+")


DATE_FORMATS = (
    "%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%A, %B %d, %Y", "%Y/%m/%d", "%d.%m.%Y",
    "%B %d %Y", "%d %B, %Y", "%a %d %b %Y",
)


@registered("dates")
def dates(n: int = 20000, n_test: int = 2000, *, rng: np.random.Generator) -> Dataset:
    """Human-written dates ("Tuesday, September 27, 1994", "27.09.1994", …) → "1994-09-27", as characters."""
    _check_sizes("dates", n, n_test)
    first = datetime.date(1950, 1, 1).toordinal()
    days = rng.integers(first, datetime.date(2030, 12, 31).toordinal() + 1, n + n_test)
    styles = rng.integers(0, len(DATE_FORMATS), n + n_test)
    lower = rng.random(n + n_test) < 0.3  # people type month names in lower case too
    when = [datetime.date.fromordinal(d) for d in days.tolist()]
    questions = [
        (text.lower() if low else text)
        for text, low in zip((w.strftime(DATE_FORMATS[s]) for w, s in zip(when, styles.tolist())), lower.tolist())
    ]
    return _char_corpus(questions, [w.isoformat() for w in when], n)


# Each dialogue: a greeting, a reply, a question on a topic, an answer, a follow-up, a closing reply.
# Every turn after the first has several templates, so one context has several good replies.
GREETINGS = ("hello", "hi there", "good morning", "hey")
GREETING_REPLIES = ("hi , how are you ?", "hello , nice to see you", "good morning to you", "hey , what is up ?")
TOPICS = {
    "weather": (
        ("how is the weather today ?", "what is the weather like ?"),
        ("it is sunny and warm", "it is raining again", "cold and windy all day", "cloudy but dry"),
        ("should we go outside ?", "do you need an umbrella ?"),
        ("yes , let us go for a walk", "no , i will stay in", "maybe later this afternoon", "only if it clears up"),
    ),
    "food": (
        ("what did you have for lunch ?", "are you hungry ?"),
        ("i had a bowl of noodles", "just a sandwich", "rice and fish", "nothing yet , i am starving"),
        ("do you want to cook tonight ?", "shall we order pizza ?"),
        ("sure , i will make curry", "pizza sounds great", "let us go out instead", "i am not hungry tonight"),
    ),
    "travel": (
        ("where are you going this summer ?", "any plans for the holidays ?"),
        ("i am going to the sea", "we will visit the mountains", "a trip to the city", "i will stay at home"),
        ("how will you get there ?", "who is going with you ?"),
        ("by train , it is faster", "my family is coming", "i will drive", "alone this time"),
    ),
    "work": (
        ("how was work today ?", "are you busy this week ?"),
        ("very busy , many meetings", "quiet and relaxed", "i finished a big project", "my computer broke"),
        ("do you need any help ?", "will you work late ?"),
        ("no thanks , i am fine", "yes , until nine", "maybe tomorrow", "i could use some help"),
    ),
}


@registered("dialogue")
def dialogue(context: int = 2, n: int = 8000, n_test: int = 800, *, rng: np.random.Generator) -> Dataset:
    """Template conversations, word ids: x (N, context, words) the previous utterances, t (N, words) the reply."""
    _check_sizes("dialogue", n, n_test)
    if not 1 <= context <= 5:
        raise SpecError(f"data.context: {context} utterances of context; use 1 to 5 (dialogues have 6 turns)")
    topics = list(TOPICS)
    contexts, replies = [], []
    while len(replies) < n + n_test:
        question, answer, follow_up, closing = TOPICS[topics[rng.integers(len(topics))]]
        turns = [
            _pick(rng, options) for options in (GREETINGS, GREETING_REPLIES, question, answer, follow_up, closing)
        ]
        for k in range(context, len(turns)):
            contexts.append([turns[j].split() for j in range(k - context, k)])
            replies.append(turns[k].split())
    contexts, replies = contexts[: n + n_test], replies[: n + n_test]
    words = sorted({w for turn in contexts for u in turn for w in u} | {w for r in replies for w in r})
    vocab = [PAD, START, END, *words]
    length = max(len(u) for turn in contexts for u in turn)
    x = encode([u for turn in contexts for u in turn], vocab, length).reshape(len(contexts), context, length)
    t = encode([[START, *r, END] for r in replies], vocab, max(map(len, replies)) + 2)
    return _split(x, t, n, vocab, joiner=" ")


def _pick(rng: np.random.Generator, options: Sequence[str]) -> str:
    return options[rng.integers(len(options))]
