"""What a matrix of word vectors answers (course Day 3 §6): nearest neighbours by cosine
similarity, analogies by vector arithmetic (king − man + woman ≈ queen), and a 2-D picture.

Vectors are compared by direction only: `unit_rows` scales each to length 1, after which a dot
product is the cosine similarity.
"""

from __future__ import annotations

import numpy as np

#: questions answered per matrix product: a (V, chunk) block of scores at a time
ANALOGY_CHUNK = 512


def unit_rows(W: np.ndarray) -> np.ndarray:
    """Each row of W (V, d) scaled to length 1 (a row of zeros stays zero)."""
    norms = np.linalg.norm(W, axis=1, keepdims=True)
    return W / np.maximum(norms, np.finfo(W.dtype).tiny)


def nearest(unit: np.ndarray, query: np.ndarray, top: int, exclude: np.ndarray | list[int] = ()) -> tuple[np.ndarray, np.ndarray]:
    """The `top` rows of `unit` (V, d) most similar to `query` (d,), rows `exclude` left out:
    (ids (top,), cosine similarities (top,)), most similar first."""
    scores = unit @ (query / max(float(np.linalg.norm(query)), np.finfo(unit.dtype).tiny))
    scores[np.asarray(exclude, dtype=np.int64)] = -np.inf
    top = min(top, len(scores) - len(exclude))
    best = np.argpartition(-scores, top - 1)[:top] if top > 0 else np.array([], dtype=np.int64)
    best = best[np.argsort(-scores[best], kind="stable")]
    return best, scores[best]


def analogy_answers(unit: np.ndarray, questions: np.ndarray) -> np.ndarray:
    """3CosAdd, as word2vec's compute-accuracy and gensim do: for each question (a, b, c, ·) of
    `questions` (q, ≥3) the word most similar to b − a + c, a, b and c left out (q,)."""
    answers = np.empty(len(questions), dtype=np.int64)
    for start in range(0, len(questions), ANALOGY_CHUNK):
        a, b, c = questions[start : start + ANALOGY_CHUNK, :3].T
        scores = unit @ (unit[b] - unit[a] + unit[c]).T  # (V, chunk)
        columns = np.arange(len(a))
        for asked in (a, b, c):
            scores[asked, columns] = -np.inf
        answers[start : start + len(a)] = scores.argmax(axis=0)
    return answers


def analogy_accuracy(unit: np.ndarray, questions: np.ndarray) -> float:
    """The share of questions (q, 4) whose fourth word is the 3CosAdd answer; NaN without questions."""
    if not len(questions):
        return float("nan")
    return float(np.mean(analogy_answers(unit, questions) == questions[:, 3]))


def pca_2d(X: np.ndarray) -> np.ndarray:
    """X (n, d) projected on its two first principal components (n, 2), through the SVD of the
    centred rows."""
    centred = X - X.mean(axis=0)
    _, _, Vt = np.linalg.svd(centred, full_matrices=False)
    return centred @ Vt[:2].T
