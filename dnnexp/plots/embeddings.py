"""Word vectors drawn flat: the first two principal components of chosen words' vectors, each
point labelled with its word (course Day 3 §6: words used alike lie close)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from dnnexp.core.embeddings import pca_2d, unit_rows
from dnnexp.plots import new_figure, save_figure
from dnnexp.runs.rundir import RunDir

#: words drawn when none are chosen: the most frequent ones
DEFAULT_WORDS = 60


def plot_embeddings(run: RunDir, words: Sequence[str], vectors: np.ndarray, out: Path) -> Path:
    """The vectors (n, d) of `words` (n,) after scaling each to length 1 (cosine similarity is what
    the neighbours use), projected on their two first principal components."""
    points = pca_2d(unit_rows(np.asarray(vectors, dtype=np.float64)))
    fig, axes = new_figure(1, 1, (7.0, 6.0))
    ax = axes[0, 0]
    ax.scatter(points[:, 0], points[:, 1], s=10, color="tab:blue")
    for word, (x, y) in zip(words, points):
        ax.annotate(word, (x, y), xytext=(3, 2), textcoords="offset points", fontsize="small")
    ax.set_xlabel("first principal component")
    ax.set_ylabel("second principal component")
    ax.set_title(f"{run.path.name}: {len(words)} word vectors (unit length), PCA", fontsize="medium")
    return save_figure(fig, out)
