"""Trials on a Dask cluster: a worker killed mid-trial, the trial retried, nothing lost or duplicated."""

from __future__ import annotations

import os
import signal
import threading
import time

import pandas as pd
import pytest

from dnnexp.runs.rundir import RunDir
from dnnexp.tasks import sweep as sweeps
from tests.tasks.conftest import without_times
from tests.tasks.sweep.conftest import sweep_folders, trial_folders
from tests.tasks.sweep.test_execute import SLOW

distributed = pytest.importorskip("distributed")


def kill_the_worker_of_a_checkpointed_trial(cluster, runs_dir, killed: list) -> None:
    """Wait for a trial that has written a checkpoint and is still running, then SIGKILL its worker."""
    with distributed.Client(cluster, set_as_default=False) as client:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            for folder in runs_dir.glob("*/*/checkpoint.npz"):
                key = f"trial-{folder.parent.parent.name}-{int(folder.parent.name.split('-')[0])}"
                running = {address for address, keys in client.processing().items() if key in keys}
                if running and not (folder.parent / "summary.json").exists():
                    address = running.pop()
                    pid = client.run(os.getpid, workers=[address])[address]
                    os.kill(pid, signal.SIGKILL)
                    killed.append(folder.parent.name)
                    return
            time.sleep(0.02)


def test_a_trial_whose_worker_dies_is_retried_in_its_one_folder_and_ends_as_if_never_cut(write_sweep, tmp_path):
    path = write_sweep(spec_changes=SLOW, seeds=[0, 1, 2, 3])
    sweep, document = sweeps.load_sweep(path)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        killed: list[str] = []
        killer = threading.Thread(target=kill_the_worker_of_a_checkpointed_trial, args=(cluster, tmp_path / "dask", killed))
        killer.start()
        prepared = sweeps.plan(sweep, document, path.parent)
        prepared.scheduler = cluster
        _, outcome = sweeps.start(prepared, tmp_path / "dask", None)
        killer.join()
    assert killed, "no trial was caught mid-run"
    assert outcome.status == "completed", outcome.message
    (folder,) = sweep_folders(tmp_path / "dask")
    trials = trial_folders(folder)
    assert [t.name for t in trials] == [trial.folder for trial in prepared.trials]  # one folder a trial, none extra
    cut = RunDir(folder / killed[0])
    assert cut.summary()["status"] == "completed"
    assert cut.summary()["resumes"] == 1  # continued from its checkpoint, not begun anew

    prepared.scheduler, prepared.workers = None, 2
    sweeps.start(prepared, tmp_path / "local", None)
    (local,) = sweep_folders(tmp_path / "local")
    for dask_trial, local_trial in zip(trials, trial_folders(local)):
        pd.testing.assert_frame_equal(without_times(RunDir(dask_trial).metrics()), without_times(RunDir(local_trial).metrics()))
