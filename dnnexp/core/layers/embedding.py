"""Embedding (course Day 3 §5–6): token ids looked up as rows of a learned matrix."""

from __future__ import annotations

import numpy as np

from dnnexp.core.initializers import initializer
from dnnexp.core.layers.base import BuildContext, InputError, Layer


class Embedding(Layer):
    """Token ids → vectors: out[n, t] = W[x[n, t]], W of shape (vocab_size, dim).

    The same as multiplying a one-hot row by W (word2vec's point: no vocab × vocab matrix), done as
    a lookup. Input int ids (N, T) (or any shape; float arrays of whole numbers are accepted);
    output (N, T, dim). Ids have no gradient, so backward only fills dW and returns None.
    """

    kind = "embedding"

    penalized = ("W",)

    def __init__(self, vocab_size: int, dim: int, init: str | dict = "uniform"):
        super().__init__()
        self.vocab_size, self.dim, self.init = vocab_size, dim, init
        self.needs_input_grad = False

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return (*input_shape, self.dim)

    def build(self, input_shape, ctx: BuildContext):
        output_shape = self.compute_output_shape(input_shape)
        self.params["W"] = initializer(self.init)((self.vocab_size, self.dim), self.vocab_size, self.dim, ctx.init_rng, ctx.dtype)
        self.grads["W"] = np.zeros_like(self.params["W"])
        return output_shape

    def forward(self, x, train=False):
        ids = np.asarray(x).astype(np.intp)
        if ids.size and (ids.min() < 0 or ids.max() >= self.vocab_size):
            raise InputError(
                f"token ids run from {ids.min()} to {ids.max()}, but vocab_size is {self.vocab_size}; "
                f"raise vocab_size to at least {ids.max() + 1}"
            )
        self.ids = ids
        return self.params["W"][ids]

    def backward(self, dout):
        dW = self.grads["W"]
        dW[...] = 0
        # A token that occurs several times gets the sum of its rows' gradients: add.at, not dW[ids] +=.
        np.add.at(dW, self.ids.ravel(), dout.reshape(-1, self.dim))
        return None
