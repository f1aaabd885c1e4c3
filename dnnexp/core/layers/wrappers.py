"""Layers that wrap a layer: `bidirectional` (course Day 3 §4) and `time_distributed`.

A wrapper takes the wrapped layer unbuilt (a spec writes it as a mapping, `layer: {type: lstm,
units: 64}`), builds it itself, and lists it in `wrapped`; its parameters are named after the part
they belong to ("forward.W_in", "dense1.W"), so a model names them "bidirectional1.forward.W_in".
"""

from __future__ import annotations

import copy
from typing import Literal

import numpy as np

from dnnexp.core.layers.base import BuildContext, Layer, ShapeError
from dnnexp.core.layers.recurrent import Recurrent


def _sequential():
    """The Sequential class, imported when first needed: its module imports this package."""
    from dnnexp.core.models.sequential import Sequential

    return Sequential


def _expose(wrapper: Layer, parts: dict[str, Layer]) -> None:
    """Make the parts' parameters, gradients and buffers the wrapper's own, as "<part>.<name>"."""
    wrapper.wrapped = parts
    for attribute in ("params", "grads", "buffers"):
        setattr(wrapper, attribute, {f"{key}.{k}": v for key, part in parts.items() for k, v in getattr(part, attribute).items()})
    wrapper.penalized = tuple(f"{key}.{k}" for key, part in parts.items() for k in part.penalized)


class Bidirectional(Layer):
    """A recurrent layer run forwards and a copy run backwards in time, their outputs merged.

    The backward copy reads x^T … x^1, so at each step t the two together have seen the whole
    sequence (course Day 3 §4). `merge: concat` joins the two outputs (2H features), `sum` adds
    them (H). Input (N, T, D); output (N, T, 2H or H) with the layer's `return_sequences`, else
    (N, 2H or H) from each direction's last step.
    """

    kind = "bidirectional"

    def __init__(self, layer: Layer | list[Layer], merge: Literal["concat", "sum"] = "concat"):
        super().__init__()
        self.layer, self.merge = layer, merge

    def compute_output_shape(self, input_shape):
        layers = self.layer if isinstance(self.layer, list) else [self.layer]
        if len(layers) != 1 or not isinstance(layers[0], Recurrent):
            raise ShapeError(f"bidirectional wraps one recurrent layer (simple_rnn, lstm, gru), not {layers[0].kind}")
        shape = layers[0].compute_output_shape(input_shape)
        return (*shape[:-1], 2 * shape[-1]) if self.merge == "concat" else shape

    def build(self, input_shape, ctx: BuildContext):
        shape = self.compute_output_shape(input_shape)
        # Two copies of the unbuilt layer, each to get weights of its own.
        parts = {"forward": copy.deepcopy(self.layer), "backward": copy.deepcopy(self.layer)}
        self.forward_layer, self.backward_layer = parts["forward"], parts["backward"]
        self.forward_layer.build(input_shape, ctx)
        self.backward_layer.build(input_shape, ctx)
        _expose(self, parts)
        return shape

    def forward(self, x, train=False):
        out_f = self.forward_layer.forward(x, train)
        out_b = self.backward_layer.forward(x[:, ::-1], train)
        if self.forward_layer.return_sequences:
            out_b = out_b[:, ::-1]  # back into input order: step t of both sits at t
        return np.concatenate([out_f, out_b], axis=-1) if self.merge == "concat" else out_f + out_b

    def backward(self, dout):
        if self.merge == "concat":
            dout_f, dout_b = np.split(dout, 2, axis=-1)
        else:
            dout_f = dout_b = dout
        if self.forward_layer.return_sequences:
            dout_b = dout_b[:, ::-1]
        for part in (self.forward_layer, self.backward_layer):
            part.needs_input_grad = self.needs_input_grad
        dx_f = self.forward_layer.backward(dout_f)
        dx_b = self.backward_layer.backward(dout_b)
        return None if dx_f is None else dx_f + dx_b[:, ::-1]


class TimeDistributed(Layer):
    """The wrapped layer applied to every time step alone, with one set of weights for all steps.

    (N, T, *step) is folded into (N·T, *step) for the wrapped layer and unfolded after, so e.g.
    `layer: {type: dense, units: 1, activation: sigmoid}` is the course's output layer
    y^t = g(W_(out) z^t + c) at every t. Input (N, T, *step); output (N, T, *layer output).
    """

    kind = "time_distributed"

    def __init__(self, layer: Layer | list[Layer]):
        super().__init__()
        self.layer = layer

    def compute_output_shape(self, input_shape):
        if len(input_shape) < 2:
            raise ShapeError(f"time_distributed takes sequences (T, …), got {tuple(input_shape)}")
        T, *step = input_shape
        self.inner = _sequential()(self.layer if isinstance(self.layer, list) else [self.layer], tuple(step))
        return (T, *self.inner.compute_output_shapes()[-1])

    def build(self, input_shape, ctx: BuildContext):
        shape = self.compute_output_shape(input_shape)
        self.inner.build(ctx=ctx)
        _expose(self, {layer.name: layer for layer in self.inner.layers})
        return shape

    def forward(self, x, train=False):
        N, T = x.shape[:2]
        y = self.inner.forward(x.reshape(N * T, *x.shape[2:]), train)
        return y.reshape(N, T, *y.shape[1:])

    def backward(self, dout):
        N, T = dout.shape[:2]
        self.inner.layers[0].needs_input_grad = self.needs_input_grad
        dx = self.inner.backward(dout.reshape(N * T, *dout.shape[2:]))
        return None if dx is None else dx.reshape(N, T, *dx.shape[1:])
