"""Flatten: images to vectors, between the convolutional part of a network and its dense part."""

from __future__ import annotations

import math

from dnnexp.core.layers.base import BuildContext, Layer


class Flatten(Layer):
    """(N, C, H, W) → (N, C·H·W), in C-order (channel, row, column), like Keras's Flatten on NCHW."""

    kind = "flatten"

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return (math.prod(input_shape),)

    def build(self, input_shape, ctx: BuildContext):
        self.input_shape = tuple(input_shape)
        return self.compute_output_shape(input_shape)

    def forward(self, x, train=False):
        return x.reshape(len(x), -1)

    def backward(self, dout):
        return dout.reshape(len(dout), *self.input_shape)
