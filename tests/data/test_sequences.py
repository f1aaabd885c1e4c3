"""Sequence data sets (binary addition, sine wave) and images read row by row (`sequence: true`)."""

from __future__ import annotations

import numpy as np
import pytest

from dnnexp.data import prepare
from dnnexp.data.base import Dataset
from dnnexp.data.sequences import from_bits, to_bits
from dnnexp.errors import SpecError
from dnnexp.spec.registry import DATASETS


def make(name, seed=0, **kwargs):
    return DATASETS.get(name)(rng=np.random.default_rng(seed), **kwargs)


@pytest.mark.parametrize("name", ["binary_addition", "sine_wave"])
def test_same_seed_same_data_other_seed_other_data(name):
    a, b, c = make(name, 1, n=50, n_test=20), make(name, 1, n=50, n_test=20), make(name, 2, n=50, n_test=20)
    for field in ("x_train", "t_train", "x_test", "t_test"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert not np.array_equal(a.x_train, c.x_train)


def test_binary_addition_feeds_two_numbers_bit_by_bit_and_wants_their_sum():
    data = make("binary_addition", bits=8, n=300, n_test=100)
    assert data.task == "binary"
    assert data.x_train.shape == (300, 8, 2) and data.t_train.shape == (300, 8, 1) and data.x_test.shape == (100, 8, 2)
    assert data.x_train.dtype == data.t_train.dtype == np.float32
    for x, t in ((data.x_train, data.t_train), (data.x_test, data.t_test)):
        a, b, total = from_bits(x[:, :, 0]), from_bits(x[:, :, 1]), from_bits(t[:, :, 0])
        np.testing.assert_array_equal(a + b, total)
        assert a.max() < 128 and b.max() < 128 and total.max() < 256
    # Least significant bit first: the first step holds the parity.
    np.testing.assert_array_equal(data.x_train[:, 0, 0], from_bits(data.x_train[:, :, 0]) % 2)
    # Held out: no pair of the test set is a training pair, and no pair is drawn twice.
    pairs = {tuple(row) for row in np.concatenate([data.x_train, data.x_test]).reshape(400, -1)}
    assert len(pairs) == 400


def test_binary_addition_cannot_draw_more_pairs_than_there_are():
    assert len(make("binary_addition", bits=3, n=10, n_test=6).x_train) == 10  # all 16 pairs of 2-bit numbers
    with pytest.raises(SpecError, match="only 16 different pairs"):
        make("binary_addition", bits=3, n=10, n_test=7)


def test_bits_round_trip():
    numbers = np.array([0, 1, 6, 255])
    np.testing.assert_array_equal(to_bits(numbers, 8)[2], [0, 1, 1, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(from_bits(to_bits(numbers, 8)), numbers)


def test_sine_wave_target_is_the_next_value_of_the_window():
    data = make("sine_wave", steps=10, period=20.0, noise=0.0, n=40, n_test=10)
    assert data.task == "regression" and data.x_train.shape == (40, 10, 1) and data.t_train.shape == (40, 1)
    # A sine sampled every δ = 2π/20 obeys sin(θ + 2δ) = 2 cos δ · sin(θ + δ) − sin θ, the target too.
    x, step = data.x_train[:, :, 0].astype(np.float64), 2 * np.pi / 20
    np.testing.assert_allclose(x[:, 2:], 2 * np.cos(step) * x[:, 1:-1] - x[:, :-2], atol=1e-6)
    np.testing.assert_allclose(data.t_train[:, 0], 2 * np.cos(step) * x[:, -1] - x[:, -2], atol=1e-6)
    assert 0.3 < np.std(data.x_train) < 0.9


def images(n=6, channels=1):
    x = np.arange(n * channels * 4 * 5, dtype=np.uint8).reshape(n, channels, 4, 5)
    return Dataset(x, np.arange(n) % 3, x[:2], np.arange(2), "multiclass", ["a", "b", "c"])


@pytest.mark.parametrize("channels", [1, 3])
def test_sequence_reads_images_row_by_row(channels):
    batches = prepare(images(channels=channels), flatten=False, sequence=True, validation=2, subset=None, shuffle_seed=0)
    assert batches.input_shape == (4, 5 * channels) and batches.num_outputs == 3
    x, _ = batches.test.batch(slice(0, 2))
    assert x.dtype == np.float32 and x.shape == (2, 4, 5 * channels)
    original = images(channels=channels).x_test / 255.0
    # Step t holds row t: every channel's pixels of that row, pixel by pixel.
    np.testing.assert_allclose(x[1, 2, :channels], original[1, :, 2, 0], rtol=1e-6)
    np.testing.assert_allclose(x[1, 2, channels * 4 :], original[1, :, 2, 4], rtol=1e-6)


def test_sequence_needs_images_and_excludes_flatten():
    with pytest.raises(SpecError, match="drop one"):
        prepare(images(), flatten=True, sequence=True, validation=0, subset=None, shuffle_seed=0)
    with pytest.raises(SpecError, match=r"data.sequence: reads images .* \(8, 2\)"):
        prepare(make("binary_addition", n=10, n_test=0), flatten=False, sequence=True, validation=0, subset=None, shuffle_seed=0)
