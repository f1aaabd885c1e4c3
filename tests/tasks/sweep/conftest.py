"""A sweep over the blobs spec, written next to it, and what its trial folders hold."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from tests.conftest import BLOBS_SPEC

WriteSweep = Callable[..., Path]


@pytest.fixture
def write_sweep(tmp_path: Path) -> WriteSweep:
    """Write the blobs spec as spec.yaml (with top-level `spec_changes`) and a sweep file over it
    (`base: spec.yaml` and the given keys, or `text` verbatim); the sweep file's path."""

    def write(text: str | None = None, spec_changes: dict[str, Any] | None = None, **sweep: Any) -> Path:
        spec = copy.deepcopy(BLOBS_SPEC)
        spec.update(spec_changes or {})
        (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
        path = tmp_path / "sweep.yaml"
        path.write_text(text if text is not None else yaml.safe_dump({"name": "blobsweep", "base": "spec.yaml", **sweep}, sort_keys=False))
        return path

    return write


def sweep_folders(runs_dir: Path) -> list[Path]:
    return sorted(path for path in runs_dir.iterdir() if (path / "sweep.yaml").is_file())


def trial_folders(sweep: Path) -> list[Path]:
    return sorted(path for path in sweep.iterdir() if path.is_dir())
