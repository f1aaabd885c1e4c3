"""Word vectors' questions: nearest neighbours by cosine, 3CosAdd analogies, the 2-D projection."""

from __future__ import annotations

import numpy as np
import pytest

from dnnexp.core.embeddings import analogy_accuracy, analogy_answers, nearest, pca_2d, unit_rows

#: man, woman, king, queen, apple: king − man + woman lands on queen
WORDS = np.array([[1.0, 0.0, 0.1], [0.0, 1.0, 0.1], [1.0, 0.0, 1.0], [0.0, 1.0, 1.0], [-1.0, -1.0, 0.0]], np.float32)


def test_unit_rows_have_length_one_and_zero_rows_stay_zero():
    unit = unit_rows(np.vstack([WORDS, np.zeros((1, 3), np.float32)]))
    np.testing.assert_allclose(np.linalg.norm(unit[:-1], axis=1), 1.0, rtol=1e-6)
    assert not unit[-1].any() and unit.dtype == np.float32


def test_nearest_ranks_by_cosine_and_leaves_out_what_is_asked():
    unit = unit_rows(WORDS)
    ids, similarity = nearest(unit, unit[2], top=2, exclude=[2])
    assert list(ids) == [0, 3] and similarity[0] > similarity[1]
    assert similarity[0] == pytest.approx(float(unit[0] @ unit[2]), rel=1e-6)
    assert len(nearest(unit, unit[0], top=10, exclude=[0])[0]) == 4  # no more than there are


def test_analogies_are_3cosadd_without_the_question_words():
    unit = unit_rows(WORDS)
    questions = np.array([[0, 2, 1, 3], [1, 3, 0, 2], [0, 1, 2, 4]])  # the last one is wrong on purpose
    np.testing.assert_array_equal(analogy_answers(unit, questions), [3, 2, 3])
    assert analogy_accuracy(unit, questions) == 2 / 3
    assert np.isnan(analogy_accuracy(unit, np.zeros((0, 4), np.int64)))


def test_pca_keeps_the_widest_spread_first():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 4)) * [5.0, 2.0, 0.1, 0.1]
    projected = pca_2d(X)
    assert projected.shape == (50, 2)
    assert projected[:, 0].var() > projected[:, 1].var() > 0.5 * X[:, 1].var()
