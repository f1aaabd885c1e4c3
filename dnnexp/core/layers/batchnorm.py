"""Batch normalization (course Day 2 §1): normalise each feature over the mini-batch, then scale."""

from __future__ import annotations

import numpy as np

from dnnexp.core.layers.base import BuildContext, Layer, ShapeError


class BatchNorm(Layer):
    """Batch normalization: x̂ = (x − μ_B) / √(σ²_B + eps), y = γ x̂ + β.

    Input (N, D) or images (N, C, H, W), normalised per feature D or per channel C. Training uses
    the batch's statistics and updates running averages; evaluation uses the running averages.
    """

    kind = "batchnorm"

    def __init__(self, momentum: float = 0.9, eps: float = 1e-5):
        super().__init__()
        self.momentum, self.eps = momentum, eps

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        if len(input_shape) not in (1, 3):
            raise ShapeError(f"batchnorm takes (D,) or (C, H, W) inputs, got {tuple(input_shape)}")
        return tuple(input_shape)

    def build(self, input_shape, ctx: BuildContext):
        output_shape = self.compute_output_shape(input_shape)
        features = input_shape[0]
        self.params = {"gamma": np.ones(features, ctx.dtype), "beta": np.zeros(features, ctx.dtype)}
        self.grads = {key: np.zeros_like(value) for key, value in self.params.items()}
        self.buffers = {"running_mean": np.zeros(features, ctx.dtype), "running_var": np.ones(features, ctx.dtype)}
        # Statistics are taken over every axis but the feature/channel axis 1.
        self.axes = (0,) if len(input_shape) == 1 else (0, 2, 3)
        self.bshape = (1, features) + (1,) * (len(input_shape) - 1)
        return output_shape

    def forward(self, x, train=False):
        if train:
            mean = x.mean(axis=self.axes)
            var = x.var(axis=self.axes)
            m = self.momentum
            self.buffers["running_mean"] *= m
            self.buffers["running_mean"] += (1 - m) * mean
            self.buffers["running_var"] *= m
            self.buffers["running_var"] += (1 - m) * var
        else:
            mean, var = self.buffers["running_mean"], self.buffers["running_var"]
        self.train = train
        self.inv_std = (1.0 / np.sqrt(var + self.eps)).reshape(self.bshape)
        self.xhat = (x - mean.reshape(self.bshape)) * self.inv_std
        return self.params["gamma"].reshape(self.bshape) * self.xhat + self.params["beta"].reshape(self.bshape)

    def backward(self, dout):
        self.grads["gamma"][...] = np.sum(dout * self.xhat, axis=self.axes)
        self.grads["beta"][...] = np.sum(dout, axis=self.axes)
        dxhat = dout * self.params["gamma"].reshape(self.bshape)
        if not self.train:  # running statistics are constants
            return dxhat * self.inv_std
        # μ and σ² depend on every sample of the batch, hence the two mean terms.
        mean_dxhat = dxhat.mean(axis=self.axes, keepdims=True)
        mean_dxhat_xhat = (dxhat * self.xhat).mean(axis=self.axes, keepdims=True)
        return self.inv_std * (dxhat - mean_dxhat - self.xhat * mean_dxhat_xhat)
