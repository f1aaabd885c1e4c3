"""Convolution layer (course Day 2 §4): filters slide over the image; at each position, the sum of
element-wise products plus a bias."""

from __future__ import annotations

import numpy as np

from dnnexp.core import parallel
from dnnexp.core.functions import batch_sum
from dnnexp.core.initializers import initializer
from dnnexp.core.layers.base import BuildContext, Layer
from dnnexp.core.layers.im2col import Padding, Pair, Window, col2im, col2im_reference, im2col


class Conv2D(Layer):
    """2-D convolution: out[n, f] = Σ_c W[f, c] ⋆ x[n, c] + b[f], with padding and stride.

    Input (N, C, H, W), output (N, filters, OH, OW) with OH = (H + 2p − f_h)/s + 1 (likewise OW);
    W is (filters, C, f_h, f_w), b is (filters,). With the input unrolled by im2col into
    col (N·OH·OW, f_h·f_w·C), the whole layer is one matrix product: out = col @ W_colᵀ + b, where
    W_col is W with its axes in im2col's order, (filters, f_h·f_w·C). The backward pass in the
    course's form: `conv2d_backward_reference`.
    """

    kind = "conv2d"

    penalized = ("W",)

    def __init__(
        self,
        filters: int,
        kernel_size: Pair,
        stride: Pair = 1,
        padding: Padding = "valid",
        use_bias: bool = True,
        init: str | dict = "xavier_normal",
        drop_remainder: bool = False,
    ):
        super().__init__()
        self.filters, self.kernel_size, self.stride, self.padding = filters, kernel_size, stride, padding
        self.use_bias, self.init, self.drop_remainder = use_bias, init, drop_remainder

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return (self.filters, *self._window(input_shape).out_size)

    def build(self, input_shape, ctx: BuildContext):
        output_shape = self.compute_output_shape(input_shape)
        self.window = self._window(input_shape)
        channels, (fh, fw) = input_shape[0], self.window.size
        # Each output sees C·f_h·f_w inputs; each input feeds filters·f_h·f_w outputs (as Keras counts).
        shape, fan_in, fan_out = (self.filters, channels, fh, fw), channels * fh * fw, self.filters * fh * fw
        self.params["W"] = initializer(self.init)(shape, fan_in, fan_out, ctx.init_rng, ctx.dtype)
        if self.use_bias:
            self.params["b"] = np.zeros(self.filters, dtype=ctx.dtype)
        self.grads = {key: np.zeros_like(value) for key, value in self.params.items()}
        return output_shape

    def _window(self, input_shape: tuple[int, ...]) -> Window:
        """The kernel's positions over inputs (C, H, W); ShapeError where they do not fit."""
        return Window.plan(input_shape, self.kernel_size, self.stride, self.padding, "kernel", self.drop_remainder)

    def forward(self, x, train=False):
        self.x_shape = x.shape
        W_col = self.params["W"].transpose(0, 2, 3, 1).reshape(self.filters, -1).T  # (f_h·f_w·C, filters)
        per_sample = self.window.out_size[0] * self.window.out_size[1]
        # (N·OH·OW, f_h·f_w·C), kept for the weight gradient
        self.col = np.empty((len(x) * per_sample, len(W_col)), x.dtype)
        out = np.empty((len(self.col), self.filters), x.dtype)  # (N·OH·OW, filters)
        # The bias of all a sample's outputs, filters innermost: added a sample at a time, NumPy's
        # loop runs that long, not `filters` long (0.2 against 0.7 ms for a batch of 100 images).
        bias = np.tile(self.params["b"], per_sample) if self.use_bias else None

        def samples(part: slice) -> None:  # a part of the batch: the two halves of a large one side by side
            rows = slice(part.start * per_sample, part.stop * per_sample)
            im2col(x[part], self.window, out=self.col[rows])
            np.matmul(self.col[rows], W_col, out=out[rows])
            if bias is not None:
                by_sample = out[rows].reshape(part.stop - part.start, -1)
                np.add(by_sample, bias, out=by_sample)

        parallel.split(samples, len(x), self.col.size * (self.filters + parallel.PASS))
        # Axes (N, filters, OH, OW); in memory channels-last, as the next im2col wants it.
        return out.reshape(len(x), *self.window.out_size, self.filters).transpose(0, 3, 1, 2)

    def backward(self, dout):
        dout = dout.transpose(0, 2, 3, 1).reshape(-1, self.filters)  # (N·OH·OW, filters), like out
        F, C, fh, fw = self.params["W"].shape
        # Its last use: let the im2col matrix go once the weight gradient is done, not when the
        # next forward pass has made its own.
        col, self.col = self.col, None

        def shares(rows: slice) -> tuple[np.ndarray, np.ndarray]:  # of some rows (samples) of the batch
            return dout[rows].T @ col[rows], batch_sum(dout[rows])

        def weight_grads() -> None:
            # Summed over the batch: a large one's halves side by side (core/parallel.py). A pass over
            # col besides the multiply-adds: with so few filters, the product is bound by reading col.
            dW_col, db = parallel.summed(shares, len(dout), col.size * (F + parallel.PASS))
            self.grads["W"][...] = dW_col.reshape(F, fh, fw, C).transpose(0, 3, 1, 2)
            if self.use_bias:
                self.grads["b"][...] = db

        if not self.needs_input_grad:
            weight_grads()
            return None
        # Not needed before the update: on another lane while the input gradient is made.
        parallel.later(weight_grads, col.size * F)
        # dcol = dout @ W_col, one kernel offset's C columns at a time: (N·OH·OW, filters) @ (filters, C).
        W = self.params["W"]
        return col2im(lambda i, j: dout @ W[:, :, i, j], self.window, self.x_shape, dout.dtype)


def conv2d_backward_reference(
    x: np.ndarray, W: np.ndarray, dout: np.ndarray, window: Window
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Conv2D's backward pass as deep-learning-from-scratch writes it: the reference the fast one
    is tested against. Returns (dx, dW, db) for input x (N, C, H, W), filters W (F, C, f_h, f_w)
    and dout (N, F, OH, OW); with col = im2col(x) and the filters as columns W_col (f_h·f_w·C, F),

        dW_col = colᵀ dout      db = Σ dout      dcol = dout W_colᵀ      dx = col2im(dcol)

    dcol (N·OH·OW, f_h·f_w·C) made whole, then folded back by `col2im_reference` (the fast path
    makes one kernel offset's C columns of it at a time).
    """
    F, C, fh, fw = W.shape
    dout = dout.transpose(0, 2, 3, 1).reshape(-1, F)
    col, col_W = im2col(x, window), W.transpose(0, 2, 3, 1).reshape(F, -1).T
    dW = (col.T @ dout).T.reshape(F, fh, fw, C).transpose(0, 3, 1, 2)
    db = np.sum(dout, axis=0)
    dcol = dout @ col_W.T
    return col2im_reference(dcol, window, x.shape), dW, db
