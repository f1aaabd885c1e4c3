"""Run folders: one folder per training run, written atomically and read back by compare and plot.

A run folder `runs/<name>-<YYYYmmdd-HHMMSS>[-N]` holds config.yaml, metrics.csv, summary.json and,
optionally, checkpoint.npz, layer_stats.csv, activations.npz and learning_curves.png. Every file is
replaced whole (temp file + fsync + rename) or, for the CSV logs, grown one whole row at a time, so a
run killed at any moment leaves files that still read back.
"""

from __future__ import annotations

import csv
import errno
import io
import itertools
import json
import os
import re
import secrets
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence, TypeVar

import numpy as np
import yaml

from dnnexp.errors import RunDirError, SpecError

if TYPE_CHECKING:
    import pandas as pd

# Letters, digits, '_', '-', '.'; no leading '.', so a run is never hidden, '.' or '..', and no
# leading '-', so a run's folder never reads as an option on a command line (`dnnexp plot -x…`).
RUN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,63}")
_TIMESTAMP_FORMAT = "%Y%m%d-%H%M%S"
_CONFIG = "config.yaml"

T = TypeVar("T")


def run_name_problem(name: str) -> str | None:
    """Why `name` cannot name a run folder, or None if it can."""
    if RUN_NAME.fullmatch(name):
        return None
    return f"'{name}' cannot name a run folder; use up to 64 letters, digits, '_', '-' and '.', not starting with '.' or '-'"


def timestamp() -> str:
    """The current local time as `YYYYmmdd-HHMMSS`, the suffix of run and comparison names."""
    return datetime.now().strftime(_TIMESTAMP_FORMAT)


def _check_filename(filename: str) -> None:
    # Files of a run live directly in its folder; a separator or '..' would write elsewhere.
    separators = {"/", "\\", os.sep, os.altsep} - {None}
    if not filename or filename in {".", ".."} or "\0" in filename or any(s in filename for s in separators):
        raise ValueError(f"{filename!r} is not a plain file name inside a run folder")


class StorageError(RunDirError):
    """A file or folder the operating system would not write: a full disk, no permission, a
    read-only file system, a file where a folder should be. Exit code 1 for a disk that ran out
    of space (nothing the command line got wrong), 2 for a place that cannot be written to."""

    #: errno → (what it means for the user, exit code)
    REASONS = {
        errno.ENOSPC: ("the disk is full; free some space and run again", 1),
        errno.EDQUOT: ("the disk quota is used up; free some space and run again", 1),
        errno.EACCES: ("no permission to write there; choose a folder you can write to", 2),
        errno.EPERM: ("no permission to write there; choose a folder you can write to", 2),
        errno.EROFS: ("the file system is read-only; choose a folder you can write to", 2),
        errno.ENOTDIR: ("a part of the path is a file, not a folder; choose a folder", 2),
        errno.EEXIST: ("a file of that name is in the way; choose a folder", 2),
        errno.ENOENT: ("its folder does not exist; choose one that does", 2),
    }

    def __init__(self, path: Path, error: OSError, doing: str = "write"):
        reason, self.exit_code = self.REASONS.get(error.errno, (error.strerror or str(error), 1))
        super().__init__(f"cannot {doing} {path} ({error.strerror or error}): {reason}")


#: the temp files `write_atomically` leaves when killed mid-write (SIGKILL, power loss)
TEMP_FILE = re.compile(r"\..+\.[0-9a-f]{8}\.tmp")


def write_atomically(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Write `path` whole or not at all: a temp file in the same folder, fsync, then os.replace.
    StorageError when the disk or the folder refuses; the file is then as it was."""
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        # os.open rather than tempfile.mkstemp: mode 0o666 less the umask, as for any other file, not 0o600.
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as error:
        raise StorageError(path, error) from None
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException as error:
        temp.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise StorageError(path, error) from None
        raise


def make_folder(path: Path) -> None:
    """`path` and the folders above it, made if missing; StorageError when that cannot be done."""
    try:
        Path(path).mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StorageError(path, error, "make the folder") from None


def _damaged(path: Path, reason: object) -> RunDirError:
    return RunDirError(
        f"{path} cannot be read ({reason}); it may have been cut short or edited — "
        "delete the run folder and rerun `dnnexp train`"
    )


def _not_a_run(path: Path) -> RunDirError:
    return RunDirError(f"{path} is not a run folder (no {_CONFIG}); give a folder made by `dnnexp train`")


def _json_default(value: Any) -> Any:
    # The trainer's numbers are often NumPy scalars or arrays; JSON wants Python ones.
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


@dataclass(frozen=True)
class RunDir:
    """One run folder: creates it, writes its files atomically and reads them back."""

    path: Path

    @property
    def name(self) -> str:
        """The folder's name, e.g. `mnist-mlp-20240101-120000`."""
        return self.path.name

    @classmethod
    def create(cls, parent: Path, name: str) -> RunDir:
        """Make `parent/<name>-<timestamp>`, or `…-1`, `…-2` if taken, and return it.

        os.mkdir fails if the folder exists, so runs started in the same second by different
        processes each get their own folder.
        """
        problem = run_name_problem(name)
        if problem:
            raise SpecError(f"name: {problem}")
        parent = Path(parent)
        make_folder(parent)
        base = f"{name}-{timestamp()}"
        candidates = itertools.chain([base], (f"{base}-{n}" for n in itertools.count(1)))
        while True:
            path = parent / next(candidates)
            try:
                os.mkdir(path)
                return cls(path)
            except FileExistsError:
                continue
            except OSError as error:
                raise StorageError(path, error, "make the run folder") from None

    @classmethod
    def open(cls, path: Path) -> RunDir:
        """The existing run folder at `path`; RunDirError if it is missing or not a run."""
        path = Path(path)
        if not path.exists():
            raise RunDirError(f"{path}: no such folder; give a run folder made by `dnnexp train`")
        if not path.is_dir():
            raise _not_a_folder(path)
        if not (path / _CONFIG).is_file():
            raise _not_a_run(path)
        return cls(path)

    def file(self, filename: str) -> Path:
        """The path of `filename` inside this run folder (a plain name, no separators)."""
        _check_filename(filename)
        return self.path / filename

    def remove_temp_files(self) -> list[Path]:
        """Delete the temp files of writes cut short (a kill mid-checkpoint leaves
        `.checkpoint.npz.<hex>.tmp`); only a run's one writer may call this. Returns what it deleted."""
        stray = [path for path in self.path.iterdir() if TEMP_FILE.fullmatch(path.name) and path.is_file()]
        for path in stray:
            path.unlink(missing_ok=True)
        return stray

    def has(self, filename: str) -> bool:
        """Whether the run folder holds `filename`."""
        return self.file(filename).is_file()

    def write_text(self, filename: str, text: str) -> Path:
        """Replace `filename` with `text` (UTF-8), atomically."""
        path = self.file(filename)
        write_atomically(path, lambda f: f.write(text.encode("utf-8")))
        return path

    def write_json(self, filename: str, obj: Any) -> Path:
        """Replace `filename` with `obj` as indented JSON (NumPy scalars and arrays allowed)."""
        return self.write_text(filename, json.dumps(obj, indent=2, default=_json_default) + "\n")

    def write_yaml(self, filename: str, mapping: Mapping[str, Any]) -> Path:
        """Replace `filename` with `mapping` as YAML, keys in the given order."""
        return self.write_text(filename, yaml.safe_dump(dict(mapping), sort_keys=False))

    def save_npz(self, filename: str, arrays: Mapping[str, np.ndarray]) -> Path:
        """Replace `filename` with an uncompressed .npz of `arrays` (no object arrays: they need pickle)."""
        arrays = {key: np.asarray(value) for key, value in arrays.items()}
        pickled = [key for key, value in arrays.items() if value.dtype.hasobject]
        if pickled:
            raise ValueError(f"{filename}: object arrays cannot be saved without pickle: {pickled}")
        path = self.file(filename)
        write_atomically(path, lambda f: np.savez(f, **arrays))
        return path

    def load_npz(self, filename: str) -> dict[str, np.ndarray]:
        """All arrays of `filename`, read eagerly so that a truncated file fails here."""
        path = self.file(filename)
        if not path.is_file():
            raise RunDirError(
                f"{path}: no such file; the run may have stopped before writing it — rerun `dnnexp train`"
            )

        def read(p: Path) -> dict[str, np.ndarray]:
            with np.load(p, allow_pickle=False) as npz:
                return {key: npz[key] for key in npz.files}

        return self._parse(filename, read)

    def config(self, filename: str = _CONFIG) -> dict[str, Any]:
        """The fully resolved spec from config.yaml (a sweep's: sweep.yaml)."""
        path = self.file(filename)
        if not path.is_file():
            raise _not_a_run(self.path)
        config = self._parse(filename, lambda p: yaml.safe_load(p.read_text(encoding="utf-8")))
        if not isinstance(config, dict):
            raise _damaged(path, "not a mapping")
        return config

    def summary(self) -> dict[str, Any]:
        """summary.json, or {} while the run has not written one."""
        if not self.has("summary.json"):
            return {}
        summary = self._parse("summary.json", lambda p: json.loads(p.read_text(encoding="utf-8")))
        if not isinstance(summary, dict):
            raise _damaged(self.file("summary.json"), f"a JSON {type(summary).__name__}, not an object")
        return summary

    def metrics(self) -> pd.DataFrame:
        """metrics.csv, one row per epoch; an empty frame while there is none."""
        return self.table("metrics.csv")

    def table(self, filename: str) -> pd.DataFrame:
        """A CSV file of the run (metrics.csv, layer_stats.csv) as a frame; empty if absent."""
        import pandas as pd  # imported here: half a second that training and `--help` need not pay

        if not self.has(filename):
            return pd.DataFrame()

        def read(p: Path) -> pd.DataFrame:
            try:
                return pd.read_csv(p)
            except pd.errors.EmptyDataError:
                return pd.DataFrame()

        return self._parse(filename, read)

    def log(self, filename: str, columns: Sequence[str]) -> MetricsLog:
        """A `MetricsLog` appending rows with `columns` to `filename` in this run folder."""
        return MetricsLog(self.file(filename), columns)

    def _parse(self, filename: str, read: Callable[[Path], T]) -> T:
        path = self.file(filename)
        try:
            return read(path)
        except (OSError, ValueError, EOFError, zipfile.BadZipFile, yaml.YAMLError) as exc:
            raise _damaged(path, exc) from exc


class MetricsLog:
    """A CSV file with a fixed header that grows one whole row per write.

    Each row is formatted first and written with a single unbuffered write, so a run killed at
    any moment leaves only complete rows; a write the disk refuses halfway is cut back off
    (StorageError). Missing values (a parameterless layer's grad_norm) are left empty.
    """

    def __init__(self, path: Path, columns: Sequence[str]):
        self.path = Path(path)
        self.columns = list(columns)
        if self.path.is_file() and self.path.stat().st_size > 0:
            header = self._rows()[0]
            if header != self.columns:
                raise RunDirError(
                    f"{self.path} has columns {header}, but this run writes {self.columns}; "
                    "start a new run instead of resuming this one"
                )
        else:
            write_atomically(self.path, lambda f: f.write(self._line(self.columns).encode("utf-8")))
        self._file = self._open()

    def _open(self) -> IO[bytes]:
        try:
            return self.path.open("ab", buffering=0)
        except OSError as error:
            raise StorageError(self.path, error, "open") from None

    def append(self, row: Mapping[str, Any]) -> None:
        """Write one row (keys: a subset of the columns) to the file."""
        unknown = set(row) - set(self.columns)
        if unknown:
            raise ValueError(f"{self.path.name}: unknown columns {sorted(unknown)}; the header is {self.columns}")
        line = memoryview(self._line(row.get(column) for column in self.columns).encode("utf-8"))
        fd = self._file.fileno()
        size = os.fstat(fd).st_size
        try:
            while line:
                line = line[self._file.write(line) :]
        except OSError as error:
            try:
                os.ftruncate(fd, size)  # no half row
            except OSError:
                pass  # the row is cut where the disk stopped it; readers skip a short last row
            raise StorageError(self.path, error) from None

    def resume_from(self, epoch: int, counter: str = "epoch") -> None:
        """Drop the rows of epochs after `epoch`, so a run resumed from that epoch continues cleanly;
        `counter` names the column that counts them (`episode` in a reinforcement-learning run)."""
        self._file.close()
        rows = self._rows()[1:]
        index = self.columns.index(counter)
        try:
            kept = [row for row in rows if float(row[index]) <= epoch]
        except (IndexError, ValueError):
            raise _damaged(self.path, f"a row without a number in column {self.columns[index]}") from None
        text = self._line(self.columns) + "".join(self._line(row) for row in kept)
        write_atomically(self.path, lambda f: f.write(text.encode("utf-8")))
        self._file = self._open()

    def _rows(self) -> list[list[str]]:
        """The file's rows, the header first; blank lines (an editor's) are left out."""
        try:
            with self.path.open(newline="", encoding="utf-8") as f:
                rows = [row for row in csv.reader(f) if row]
        except (OSError, UnicodeDecodeError, csv.Error) as error:
            raise _damaged(self.path, error) from None
        if any(len(row) != len(rows[0]) for row in rows):
            raise _damaged(self.path, f"rows whose number of values is not the header's {len(rows[0])}")
        return rows or [[]]

    def close(self) -> None:
        """Close the file; rows already appended are on disk."""
        self._file.close()

    def __enter__(self) -> MetricsLog:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @staticmethod
    def _line(values: Iterable[Any]) -> str:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow(["" if v is None else v for v in values])
        return buffer.getvalue()


def find_runs(paths: Sequence[Path], note: Callable[[str], None] | None = None) -> list[RunDir]:
    """The runs named by `paths`: each a run folder, or a folder holding runs at any depth (a
    sweep folder, a folder of sweeps beside single runs), all of whose runs are taken, sorted.

    A path that does not exist is always an error. One that exists but holds no run (a picture
    beside the runs, an empty folder) is an error when it is the only path; among several — what
    `runs/*` expands to — it is skipped, and `note` is told why.
    """
    paths = [Path(p) for p in paths]
    runs: list[RunDir] = []
    for path in paths:
        if not path.exists() or (path / _CONFIG).is_file():
            runs.append(RunDir.open(path))
            continue
        found = _runs_below(path) if path.is_dir() else []
        if found:
            runs.extend(found)
        elif len(paths) == 1:
            raise _no_runs_in(path)
        elif note is not None:
            note(f"skipped {path}: " + ("a file, not a run folder" if not path.is_dir() else f"no {_CONFIG} in it or its subfolders"))
    if not runs:
        raise RunDirError(
            f"none of the {len(paths)} paths given is a run folder or holds one; give folders made by `dnnexp train`"
        )
    # The same run named twice (a folder and its parent) is compared once.
    return list(dict.fromkeys(runs))


def _runs_below(folder: Path) -> list[RunDir]:
    """The run folders anywhere under `folder`, sorted; a run's own subfolders, hidden folders and
    symbolic links are not searched (a link could lead in a circle)."""
    found = []
    for parent, folders, _ in os.walk(folder):
        if (Path(parent) / _CONFIG).is_file():
            found.append(Path(parent))
            folders.clear()
        else:
            folders[:] = [name for name in folders if not name.startswith(".")]
    return [RunDir(path) for path in sorted(found)]


def _not_a_folder(path: Path) -> RunDirError:
    return RunDirError(f"{path} is a file, not a run folder; give a folder made by `dnnexp train`")


def _no_runs_in(path: Path) -> RunDirError:
    if not path.is_dir():
        return _not_a_folder(path)
    return RunDirError(
        f"{path} is neither a run folder nor a folder of runs (no {_CONFIG} in it or any folder below it); "
        "give a folder made by `dnnexp train`, or a folder that holds such runs"
    )
