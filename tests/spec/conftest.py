"""Fixtures for the spec tests: a valid spec to break one key at a time, and spec files to load."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Callable

import pytest

WriteSpec = Callable[[str], Path]

#: the example of the spec format, as the issue writes it
EXAMPLE = """\
name: relu_he_adam
seed: 0
data:
  name: fashion_mnist
  flatten: true
  validation: 5000
  subset: null
model:
  input_shape: [784]
  layers:
    - {type: dense, units: 100, activation: relu, init: he_normal}
    - {type: batchnorm}
    - {type: dropout, rate: 0.5}
    - {type: dense, units: 10, activation: softmax, init: {name: normal, std: 0.01}}
loss: cross_entropy
optimizer: {name: adam, lr: 0.001}
schedule: constant
regularization: {l2: 0.0001, l1: 0.0, clip_norm: null}
train:
  epochs: 10
  batch_size: 100
  checkpoint_every: 1
logging:
  layer_stats: false
"""


@pytest.fixture
def example() -> str:
    """The issue's example spec as YAML text."""
    return EXAMPLE


@pytest.fixture
def write_spec(tmp_path: Path) -> WriteSpec:
    """Write YAML text (dedented) to tmp_path/spec.yaml and return its path."""

    def write(text: str) -> Path:
        path = tmp_path / "spec.yaml"
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write
