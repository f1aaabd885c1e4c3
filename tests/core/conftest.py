"""Fixtures for the core tests: layers built on their own, and state passed through a checkpoint file."""

from __future__ import annotations

import io
from typing import Any, Callable

import numpy as np
import pytest

from dnnexp.core.layers import BuildContext, Layer
from dnnexp.registry import LAYERS

BuildLayer = Callable[..., Layer]
RoundTrip = Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]


@pytest.fixture
def build_layer() -> BuildLayer:
    """Build one layer from a spec mapping ({type: dense, units: 3}) for inputs of `input_shape`."""

    def build(spec: dict[str, Any], input_shape: tuple[int, ...], dtype: type = np.float64, seed: int = 0) -> Layer:
        args = dict(spec)
        layer = LAYERS.get(args.pop("type"))(**args)
        layer.build(input_shape, BuildContext(np.random.default_rng(seed), np.random.default_rng(seed + 1), dtype))
        return layer

    return build


@pytest.fixture
def through_npz() -> RoundTrip:
    """Save named arrays with np.savez and load them back, as a checkpoint would."""

    def round_trip(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        buffer.seek(0)
        with np.load(buffer, allow_pickle=False) as saved:
            return dict(saved)

    return round_trip
