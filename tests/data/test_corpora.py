"""Text corpora for sequence-to-sequence models: vocabularies, encodings, and what each sample says."""

from __future__ import annotations

import datetime
from collections import defaultdict

import numpy as np
import pytest

from dnnexp.data.corpora import DATE_FORMATS
from dnnexp.data.text import END, PAD, START, decode, encode
from dnnexp.spec.registry import DATASETS


def make(name: str, seed: int = 0, **args):
    return DATASETS.get(name)(**args, rng=np.random.default_rng(seed))


def test_addition_is_the_textbooks_13_character_task():
    data = make("addition", n=500, n_test=100)
    assert len(data.classes) == 13 and data.classes[:2] == [PAD, START]
    assert data.x_train.shape == (500, 7) and data.t_train.shape == (500, 5) and data.x_test.shape == (100, 7)
    assert (data.t_train[:, 0] == data.classes.index(START)).all()
    for question, answer in zip(decode(data.x_train, data.classes), decode(data.t_train, data.classes)):
        a, b = map(int, question.split("+"))
        assert int(answer) == a + b


def test_dates_map_every_format_to_iso():
    data = make("dates", n=400, n_test=0)
    assert data.x_test is None
    questions, answers = decode(data.x_train, data.classes), decode(data.t_train, data.classes)
    for question, answer in zip(questions, answers):
        day = datetime.date.fromisoformat(answer)
        assert question in {day.strftime(f) for f in DATE_FORMATS} | {day.strftime(f).lower() for f in DATE_FORMATS}
    assert len({len(q) for q in questions}) > 3  # the inputs really vary in form


def test_dialogue_contexts_have_several_replies():
    data = make("dialogue", context=2, n=600, n_test=60)
    assert data.x_train.ndim == 3 and data.x_train.shape[:2] == (600, 2)
    replies = defaultdict(set)
    for context, reply in zip(data.x_train, data.t_train):
        replies[tuple(decode(context, data.classes, " "))].add(decode(reply, data.classes, " ")[0])
    assert max(len(r) for r in replies.values()) >= 3
    assert END in data.classes and (data.t_train == data.classes.index(END)).any(axis=1).all()


@pytest.mark.parametrize("name", ["addition", "dates", "dialogue"])
def test_corpora_are_fixed_by_the_seed(name):
    args = {"n": 50, "n_test": 10}
    first, again, other = make(name, 0, **args), make(name, 0, **args), make(name, 1, **args)
    assert np.array_equal(first.x_train, again.x_train) and np.array_equal(first.t_train, again.t_train)
    assert not np.array_equal(first.x_train, other.x_train)


def test_encode_and_decode_round_trip():
    vocab = [PAD, START, "a", "b", END]
    ids = encode([["a", "b"], [START, "b", END, "a"]], vocab, 5)
    assert ids.tolist() == [[2, 3, 0, 0, 0], [1, 3, 4, 2, 0]]
    assert decode(ids, vocab) == ["ab", "b"]
