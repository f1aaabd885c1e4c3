"""NeighbourLog: each probe word's nearest neighbours after every epoch (neighbours.csv), how a
word2vec run's vectors take shape."""

from __future__ import annotations

from dnnexp.core.embeddings import nearest, unit_rows
from dnnexp.train.callbacks.base import Callback, RowLog


class NeighbourLog(Callback):
    """Writes, as each epoch ends, the `top` words nearest each of `probes` (vocabulary ids) by the
    cosine similarity of the model's word vectors, a row each; the trainer's data is a WordCorpus."""

    COLUMNS = ["epoch", "word", "rank", "neighbour", "similarity"]

    def __init__(self, log: RowLog, probes: list[int], top: int):
        self.log, self.probes, self.top = log, probes, top

    def on_epoch_end(self, trainer, logs):
        words, unit = trainer.data.words, unit_rows(trainer.model.embeddings)
        for probe in self.probes:
            ids, similarity = nearest(unit, unit[probe], self.top, exclude=[probe])
            for rank, (k, s) in enumerate(zip(ids, similarity), 1):
                row = {"epoch": int(logs["epoch"]), "word": words[probe], "rank": rank, "neighbour": words[k]}
                self.log.append({**row, "similarity": round(float(s), 6)})
