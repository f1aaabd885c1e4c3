"""Pooling layers (course Day 2 §4): the largest or the mean value of each window, and the mean of
each whole channel."""

from __future__ import annotations

import numpy as np

from dnnexp.core import parallel
from dnnexp.core.layers.base import BuildContext, Layer, ShapeError
from dnnexp.core.layers.im2col import Padding, Pair, Window, col2im_reference, pair


class Pool2D(Layer):
    """Shared by max and average pooling: the window over each channel, no parameters.

    Input (N, C, H, W), output (N, C, OH, OW) with OH = (H + 2p − f_h)/s + 1; the stride defaults
    to the pool size (windows side by side, as in Keras).
    """

    def __init__(
        self,
        pool_size: Pair = 2,
        stride: Pair | None = None,
        padding: Padding = "valid",
        drop_remainder: bool = False,
    ):
        super().__init__()
        self.pool_size, self.stride, self.padding, self.drop_remainder = pool_size, stride, padding, drop_remainder

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        window = self._window(input_shape)
        return (input_shape[0], *window.out_size)

    def build(self, input_shape, ctx: BuildContext):
        output_shape = self.compute_output_shape(input_shape)
        self.window = self._window(input_shape)
        return output_shape

    def _window(self, input_shape: tuple[int, ...]) -> Window:
        """The pool's positions over inputs (C, H, W); ShapeError where they do not fit."""
        stride = self.pool_size if self.stride is None else self.stride
        if not isinstance(self.padding, str) and any(2 * p > f for p, f in zip(pair(self.padding), pair(self.pool_size))):
            raise ShapeError(
                f"padding {self.padding} is more than half the pool {self.pool_size}: windows at the edge would "
                "hold padding only; lower the padding"
            )
        return Window.plan(input_shape, self.pool_size, stride, self.padding, "pool", self.drop_remainder)


class MaxPool2D(Pool2D):
    """Max pooling: the largest value in each window; the gradient goes to that element only.

    Padding is −∞, so it is never the maximum. Where a window holds its maximum twice, the first
    in row-major order takes the gradient, as an argmax would. The backward pass in the course's
    form: `backward_reference`.
    """

    kind = "maxpool2d"

    def forward(self, x, train=False):
        self.xp = self.window.pad(x, fill=-np.inf)
        slices = [self.xp[index] for *_, index in self.window.offsets()]
        self.out = np.empty_like(slices[0])  # keeps the input's memory layout

        def samples(part: slice) -> None:  # a part of the batch: the two halves of a large one side by side
            out = self.out[part]
            np.copyto(out, slices[0][part])
            for other in slices[1:]:
                np.maximum(out, other[part], out=out)

        parallel.split(samples, len(x), len(slices) * parallel.PASS * self.out.size, exact=True)
        return self.out

    def backward(self, dout):
        # Windows side by side over the whole input write each element of dx once: no zeros first.
        window = self.window
        sizes = zip(window.out_size, window.stride, window.size, self.xp.shape[2:])
        tiled = all(s == f and o * f == n for o, s, f, n in sizes)
        dxp = np.empty_like(self.xp) if tiled else np.zeros_like(self.xp)
        # Everything laid out in memory as `out` (channels-last after a convolution), so that the
        # passes below never mix memory orders, which would make them several times slower.
        unclaimed = np.empty_like(self.out, dtype=bool)  # windows whose maximum no offset before took
        winner = np.empty_like(unclaimed)
        aligned = dout if dout.strides == self.out.strides else np.empty_like(self.out)
        offsets = [index for *_, index in self.window.offsets()]

        def samples(part: slice) -> None:
            if aligned is not dout:
                aligned[part] = dout[part]
            for k, index in enumerate(offsets):
                np.equal(self.xp[index][part], self.out[part], out=winner[part])
                if k == 0:  # every window still unclaimed: the first offset wins where it is the maximum
                    np.logical_not(winner[part], out=unclaimed[part])
                else:
                    winner[part] &= unclaimed[part]
                    if k < len(offsets) - 1:  # after the last offset no window is left to claim
                        unclaimed[part] ^= winner[part]
                if self.window.overlaps:
                    dxp[index][part] += aligned[part] * winner[part]
                else:  # each input element is in one window: write, no need to add
                    np.multiply(aligned[part], winner[part], out=dxp[index][part])

        parallel.split(samples, len(dout), 5 * self.window.size[0] * self.window.size[1] * parallel.PASS * dout.size, exact=True)
        return self.window.unpad(dxp)

    def backward_reference(self, dout: np.ndarray) -> np.ndarray:
        """The backward pass as the course writes it (deep-learning-from-scratch's Pooling): the
        reference `backward` is tested against. dx starts at zero; each window's dout is written at
        that window's argmax, the first maximum in row-major order (the ties of `backward`); then
        col2im adds the windows back onto the image, summing where they overlap.
        """
        N, C, OH, OW = dout.shape
        fh, fw = self.window.size
        windows = self.window.windows(self.xp)  # (N, C, OH, OW, f_h, f_w) of the −∞-padded input
        arg_max = windows.reshape(-1, fh * fw).argmax(axis=1)  # one row per (n, c, i, j)
        dmax = np.zeros((dout.size, fh * fw), dout.dtype)
        dmax[np.arange(arg_max.size), arg_max] = dout.ravel()
        dcol = dmax.reshape(N, C, OH, OW, fh, fw).transpose(0, 2, 3, 4, 5, 1).reshape(N * OH * OW, -1)
        return col2im_reference(dcol, self.window, (N, C, *self.window.in_size))


class AvgPool2D(Pool2D):
    """Average pooling: the mean of each window.

    Each element gets dout / (f_h·f_w) from each window it is in. Padding counts as zeros in the
    mean (PyTorch's default; Keras leaves padding out of the count).
    """

    kind = "avgpool2d"

    def forward(self, x, train=False):
        self.x_shape = x.shape
        xp = self.window.pad(x)
        out = np.zeros((len(x), x.shape[1], *self.window.out_size), dtype=x.dtype)
        for *_, index in self.window.offsets():
            out += xp[index]
        out *= 1.0 / (self.window.size[0] * self.window.size[1])
        return out

    def backward(self, dout):
        dxp = np.zeros(self.window.padded_shape(self.x_shape), dtype=dout.dtype)
        share = dout * (1.0 / (self.window.size[0] * self.window.size[1]))
        for *_, index in self.window.offsets():
            dxp[index] += share
        return self.window.unpad(dxp)


class GlobalAvgPool2D(Layer):
    """Global average pooling: each channel's mean over the whole image, (N, C, H, W) → (N, C)."""

    kind = "global_avg_pool2d"

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        if len(input_shape) != 3:
            raise ShapeError(f"takes images (C, H, W), got {tuple(input_shape)}")
        return (input_shape[0],)

    def build(self, input_shape, ctx: BuildContext):
        output_shape = self.compute_output_shape(input_shape)
        self.area = input_shape[1] * input_shape[2]
        return output_shape

    def forward(self, x, train=False):
        self.x_shape = x.shape
        return x.mean(axis=(2, 3))

    def backward(self, dout):
        dx = np.empty(self.x_shape, dtype=dout.dtype)
        dx[...] = (dout * (1.0 / self.area))[:, :, None, None]
        return dx
