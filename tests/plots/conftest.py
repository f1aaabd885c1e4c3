"""The plot tests draw from the same fake run folders as the run tests (tests/runs/conftest.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

# Loaded by path so that it works under any pytest import mode; conftest files are not importable by name.
_spec = importlib.util.spec_from_file_location("fake_runs", Path(__file__).parents[1] / "runs" / "conftest.py")
assert _spec is not None and _spec.loader is not None
fake_runs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fake_runs)

make_run = fake_runs.make_run
