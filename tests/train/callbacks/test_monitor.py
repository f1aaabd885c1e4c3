"""MonitorCallback: the best value of a logged metric and the epochs since it."""

from __future__ import annotations

import pytest

from dnnexp.train import callbacks as cb

MONITORED = {
    "a loss improves downwards": ("val_loss", 0.0, [1.0, 0.5, 0.5, 0.7, 0.2], [0, 0, 1, 2, 0]),
    "other metrics upwards": ("val_acc", 0.0, [0.5, 0.7, 0.7, 0.6, 0.9], [0, 0, 1, 2, 0]),
    "only by more than min_delta": ("val_loss", 0.1, [1.0, 0.95, 0.85, 0.8, 0.7], [0, 1, 0, 1, 0]),
}


@pytest.mark.parametrize("case", MONITORED, ids=list(MONITORED))
def test_monitor_base_counts_the_epochs_since_the_best_value(case):
    monitor, min_delta, values, waits = MONITORED[case]
    tracker = cb.MonitorCallback(monitor, min_delta)
    seen = [(tracker.improved({"epoch": epoch, monitor: value}), tracker.wait) for epoch, value in enumerate(values)]
    assert seen == [(wait == 0, wait) for wait in waits]


def test_monitor_base_state_carries_over_and_names_what_is_logged():
    first = cb.MonitorCallback("val_loss", 0.0)
    for value in (0.5, 0.6, 0.7):
        first.improved({"val_loss": value})
    resumed = cb.MonitorCallback("val_loss", 0.0)
    resumed.load_state_arrays(first.state_arrays())
    assert (resumed.best, resumed.wait) == (0.5, 2)
    assert not resumed.improved({"val_loss": 0.5}) and resumed.improved({"val_loss": 0.4})
    with pytest.raises(KeyError, match="'val_loss' is not logged; logged metrics: epoch, train_loss"):
        resumed.improved({"train_loss": 0.1, "epoch": 1})
