"""Fixtures for the core tests: layers built on their own, and state passed through a checkpoint file."""

from __future__ import annotations

import io
from typing import Any, Callable

import numpy as np
import pytest

from dnnexp.core.layers import BuildContext, Layer
from dnnexp.core.models.base import DataInfo, Vocabulary
from dnnexp.spec.build import build_layers

MakeLayer = Callable[[dict[str, Any]], Layer]
BuildLayer = Callable[..., Layer]
OutputShape = Callable[[dict[str, Any], tuple[int, ...]], tuple[int, ...]]
RoundTrip = Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]


def context(dtype: type = np.float64, seed: int = 0) -> BuildContext:
    return BuildContext(np.random.default_rng(seed), np.random.default_rng(seed + 1), dtype)


@pytest.fixture
def make_layer() -> MakeLayer:
    """One layer from a spec mapping ({type: dense, units: 3}), not built: no parameters yet."""

    def make(spec: dict[str, Any]) -> Layer:
        (layer,) = build_layers([spec])
        return layer

    return make


@pytest.fixture
def build_layer(make_layer: MakeLayer) -> BuildLayer:
    """Build one layer from a spec mapping ({type: dense, units: 3}) for inputs of `input_shape`."""

    def build(spec: dict[str, Any], input_shape: tuple[int, ...], dtype: type = np.float64, seed: int = 0) -> Layer:
        layer = make_layer(spec)
        layer.build(input_shape, context(dtype, seed))
        return layer

    return build


@pytest.fixture(params=["build", "compute_output_shape"])
def output_shape(request: pytest.FixtureRequest, make_layer: MakeLayer) -> OutputShape:
    """A spec's output shape for `input_shape`, once from `build` and once from `compute_output_shape`
    on a layer never built: a test of the shape rules then holds for both."""

    def shape(spec: dict[str, Any], input_shape: tuple[int, ...]) -> tuple[int, ...]:
        layer = make_layer(spec)
        if request.param == "build":
            return layer.build(input_shape, context())
        return layer.compute_output_shape(input_shape)

    return shape


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


@pytest.fixture
def loop_windows() -> Callable[..., np.ndarray]:
    """The slow oracle of the image layers: every window of x (N, C, H, W), one output position at a
    time, as (N, C, OH, OW, f_h, f_w); pads = (top, bottom, left, right), filled with `fill`."""

    def windows(x: np.ndarray, size: tuple[int, int], stride: tuple[int, int], pads: tuple[int, ...], fill: float = 0.0) -> np.ndarray:
        top, bottom, left, right = pads
        xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=fill)
        (fh, fw), (sh, sw) = size, stride
        OH, OW = (xp.shape[2] - fh) // sh + 1, (xp.shape[3] - fw) // sw + 1
        out = np.empty((*x.shape[:2], OH, OW, fh, fw))
        for i in range(OH):
            for j in range(OW):
                out[:, :, i, j] = xp[:, :, i * sh : i * sh + fh, j * sw : j * sw + fw]
        return out

    return windows


def token_data(input_shape: tuple[int, ...], vocab_size: int, start: int, end: int | None, length: int) -> DataInfo:
    """What a text corpus of `vocab_size` tokens (padding id 0) tells an encoder-decoder: inputs of
    `input_shape`, replies of `length` tokens after the start token."""
    vocabulary = Vocabulary(tuple(f"w{i}" for i in range(vocab_size)), 0, start, end, " ")
    return DataInfo(tuple(input_shape), (length + 1,), vocab_size, "multiclass", vocabulary.tokens, vocabulary)
