"""Corpora of words for word2vec: reading, the vocabulary, subsampling, each epoch's windows, noise
words, analogy files, and the Penn Treebank download (from a local mirror the test serves)."""

from __future__ import annotations

import hashlib
import shutil
from collections import Counter

import numpy as np
import pytest

from dnnexp.data.fetch import SHA256
from dnnexp.data.words import (
    EpochText,
    build_corpus,
    draw_negatives,
    kjv_sentences,
    read_analogies,
    tokenized,
)
from dnnexp.errors import DnnexpError, SpecError
from tests.data.test_fetch import Server

SENTENCES = [["the", "cat", "sat"], ["the", "dog", "sat", "down"], [], ["a", "cat", "and", "the", "dog"]]


def test_vocabulary_is_by_falling_count_ties_by_first_appearance_and_rare_words_are_dropped():
    corpus = build_corpus(SENTENCES, min_count=2)
    assert corpus.words == ("the", "cat", "sat", "dog")
    np.testing.assert_array_equal(corpus.counts, [3, 2, 2, 2])
    assert corpus.raw_words == 12
    # Out-of-vocabulary words leave the text before windows are taken; empty sentences go too.
    np.testing.assert_array_equal(corpus.ids, [0, 1, 2, 0, 3, 2, 1, 0, 3])
    np.testing.assert_array_equal(corpus.sentence_starts, [0, 3, 6])
    assert build_corpus(SENTENCES, min_count=1, max_vocab=2).words == ("the", "cat")


def test_a_corpus_without_words_or_without_frequent_ones_is_refused():
    with pytest.raises(DnnexpError, match="no words"):
        build_corpus([[], []], source="data.path 'x'")
    with pytest.raises(DnnexpError, match=r"data.min_count: no word .* occurs 9 times \(the most frequent occurs 3\)"):
        build_corpus(SENTENCES, min_count=9)


def test_text_files_must_be_utf8(tmp_path):
    good = tmp_path / "good.txt"
    good.write_text("Héllo, world! Lord's day.\nSecond line_here\n", encoding="utf-8")
    assert tokenized("text", True, str(good)) == [["héllo", "world", "lord's", "day"], ["second", "line", "here"]]
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"first line\nsecond \xff line\n")
    with pytest.raises(DnnexpError, match=r"not UTF-8 text \(byte 18, line 2"):
        tokenized("text", True, str(bad))
    with pytest.raises(DnnexpError, match="cannot read"):
        tokenized("text", True, str(tmp_path / "missing.txt"))


def test_keep_probabilities_are_gensims():
    corpus = build_corpus([["a"] * 900 + ["b"] * 90 + ["c"] * 10], min_count=1)
    threshold = 1e-2 * 1000
    expected = [min(1.0, (np.sqrt(c / threshold) + 1) * threshold / c) for c in (900, 90, 10)]
    np.testing.assert_allclose(corpus.keep_probabilities(1e-2), expected)
    np.testing.assert_array_equal(corpus.keep_probabilities(0.0), 1.0)


def test_windows_stay_in_their_sentence_and_their_shrunk_window():
    rng = np.random.default_rng(0)
    sentences = [list(rng.choice(list("abcdefgh"), size=rng.integers(1, 12))) for _ in range(40)]
    corpus = build_corpus(sentences, min_count=1)
    keep = np.full(corpus.vocab_size, 0.7)
    text = EpochText.draw(corpus, keep, 3, np.random.default_rng(1))
    assert len(text.ids) < len(corpus.ids) and set(text.window) <= {1, 2, 3}
    windows = text.windows(5, 25, 3)
    centres, contexts = windows.pairs()
    # By brute force: every pair within a sentence and the centre's window over the kept words.
    expected = []
    for i in range(5, 25):
        for j in range(len(text.ids)):
            if j != i and abs(j - i) <= text.window[i] and text.sentence[j] == text.sentence[i]:
                expected.append((i - 5, text.ids[j]))
    assert sorted(zip(centres.tolist(), contexts.tolist())) == sorted(expected)
    np.testing.assert_array_equal(windows.centres, text.ids[5:25])


def test_an_epochs_text_depends_on_its_stream_alone():
    corpus = build_corpus(SENTENCES * 20, min_count=1)
    keep = corpus.keep_probabilities(0.05)
    one, two = (EpochText.draw(corpus, keep, 2, np.random.default_rng([0, 3])) for _ in range(2))
    np.testing.assert_array_equal(one.positions, two.positions)
    np.testing.assert_array_equal(one.window, two.window)


def test_noise_words_follow_counts_to_the_three_quarters():
    corpus = build_corpus([["a"] * 810 + ["b"] * 160 + ["c"] * 10], min_count=1)
    drawn = draw_negatives(corpus.noise_cdf(), (200_000,), np.random.default_rng(0))
    weights = np.array([810, 160, 10]) ** 0.75
    np.testing.assert_allclose(np.bincount(drawn, minlength=3) / len(drawn), weights / weights.sum(), atol=0.005)
    assert drawn.dtype == np.int32 and drawn.max() < 3


def test_analogy_files_skip_sections_and_questions_outside_the_vocabulary(tmp_path):
    corpus = build_corpus(SENTENCES, min_count=1)
    path = tmp_path / "questions.txt"
    path.write_text(": animals\nthe cat the dog\nThe Cat A Dog\n\ncat sat zebra dog\n")
    analogies = read_analogies(path, corpus, lowercase=True)
    index = corpus.index()
    assert analogies.total == 3
    assert analogies.questions.tolist() == [[index[w] for w in "the cat the dog".split()], [index[w] for w in "the cat a dog".split()]]
    path.write_text("the cat dog\n")
    with pytest.raises(SpecError, match=r"questions.txt:1: 'the cat dog' should be four words"):
        read_analogies(path, corpus, lowercase=True)


@pytest.mark.skipif(shutil.which("bible") is None, reason="Debian's bible-kjv is not installed")
def test_kjv_verses_come_without_chapter_headings_or_verse_numbers():
    verses = kjv_sentences("Gen1:1-Gen1:3")
    assert len(verses) == 3
    assert verses[0] == "In the beginning God created the heaven and the earth."
    assert verses[1].startswith("And the earth was without form") and verses[1].endswith("face of the waters.")
    with pytest.raises(SpecError, match="data.verses: the bible program finds no verses in 'Xyz1:1'"):
        kjv_sentences("Xyz1:1")


def test_kjv_without_the_bible_program_says_how_to_get_it(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(DnnexpError, match="apt-get install bible-kjv"):
        kjv_sentences()


def test_ptb_is_downloaded_once_checked_and_split_at_spaces(tmp_path, monkeypatch):
    served = tmp_path / "served" / "ptb"
    served.mkdir(parents=True)
    texts = {"ptb.train.txt": " no it was n't black monday \n the <unk> fell N points \n", "ptb.valid.txt": " a b \n", "ptb.test.txt": " c d \n"}
    for name, text in texts.items():
        (served / name).write_text(text)
    monkeypatch.setitem(SHA256, "ptb", {name: hashlib.sha256(text.encode()).hexdigest() for name, text in texts.items()})
    server = Server(tmp_path / "served")
    monkeypatch.setenv("DNNEXP_MIRROR", server.url)
    try:
        sentences = tokenized("ptb", lowercase=True)
        assert sentences == [["no", "it", "was", "n't", "black", "monday"], ["the", "<unk>", "fell", "n", "points"]]
        assert tokenized("ptb", lowercase=False)[1] == ["the", "<unk>", "fell", "N", "points"]
        assert Counter(server.requests)["/ptb/ptb.train.txt"] == 1  # the second read finds the cached file
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()


def test_a_ptb_file_that_is_not_the_published_one_is_refused(tmp_path, monkeypatch):
    served = tmp_path / "served" / "ptb"
    served.mkdir(parents=True)
    for name in SHA256["ptb"]:
        (served / name).write_text("not the treebank\n")
    server = Server(tmp_path / "served")
    monkeypatch.setenv("DNNEXP_MIRROR", server.url)
    try:
        with pytest.raises(DnnexpError, match="ptb.train.txt"):
            tokenized("ptb", lowercase=True)
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()
