"""NeighbourLog: a row per probe word and rank after each epoch, nearest first."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from dnnexp.train.callbacks import NeighbourLog


class Rows(list):
    append = list.append


def test_each_probe_gets_its_nearest_words_ranked_without_itself():
    vectors = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [-1.0, 0.0]], np.float32)
    trainer = SimpleNamespace(data=SimpleNamespace(words=("a", "b", "c", "d")), model=SimpleNamespace(embeddings=vectors))
    rows = Rows()
    NeighbourLog(rows, probes=[0, 2], top=2).on_epoch_end(trainer, {"epoch": 3})
    assert [(r["word"], r["rank"], r["neighbour"]) for r in rows] == [("a", 1, "b"), ("a", 2, "c"), ("c", 1, "b"), ("c", 2, "a")]
    assert all(r["epoch"] == 3 for r in rows) and rows[0]["similarity"] > rows[1]["similarity"]
    assert list(rows[0]) == NeighbourLog.COLUMNS
