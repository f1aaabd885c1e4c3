"""Layer normalization (Ba et al. 2016): normalise each sample's features, as the Transformer does
after every sublayer."""

from __future__ import annotations

import numpy as np

from dnnexp.core.layers.base import BuildContext, Layer, ShapeError


class LayerNorm(Layer):
    """Layer normalization: x̂ = (x − μ) / √(σ² + eps) over the last axis of each sample (and step),
    y = γ x̂ + β.

    Unlike batch norm, μ and σ² are one sample's own (one step's, in a sequence), so training and
    evaluation compute the same thing and a batch of one is fine. Input (…, D), output (…, D);
    γ and β are (D,).
    """

    kind = "layer_norm"

    def __init__(self, eps: float = 1e-5):
        super().__init__()
        self.eps = eps

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        if len(input_shape) < 1:
            raise ShapeError("layer_norm takes features (D,) or sequences (T, D), got scalars")
        return tuple(input_shape)

    def build(self, input_shape, ctx: BuildContext):
        output_shape = self.compute_output_shape(input_shape)
        features = input_shape[-1]
        self.params = {"gamma": np.ones(features, ctx.dtype), "beta": np.zeros(features, ctx.dtype)}
        self.grads = {key: np.zeros_like(value) for key, value in self.params.items()}
        return output_shape

    def forward(self, x, train=False):
        mean = x.mean(axis=-1, keepdims=True)
        self.inv_std = 1.0 / np.sqrt(x.var(axis=-1, keepdims=True) + self.eps)
        self.xhat = (x - mean) * self.inv_std
        return self.params["gamma"] * self.xhat + self.params["beta"]

    def backward(self, dout):
        # γ and β are shared by every sample and step: their gradients sum over all axes but the last.
        outer = tuple(range(dout.ndim - 1))
        np.sum(dout * self.xhat, axis=outer, out=self.grads["gamma"])
        np.sum(dout, axis=outer, out=self.grads["beta"])
        dxhat = dout * self.params["gamma"]
        # batch norm's backward pass with the roles of the axes swapped: μ and σ² depend on every feature.
        mean_dxhat = dxhat.mean(axis=-1, keepdims=True)
        mean_dxhat_xhat = (dxhat * self.xhat).mean(axis=-1, keepdims=True)
        return self.inv_std * (dxhat - mean_dxhat - self.xhat * mean_dxhat_xhat)
