"""Run folders: safe unique creation, atomic writes, damaged files, the CSV logs, finding runs."""

from __future__ import annotations

import errno
import os
import re
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dnnexp.errors import RunDirError, SpecError
from dnnexp.runs import rundir
from dnnexp.runs.rundir import MetricsLog, RunDir, StorageError, find_runs, write_atomically


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> str:
    """Every run created in this test starts in the same second."""
    monkeypatch.setattr(rundir, "timestamp", lambda: "20240101-120000")
    return "20240101-120000"


@pytest.fixture
def run(tmp_path: Path) -> RunDir:
    return RunDir.create(tmp_path / "runs", "mlp")


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_create_makes_parent_and_timestamped_folder(tmp_path: Path) -> None:
    run = RunDir.create(tmp_path / "a" / "runs", "mnist-mlp_v1.2")
    assert run.path.is_dir() and run.path.parent == tmp_path / "a" / "runs"
    assert re.fullmatch(r"mnist-mlp_v1\.2-\d{8}-\d{6}", run.name)


def test_create_in_the_same_second_numbers_the_folders(tmp_path: Path, frozen_clock: str) -> None:
    names = [RunDir.create(tmp_path, "mlp").name for _ in range(3)]
    assert names == [f"mlp-{frozen_clock}", f"mlp-{frozen_clock}-1", f"mlp-{frozen_clock}-2"]


def test_concurrent_creates_never_share_a_folder(tmp_path: Path, frozen_clock: str) -> None:
    start = threading.Barrier(8)
    made: list[Path] = []

    def create() -> None:
        start.wait()
        made.append(RunDir.create(tmp_path, "mlp").path)

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    expected = {f"mlp-{frozen_clock}"} | {f"mlp-{frozen_clock}-{n}" for n in range(1, 8)}
    assert len(made) == 8 and {p.name for p in made} == expected


@pytest.mark.parametrize("name", ["x/../y", "../up", ".hidden", "", "a b", "a" * 65, "tab\tname"])
def test_create_rejects_unsafe_names(tmp_path: Path, name: str) -> None:
    with pytest.raises(SpecError, match=r"^name: .*cannot name a run folder; use up to 64 letters, digits, '_', '-' and '\.'"):
        RunDir.create(tmp_path, name)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("filename", ["../x", "a/b", "..", ".", "", "a\\b"])
def test_files_stay_inside_the_run_folder(run: RunDir, filename: str) -> None:
    with pytest.raises(ValueError, match="plain file name"):
        run.write_text(filename, "x")


def test_open_explains_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(RunDirError, match="no such folder"):
        RunDir.open(tmp_path / "missing")
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(RunDirError, match="is a file"):
        RunDir.open(tmp_path / "file.txt")
    with pytest.raises(RunDirError, match=r"is not a run folder \(no config.yaml\); give a folder made by `dnnexp train`"):
        RunDir.open(tmp_path)


def test_written_files_read_back_and_leave_no_temp_files(run: RunDir) -> None:
    config = {"name": "mlp", "optimizer": {"name": "adam", "lr": 0.001}, "model": {"layers": [{"units": 3}]}}
    run.write_yaml("config.yaml", config)
    run.write_json("summary.json", {"status": "completed", "final": {"val_acc": np.float32(0.5)}, "shape": np.arange(2)})
    run.write_text("notes.txt", "héllo\n")
    arrays = {"W1": np.ones((2, 3), np.float32), "init/relu1": np.arange(4, dtype=np.float32)}
    run.save_npz("checkpoint.npz", arrays)

    assert RunDir.open(run.path).config() == config
    assert list(run.config()) == ["name", "optimizer", "model"]  # order as given, not sorted
    assert run.summary() == {"status": "completed", "final": {"val_acc": 0.5}, "shape": [0, 1]}
    assert run.file("notes.txt").read_text(encoding="utf-8") == "héllo\n"
    loaded = run.load_npz("checkpoint.npz")
    assert loaded.keys() == arrays.keys()
    for key, value in arrays.items():
        assert loaded[key].dtype == value.dtype and np.array_equal(loaded[key], value)
    assert leftovers(run.path) == []


def test_failed_write_keeps_the_old_file_and_no_temp(run: RunDir) -> None:
    run.write_text("summary.json", '{"status": "completed"}')

    def write_half_then_fail(f) -> None:
        f.write(b'{"sta')
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(StorageError, match="No space left on device.*the disk is full; free some space") as caught:
        write_atomically(run.file("summary.json"), write_half_then_fail)
    assert caught.value.exit_code == 1
    assert run.summary() == {"status": "completed"}
    assert leftovers(run.path) == []


def test_atomic_writes_get_the_usual_file_mode(run: RunDir) -> None:
    run.file("plain.txt").write_text("x")
    run.write_text("atomic.txt", "x")
    assert run.file("atomic.txt").stat().st_mode == run.file("plain.txt").stat().st_mode


def test_save_npz_refuses_object_arrays(run: RunDir) -> None:
    with pytest.raises(ValueError, match="pickle"):
        run.save_npz("checkpoint.npz", {"bad": np.array([{"a": 1}], dtype=object)})
    assert not run.has("checkpoint.npz")


def test_load_npz_missing_corrupt_or_truncated_names_the_file(run: RunDir) -> None:
    with pytest.raises(RunDirError, match=r"checkpoint\.npz: no such file.*rerun"):
        run.load_npz("checkpoint.npz")
    run.file("checkpoint.npz").write_bytes(b"not a zip file at all")
    with pytest.raises(RunDirError, match=r"checkpoint\.npz cannot be read .*rerun `dnnexp train`"):
        run.load_npz("checkpoint.npz")
    run.save_npz("checkpoint.npz", {"W": np.random.default_rng(0).normal(size=(100, 100))})
    data = run.file("checkpoint.npz").read_bytes()
    run.file("checkpoint.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(RunDirError, match=r"checkpoint\.npz cannot be read"):
        run.load_npz("checkpoint.npz")


def test_readers_of_a_run_that_wrote_nothing_yet(run: RunDir) -> None:
    assert run.summary() == {}
    assert run.metrics().empty
    with pytest.raises(RunDirError, match="no config.yaml"):
        run.config()
    run.write_text("metrics.csv", "")
    assert run.metrics().empty


def test_damaged_summary_and_config_raise_run_dir_errors(run: RunDir) -> None:
    run.write_text("summary.json", '{"status": "compl')
    with pytest.raises(RunDirError, match=r"summary\.json cannot be read"):
        run.summary()
    run.write_text("config.yaml", "- just\n- a list\n")
    with pytest.raises(RunDirError, match=r"config\.yaml cannot be read \(not a mapping\)"):
        run.config()


COLUMNS = ["epoch", "step", "train_loss", "val_loss"]


def test_metrics_log_writes_whole_flushed_rows(run: RunDir) -> None:
    with run.log("metrics.csv", COLUMNS) as log:
        log.append({"epoch": 1, "step": 10, "train_loss": np.float32(0.5), "val_loss": 0.625})
        # Flushed at once: a reader (or a crash) sees the whole row while the log is still open.
        assert run.file("metrics.csv").read_text() == "epoch,step,train_loss,val_loss\n1,10,0.5,0.625\n"
        log.append({"epoch": 2, "step": 20, "train_loss": 0.25})
    frame = run.metrics()
    assert list(frame.columns) == COLUMNS
    assert frame["epoch"].tolist() == [1, 2]
    assert frame["val_loss"].isna().tolist() == [False, True]


def test_metrics_log_rejects_unknown_columns(run: RunDir) -> None:
    with run.log("metrics.csv", COLUMNS) as log, pytest.raises(ValueError, match="unknown columns"):
        log.append({"epoch": 1, "val_acc": 0.9})


def test_resume_from_drops_later_epochs_and_continues(run: RunDir) -> None:
    with run.log("metrics.csv", COLUMNS) as log:
        for epoch in range(1, 6):
            log.append({"epoch": epoch, "step": 10 * epoch, "train_loss": 1.0 / epoch})
    with run.log("metrics.csv", COLUMNS) as log:
        log.resume_from(3)
        log.append({"epoch": 4, "step": 40, "train_loss": 0.2})
    assert run.metrics()["epoch"].tolist() == [1, 2, 3, 4]
    assert run.metrics()["train_loss"].tolist() == pytest.approx([1.0, 0.5, 1 / 3, 0.2])
    assert leftovers(run.path) == []


def test_resume_with_other_columns_is_refused(run: RunDir) -> None:
    run.log("metrics.csv", COLUMNS).close()
    with pytest.raises(RunDirError, match="start a new run"):
        MetricsLog(run.file("metrics.csv"), ["epoch", "train_loss"])


def test_find_runs_takes_runs_and_folders_of_runs(make_run, tmp_path: Path) -> None:
    first, second = make_run("b"), make_run("a")
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "config.yaml").write_text("name: x\n")
    (tmp_path / "runs" / "not-a-run").mkdir()

    runs = find_runs([tmp_path / "runs", other, first])
    assert [r.path for r in runs] == sorted([first, second]) + [other]


def test_find_runs_rejects_folders_without_runs(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(RunDirError, match="neither a run folder nor a folder of runs"):
        find_runs([tmp_path / "empty"])
    with pytest.raises(RunDirError, match="no such folder"):
        find_runs([tmp_path / "missing"])


def test_metrics_of_a_fake_run_read_as_a_frame(make_run) -> None:
    frame = RunDir.open(make_run(epochs=3)).metrics()
    assert isinstance(frame, pd.DataFrame) and frame["epoch"].tolist() == [1, 2, 3]


def test_find_runs_goes_to_any_depth_beside_direct_runs(make_run, tmp_path: Path) -> None:
    direct = make_run("direct")
    runs = tmp_path / "runs"
    # A folder of sweep folders: runs/grid/<sweep>-<time>/<trial>/, beside a run made directly.
    trial = runs / "grid" / "sweep-20240101-120000" / "001-lr=0.1"
    trial.mkdir(parents=True)
    (trial / "config.yaml").write_text("name: t\n")
    (trial.parent / "sweep.yaml").write_text("name: sweep\n")
    hidden = runs / ".trash" / "old"
    hidden.mkdir(parents=True)
    (hidden / "config.yaml").write_text("name: old\n")
    inside = direct / "nested"  # a run's own subfolders are its files, never runs of their own
    inside.mkdir()
    (inside / "config.yaml").write_text("name: x\n")

    assert [r.path for r in find_runs([runs])] == [direct, trial]
    assert [r.path for r in find_runs([runs / "grid"])] == [trial]


def test_find_runs_skips_what_a_glob_brings_that_is_not_a_run(make_run, tmp_path: Path) -> None:
    run = make_run()
    picture = tmp_path / "runs" / "compare-20240101-120000.png"
    picture.write_bytes(b"png")
    empty = tmp_path / "runs" / "empty"
    empty.mkdir()
    notes: list[str] = []

    found = find_runs(sorted((tmp_path / "runs").iterdir()), notes.append)
    assert [r.path for r in found] == [run]
    assert notes == [f"skipped {picture}: a file, not a run folder", f"skipped {empty}: no config.yaml in it or its subfolders"]
    with pytest.raises(RunDirError, match="none of the 2 paths"):
        find_runs([picture, empty], notes.append)
    # Named alone, a path that is not a run is a mistake, not something to skip.
    with pytest.raises(RunDirError, match="is a file, not a run folder"):
        find_runs([picture], notes.append)
    with pytest.raises(RunDirError, match="no such folder"):
        find_runs([run, tmp_path / "runs" / "typo"], notes.append)


class FullDisk:
    """A file whose disk fills up during write number `writes` + 1: three bytes of it are
    written (a real disk's partial write), then ENOSPC."""

    def __init__(self, file, writes: int):
        self.file, self.writes = file, writes

    def write(self, data) -> int:
        self.writes -= 1
        if self.writes >= 0:
            return self.file.write(data)
        if self.writes == -1:
            return self.file.write(bytes(data[:3]))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name):
        return getattr(self.file, name)


def test_a_row_the_disk_refuses_halfway_is_cut_back_off(tmp_path: Path, monkeypatch) -> None:
    """A full disk used to leave half a row in metrics.csv; now the file keeps whole rows only."""
    log = MetricsLog(tmp_path / "metrics.csv", ["epoch", "loss"])
    log.append({"epoch": 1, "loss": 0.5})
    log._file = FullDisk(log._file, writes=0)
    with pytest.raises(StorageError, match=r"metrics.csv \(No space left on device\): the disk is full") as caught:
        log.append({"epoch": 2, "loss": 0.25})
    assert caught.value.exit_code == 1
    log.close()
    assert (tmp_path / "metrics.csv").read_text() == "epoch,loss\n1,0.5\n"


def test_a_folder_that_cannot_hold_runs_gets_one_message(tmp_path: Path, monkeypatch) -> None:
    """Under a file, or where the system says no: tests run as root, whom chmod does not stop,
    so the refusal is os.mkdir's, monkeypatched to answer EACCES as it does for a read-only folder."""
    (tmp_path / "file").write_text("x")
    with pytest.raises(StorageError, match="file/runs .*a part of the path is a file, not a folder") as caught:
        RunDir.create(tmp_path / "file" / "runs", "mlp")
    assert caught.value.exit_code == 2

    def refused(path, *args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))

    monkeypatch.setattr(rundir.os, "mkdir", refused)
    with pytest.raises(StorageError, match="Permission denied.*no permission to write there"):
        RunDir.create(tmp_path, "mlp")
    assert [p.name for p in tmp_path.iterdir()] == ["file"]


def test_the_temp_files_of_cut_writes_are_removed_and_nothing_else(run: RunDir) -> None:
    run.write_text("config.yaml", "name: x\n")
    for name in (".checkpoint.npz.0123abcd.tmp", ".summary.json.deadbeef.tmp", "notes.tmp", ".hidden"):
        run.file(name).write_text("x")
    removed = run.remove_temp_files()
    assert sorted(p.name for p in removed) == [".checkpoint.npz.0123abcd.tmp", ".summary.json.deadbeef.tmp"]
    assert sorted(p.name for p in run.path.iterdir()) == [".hidden", "config.yaml", "notes.tmp"]


def test_a_log_with_blank_lines_resumes_and_a_mangled_one_is_named(tmp_path: Path) -> None:
    """A blank line (an editor's) crashed --resume; blank lines are skipped, rows of the wrong
    length or without an epoch number are named in one message."""
    path = tmp_path / "metrics.csv"
    path.write_text("epoch,loss\n1,0.5\n\n2,0.25\n\n3,0.125\n")
    log = MetricsLog(path, ["epoch", "loss"])
    log.resume_from(2)
    log.close()
    assert path.read_text() == "epoch,loss\n1,0.5\n2,0.25\n"
    for mangled in ("epoch,loss\n1,0.5\n2\n", "epoch,loss\nx,0.5\n"):
        path.write_text(mangled)
        with pytest.raises(RunDirError, match=f"{path} cannot be read .*delete the run folder"):
            MetricsLog(path, ["epoch", "loss"]).resume_from(1)
