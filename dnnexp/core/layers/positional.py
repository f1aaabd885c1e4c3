"""Sinusoidal positional encoding (Vaswani et al. 2017, §3.5): where each step of a sequence stands.

Attention is blind to order — permute the steps and each step's output is permuted the same
way — so the Transformer adds to each step's vector a pattern that says its position:

    PE[pos, 2i] = sin(pos / 10000^(2i/D)),    PE[pos, 2i+1] = cos(pos / 10000^(2i/D))

Each pair of features is a clock of its own wavelength, from 2π up to 10000·2π steps; PE[pos + k]
is a rotation of PE[pos] that depends on k alone, so relative positions are easy to read off.
"""

from __future__ import annotations

import numpy as np

from dnnexp.core.layers.base import BuildContext, Layer, ShapeError

#: the longest wavelength's scale, as in the paper
WAVELENGTH_BASE = 10000.0


def sinusoids(length: int, dim: int) -> np.ndarray:
    """The table PE (length, dim) above, in float64; an odd `dim` ends with a sine."""
    pairs = np.arange(dim) // 2
    angles = np.arange(length)[:, None] / WAVELENGTH_BASE ** (2 * pairs / dim)
    return np.where(np.arange(dim) % 2 == 0, np.sin(angles), np.cos(angles))


class PositionalEncoding(Layer):
    """Adds PE[t] to step t of every sequence: input (N, T, D), output (N, T, D); no parameters.

    Built for T steps, it also takes shorter sequences (the first steps of the table): a decoder
    writing one token at a time reads its first 1, 2, … steps.
    """

    kind = "positional_encoding"

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        if len(input_shape) != 2:
            raise ShapeError(f"positional_encoding takes sequences (T, D), got {tuple(input_shape)}")
        return tuple(input_shape)

    def build(self, input_shape, ctx: BuildContext):
        output_shape = self.compute_output_shape(input_shape)
        self.table = sinusoids(*input_shape).astype(ctx.dtype)
        return output_shape

    def forward(self, x, train=False):
        return x + self.table[: x.shape[1]]

    def backward(self, dout):
        return dout
