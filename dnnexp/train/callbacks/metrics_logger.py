"""MetricsLogger: the epoch rows of metrics.csv."""

from __future__ import annotations

from dnnexp.train.callbacks.base import Callback, RowLog


class MetricsLogger(Callback):
    """Writes one row per epoch to a log (metrics.csv)."""

    def __init__(self, log: RowLog):
        self.log = log

    def on_epoch_end(self, trainer, logs):
        self.log.append(logs)
