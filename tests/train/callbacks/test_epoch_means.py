"""EpochMeans: per-name means over an epoch's batches, across a resume."""

from __future__ import annotations

import numpy as np

from dnnexp.train import callbacks as cb


def test_epoch_means_average_a_resumed_epoch_over_all_its_batches():
    first = cb.EpochMeans()
    first.add_batch({"a": np.array([1.0, 2.0]), "b": np.array([4.0])})
    arrays = first.state_arrays()
    # The checkpoint keys old runs were saved with.
    assert sorted(arrays) == ["batches", "sums/a", "sums/b"]
    resumed = cb.EpochMeans()
    resumed.load_state_arrays(arrays)
    resumed.add_batch({"a": np.array([3.0, 6.0])})
    means = resumed.end_epoch()
    np.testing.assert_array_equal(means["a"], [2.0, 4.0])
    np.testing.assert_array_equal(means["b"], [2.0])  # missing from a batch: that batch counts as zero
    assert resumed.end_epoch() == {} and resumed.batches == 0
