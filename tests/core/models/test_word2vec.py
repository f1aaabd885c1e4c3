"""word2vec's model: every gradient against finite differences in float64, the fast windowed loss
against its pair-by-pair reference, and the sorted row sums against np.add.at."""

from __future__ import annotations

import numpy as np
import pytest

from dnnexp.core.gradcheck import numerical_gradient, relative_error
from dnnexp.core.models.word2vec import Windows, Word2Vec, pair_loss, row_sums, row_sums_reference

V, D, W, N, K, BLOCK = 7, 3, 2, 6, 3, 4
TOLERANCE = 1e-6
KINDS = [("skipgram", K), ("cbow", K), ("skipgram", 0), ("cbow", 0)]  # negative 0: the plain softmax


def windows(seed: int = 0) -> Windows:
    """N centres in a stretch of N + 2W words; some offsets outside the window, one centre without any."""
    rng = np.random.default_rng(seed)
    valid = rng.random((N, 2 * W)) < 0.6
    valid[2] = False  # a centre with no context (CBOW leaves it out; skip-gram has no pairs for it)
    negatives = rng.integers(0, V, size=(-(-N // BLOCK), K))
    return Windows(rng.integers(0, V, size=N + 2 * W), valid, negatives)


def model(kind: str, negative: int, seed: int = 0) -> Word2Vec:
    m = Word2Vec(V, D, kind, negative, BLOCK, np.random.default_rng(seed), dtype=np.float64)
    m.params["W_in"] *= 50  # word2vec.c's start is tiny (±0.5/d) and W_out zero: gradients of nothing
    m.params["W_out"][...] = np.random.default_rng(seed + 1).standard_normal((V, D))
    return m


def dense(grad: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    rows, values = grad
    assert len(np.unique(rows)) == len(rows), "sparse gradients come with unique rows"
    out = np.zeros((V, D))
    out[rows] = values
    return out


@pytest.mark.parametrize("kind, negative", KINDS)
def test_gradients_match_finite_differences_in_float64(kind, negative):
    m, ex = model(kind, negative), windows()
    m.forward(ex)
    analytic = {key: dense(grad) for key, grad in m.backward().items()}
    for key in ("W_in", "W_out"):
        numeric = numerical_gradient(lambda: m.forward(ex), m.params[key])
        assert relative_error(analytic[key], numeric) < TOLERANCE, key


@pytest.mark.parametrize("kind, negative", KINDS)
def test_the_windowed_loss_is_the_pair_by_pair_loss(kind, negative):
    m, ex = model(kind, negative), windows(1)
    assert m.forward(ex) == pytest.approx(pair_loss(m, ex), rel=1e-12)
    pairs = int(ex.valid.sum())
    assert m.examples(ex) == (pairs if kind == "skipgram" else int(np.count_nonzero(ex.valid.any(axis=1))))


def test_a_wrong_gradient_is_caught():
    m, ex = model("skipgram", K), windows()
    m.forward(ex)
    rows, values = m.backward()["W_out"]
    wrong = dense((rows, values * 1.1))
    assert relative_error(wrong, numerical_gradient(lambda: m.forward(ex), m.params["W_out"])) > 1e-2


def test_row_sums_equal_add_at_and_touch_only_used_rows():
    rng = np.random.default_rng(0)
    rows = rng.integers(0, 50, size=200)
    values = rng.standard_normal((200, 4)).astype(np.float32)
    unique, sums = row_sums(rows, values)
    reference = row_sums_reference(rows, values, 50)
    np.testing.assert_array_equal(unique, np.unique(rows))
    np.testing.assert_allclose(sums, reference[unique], rtol=1e-5, atol=1e-6)
    assert sums.dtype == np.float32


@pytest.mark.parametrize("dtype, d", [(np.float32, 4), (np.float64, 4), (np.float32, 3)])
def test_row_sums_of_paired_columns_are_the_plain_sums(dtype, d):
    rng = np.random.default_rng(1)
    rows, values = rng.integers(0, 9, size=60), rng.standard_normal((60, d)).astype(dtype)
    unique, sums = row_sums(rows, values)
    order = np.argsort(rows, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(rows[order]) != 0])
    # The same additions, grouped differently where NumPy sums pairwise: equal to rounding.
    np.testing.assert_allclose(sums, np.add.reduceat(values[order], starts, axis=0), rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-6 if dtype == np.float32 else 1e-14)
    assert sums.dtype == dtype and sums.shape == (len(unique), d)


def test_float32_in_float32_out():
    m = Word2Vec(V, D, "cbow", K, BLOCK, np.random.default_rng(0))
    ex = windows()
    assert isinstance(m.forward(ex), float)
    grads = m.backward()
    assert all(values.dtype == np.float32 for _, values in grads.values())
    assert m.params["W_in"].dtype == np.float32 and not m.params["W_out"].any()  # word2vec.c's start


def test_noise_words_equal_to_the_true_word_still_count_as_drawn():
    """Shared noise words are not skipped when one equals an example's true word (word2vec.c skips
    it): the reference defines the loss, and the gradient check holds either way."""
    m, ex = model("skipgram", K), windows()
    ex.negatives[:] = ex.ids[W]  # the first centre's own word everywhere
    assert m.forward(ex) == pytest.approx(pair_loss(m, ex), rel=1e-12)


@pytest.mark.parametrize("kind, negative", KINDS)
def test_a_step_without_centre_words_has_no_loss_and_no_gradient(kind, negative):
    """Subsampling can empty a step's stretch of text: nothing to learn, nothing to break."""
    m = model(kind, negative)
    empty = Windows(np.zeros(2 * W, np.int64), np.zeros((0, 2 * W), bool), np.zeros((0, K), np.int64))
    assert m.forward(empty) == 0.0 and m.examples(empty) == 0
    assert all(not values.any() for _, values in m.backward().values())
