"""Training-time augmentation of image batches: random crops of a zero-padded image, and mirror images.

Each training batch is changed on its own, from a random stream fixed by (seed, epoch, batch): the
same run always sees the same crops and flips, a resumed run sees exactly those the uninterrupted
one saw, and none of it touches the stream that orders the batches. Validation and test batches
are never augmented.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


@dataclass(frozen=True)
class Augmentation:
    """Random crop after `crop_padding` zero pixels on every side (the crop keeps the image's size,
    so the picture shifts by up to `crop_padding` pixels each way), then, with `horizontal_flip`,
    a left-right mirror of half the images. `seed` is the run's augmentation stream."""

    crop_padding: int = 0
    horizontal_flip: bool = False
    seed: int = 0

    def __call__(self, x: np.ndarray, epoch: int, batch: int) -> np.ndarray:
        """Images x (N, C, H, W) of training batch `batch` of `epoch` → augmented (N, C, H, W), new array."""
        rng = np.random.default_rng([self.seed, epoch, batch])
        N, C, H, W = x.shape
        if self.crop_padding:
            p = self.crop_padding
            padded = np.zeros((N, C, H + 2 * p, W + 2 * p), dtype=x.dtype)
            padded[:, :, p : p + H, p : p + W] = x
            top, left = rng.integers(0, 2 * p + 1, size=(2, N))
            # Every H×W crop of every padded image as a view (N, C, 2p+1, 2p+1, H, W); pick one per image.
            crops = sliding_window_view(padded, (H, W), axis=(2, 3))
            x = crops[np.arange(N), :, top, left]
        if self.horizontal_flip:
            flip = rng.random(N) < 0.5
            x = np.where(flip[:, None, None, None], x[..., ::-1], x)
        return x
