"""The import contract in pyproject.toml holds, and it would catch a layer importing upwards."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")


def lint(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT)], cwd=folder, capture_output=True, text=True, timeout=120)


def test_the_package_keeps_its_layers():
    done = lint(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    "module, bad_import, broken",
    [
        ("core/losses.py", "import dnnexp.spec.registry", "cli -> tasks"),
        ("core/losses.py", "import dnnexp.errors", "core is NumPy only"),
        ("train/trainer.py", "import dnnexp.tasks", "cli -> tasks"),
        ("runs/compare.py", "import dnnexp.train.trainer", "cli -> tasks"),
    ],
)
def test_an_upward_import_breaks_the_contract(tmp_path, module, bad_import, broken):
    shutil.copytree(ROOT / "dnnexp", tmp_path / "dnnexp", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    with (tmp_path / "dnnexp" / module).open("a") as f:
        f.write(f"\n{bad_import}\n")
    done = lint(tmp_path)
    assert done.returncode != 0 and f"{broken}" in done.stdout and "BROKEN" in done.stdout, done.stdout
