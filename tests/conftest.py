"""Fixtures shared across the suite: small specs written to files, and a CLI runner."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml
from typer.testing import CliRunner

from dnnexp.cli import app

#: a spec that trains in well under a second: three Gaussian blobs, a 2-16-3 network
BLOBS_SPEC: dict[str, Any] = {
    "name": "blobs",
    "seed": 0,
    "data": {"name": "blobs", "classes": 3, "n": 300, "n_test": 60, "validation": 60},
    "model": {
        "input_shape": [2],
        "layers": [
            {"type": "dense", "units": 16, "activation": "relu", "init": "he_normal"},
            {"type": "dropout", "rate": 0.1},
            {"type": "dense", "units": 3, "activation": "softmax"},
        ],
    },
    "loss": "cross_entropy",
    "optimizer": {"name": "adam", "lr": 0.01},
    "train": {"epochs": 4, "batch_size": 32, "checkpoint_every": 1},
}

WriteSpec = Callable[..., Path]


@pytest.fixture
def write_spec(tmp_path: Path) -> WriteSpec:
    """Write a spec (BLOBS_SPEC by default, updated with top-level `changes`) to a YAML file."""

    def write(spec: dict[str, Any] | None = None, filename: str = "spec.yaml", **changes: Any) -> Path:
        content = copy.deepcopy(BLOBS_SPEC if spec is None else spec)
        content.update(changes)
        path = tmp_path / filename
        path.write_text(yaml.safe_dump(content, sort_keys=False))
        return path

    return write


@pytest.fixture
def blobs_spec() -> dict[str, Any]:
    """A fresh copy of BLOBS_SPEC to change."""
    return copy.deepcopy(BLOBS_SPEC)


@pytest.fixture
def runs_dir(tmp_path: Path) -> Path:
    return tmp_path / "runs"


@pytest.fixture
def cli() -> Callable[..., Any]:
    """Invoke `dnnexp ARGS…` in-process; returns the click Result (exit_code, output)."""
    runner = CliRunner()

    def invoke(*args: str) -> Any:
        return runner.invoke(app, [str(a) for a in args])

    return invoke


@pytest.fixture
def raw() -> dict[str, Any]:
    """A small valid supervised spec (xor, 2-8-1) as plain data (a fresh copy per test)."""
    return {
        "name": "tiny",
        "data": {"name": "xor", "validation": 20},
        "model": {
            "input_shape": [2],
            "layers": [
                {"type": "dense", "units": 8, "activation": "tanh"},
                {"type": "dense", "units": 1, "activation": "sigmoid"},
            ],
        },
        "loss": "binary_cross_entropy",
        "optimizer": {"name": "sgd", "lr": 0.1},
        "train": {"epochs": 3},
    }
