"""EpochMeans: per-layer values averaged over an epoch's batches, kept across a resume."""

from __future__ import annotations

import numpy as np

from dnnexp.train.arrays import split_arrays


class EpochMeans:
    """Per-name means of arrays over an epoch's batches, for callbacks that log one row per epoch.

    The sums so far are part of a checkpoint (`sums/<name>`, `batches`): a run resumed mid-epoch
    then averages that epoch over all its batches.
    """

    def __init__(self):
        self.sums: dict[str, np.ndarray] = {}  # by name, over the current epoch's batches so far
        self.batches = 0

    def add_batch(self, values: dict[str, np.ndarray]) -> None:
        """One batch's values, by name; a name missing from a batch counts as zero there."""
        for name, value in values.items():
            self.sums[name] = self.sums.get(name, 0) + value
        self.batches += 1

    def end_epoch(self) -> dict[str, np.ndarray]:
        """The epoch's means, by name; the sums start afresh for the next epoch."""
        means = {name: total / self.batches for name, total in self.sums.items()}
        self.sums, self.batches = {}, 0
        return means

    def state_arrays(self) -> dict[str, np.ndarray]:
        return {**{f"sums/{name}": total for name, total in self.sums.items()}, "batches": np.array(self.batches)}

    def load_state_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self.sums = split_arrays(arrays, "sums")
        self.batches = int(arrays["batches"])
