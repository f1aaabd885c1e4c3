"""train/threads.py: the lane count follows the cores other work leaves free (readings injected),
DNNEXP_THREADS overrides it, and BLAS stays on one thread."""

from __future__ import annotations

import time

import pytest
from threadpoolctl import threadpool_info

from dnnexp.core import parallel
from dnnexp.train import threads
from dnnexp.errors import DnnexpError
from dnnexp.train.threads import LoadReading, LoadWatcher, blas_threads, decide_threads


@pytest.mark.parametrize(
    "usable, free, lanes",
    [(2, 2.0, 2), (2, 1.8, 2), (2, 1.75, 2), (2, 1.7, 1), (2, 1.0, 1), (2, 0.2, 1), (2, None, 1), (1, 1.0, 1), (8, 3.6, 3)],
)
def test_lanes_are_the_cores_left_free(usable, free, lanes):
    assert decide_threads(usable, free) == lanes


def reading(core0: tuple[int, int], core1: tuple[int, int], own_s: float, at: float) -> LoadReading:
    return LoadReading({0: core0, 1: core1}, own_s, at)


def test_this_process_own_work_is_not_counted_as_other_work():
    start = reading((0, 0), (0, 0), 0.0, 0.0)
    # this process kept core 0 busy for the second; core 1 was busy a tenth of it
    assert reading((100, 100), (10, 100), 1.0, 1.0).free_since(start, 2) == pytest.approx(1.9)
    # another process held core 1 the whole time
    assert reading((100, 100), (100, 100), 1.0, 1.0).free_since(start, 2) == pytest.approx(1.0)
    assert LoadReading(None, 1.0, 1.0).free_since(start, 2) is None


def test_the_watcher_follows_the_load(monkeypatch):
    # idle but for this process, then another process takes the second core, then leaves it
    readings = iter([reading((0, 0), (0, 0), 0.0, 0.0), reading((100, 100), (0, 100), 1.0, 1.0),
                     reading((200, 200), (100, 200), 2.0, 2.0), reading((300, 300), (100, 300), 3.0, 3.0)])
    last = reading((300, 300), (100, 300), 3.0, 3.0)
    monkeypatch.setattr(LoadReading, "now", classmethod(lambda cls: next(readings, last)))
    monkeypatch.setattr(threads, "FIRST_SAMPLE_S", 0.001)
    monkeypatch.setattr(threads, "SAMPLE_S", 0.001)
    with parallel.using(1) as lanes:
        watcher = LoadWatcher(lanes, usable=2).start()
        deadline = time.monotonic() + 5
        while len(watcher.decisions) < 3 and time.monotonic() < deadline:
            time.sleep(0.001)
        watcher.stop()
    assert watcher.decisions[:3] == [2, 1, 2]


def blas_thread_counts() -> set[int]:
    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}


def test_dnnexp_threads_sets_the_lanes_and_blas_stays_on_one_thread(monkeypatch):
    monkeypatch.setenv("DNNEXP_THREADS", "2")
    with blas_threads() as watcher:
        assert watcher is None and parallel.lanes() == 2 and blas_thread_counts() == {1}
    monkeypatch.setenv("DNNEXP_THREADS", "1")
    with blas_threads() as watcher:
        assert watcher is None and parallel.lanes() == 1
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (5.0, 5.0, 5.0))  # busy: one lane until the first reading
    for setting in ("auto", None):  # unset is auto
        if setting is None:
            monkeypatch.delenv("DNNEXP_THREADS")
        else:
            monkeypatch.setenv("DNNEXP_THREADS", setting)
        with blas_threads() as watcher:
            assert isinstance(watcher, LoadWatcher) and parallel.lanes() == 1
    assert parallel.lanes() == 1


@pytest.mark.parametrize("value", ["abc", "0", "-1", "2.5"])
def test_a_mistyped_dnnexp_threads_is_told_before_a_run_folder_exists(monkeypatch, value, tmp_path):
    from typer.testing import CliRunner

    from dnnexp.cli import app

    monkeypatch.setenv("DNNEXP_THREADS", value)
    with pytest.raises(DnnexpError, match="give 1, 2 or auto"):
        threads.override_threads()
    result = CliRunner().invoke(app, ["train", "configs/day1/linear_regression.yaml", "--runs-dir", str(tmp_path / "runs")])
    assert result.exit_code == 2 and "DNNEXP_THREADS" in result.output
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("load, lanes", [(0.1, 2), (0.9, 1), (3.0, 1)])
def test_a_training_starts_from_the_load_average(monkeypatch, load, lanes):
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (load, load, load))
    monkeypatch.setattr(threads, "usable_cores", lambda: 2)
    assert threads.starting_lanes() == lanes
