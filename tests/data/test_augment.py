"""Random crops and flips of training batches: what they do to an image, and that (seed, epoch,
batch) alone fixes them."""

from __future__ import annotations

import numpy as np
import pytest

from dnnexp.data.augment import Augmentation


def images(n: int = 64, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((n, 3, 6, 5), dtype=np.float32)


def shifted(x: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """x (C, H, W) moved down by dy and right by dx (either may be negative), zeros coming in."""
    C, H, W = x.shape
    out = np.zeros_like(x)
    rows, cols = slice(max(dy, 0), H + min(dy, 0)), slice(max(dx, 0), W + min(dx, 0))
    out[:, rows, cols] = x[:, max(-dy, 0) : H - max(dy, 0), max(-dx, 0) : W - max(dx, 0)]
    return out


def test_each_crop_is_the_image_shifted_by_at_most_the_padding() -> None:
    x, p = images(), 2
    out = Augmentation(crop_padding=p, seed=1)(x, epoch=0, batch=0)
    assert out.shape == x.shape and out.dtype == x.dtype
    shifts = []
    for image, crop in zip(x, out):
        shifts_of_image = [(dy, dx) for dy in range(-p, p + 1) for dx in range(-p, p + 1)]
        matches = [shift for shift in shifts_of_image if np.array_equal(crop, shifted(image, *shift))]
        assert matches, "a crop that is no shift of its image"
        shifts.append(matches[0])
    assert len(set(shifts)) > 10  # 25 possible shifts over 64 images: they vary


def test_a_flip_mirrors_about_half_the_images_left_to_right() -> None:
    x = images()
    out = Augmentation(horizontal_flip=True, seed=1)(x, epoch=0, batch=0)
    mirrored = [np.array_equal(o, i[..., ::-1]) for o, i in zip(out, x)]
    kept = [np.array_equal(o, i) for o, i in zip(out, x)]
    assert all(m != k for m, k in zip(mirrored, kept))
    assert 16 < sum(mirrored) < 48


def test_seed_epoch_and_batch_fix_the_draws() -> None:
    x, augment = images(), Augmentation(crop_padding=2, horizontal_flip=True, seed=7)
    first = augment(x, epoch=3, batch=5)
    np.testing.assert_array_equal(Augmentation(crop_padding=2, horizontal_flip=True, seed=7)(x, 3, 5), first)
    for other in (augment(x, 3, 6), augment(x, 4, 5), Augmentation(crop_padding=2, horizontal_flip=True, seed=8)(x, 3, 5)):
        assert not np.array_equal(other, first)


@pytest.mark.parametrize("settings", [{}, {"crop_padding": 1}, {"horizontal_flip": True}])
def test_the_batch_given_is_left_as_it_was(settings) -> None:
    x = images()
    before = x.copy()
    out = Augmentation(**settings)(x, 0, 0)
    np.testing.assert_array_equal(x, before)
    if not settings:
        np.testing.assert_array_equal(out, x)
