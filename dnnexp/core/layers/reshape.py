"""Flatten: images to vectors, between the convolutional part of a network and its dense part."""

from __future__ import annotations

import math

import numpy as np

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
        # The input's axes from the slowest-varying in memory to the fastest (channels-last after a
        # convolution): dx goes back laid out so, since the passes below it run several times
        # slower on arrays of mixed memory orders.
        self.memory_order = tuple(int(axis) for axis in np.argsort([-stride for stride in x.strides], kind="stable"))
        return x.reshape(len(x), -1)

    def backward(self, dout):
        dx = dout.reshape(len(dout), *self.input_shape)
        if self.memory_order == tuple(range(dx.ndim)):
            return dx
        laid_out = np.empty([dx.shape[axis] for axis in self.memory_order], dx.dtype).transpose(np.argsort(self.memory_order))
        laid_out[...] = dx
        return laid_out
