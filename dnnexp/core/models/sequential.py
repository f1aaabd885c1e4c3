"""Sequential: the default model kind, a stack of layers applied in order."""

from __future__ import annotations

from collections import Counter
from typing import Callable

import numpy as np

from dnnexp.core import flat, parallel
from dnnexp.core.activations import Activation, ReLU
from dnnexp.core.layers.base import BuildContext, InputError, Layer, ShapeError
from dnnexp.core.layers.pool import MaxPool2D
from dnnexp.core.losses import Loss
from dnnexp.core.models.base import DataInfo, Model


class Sequential(Model):
    """A stack of layers applied in order: the default kind, `model: {layers: [...]}`.

    Parameters are named "<layer>.<param>" (e.g. "dense1.W")::

        model = Sequential([Dense(10), Softmax()], input_shape=(784,)).build()

    As a part of a larger model, `prefix` goes before every layer's name ("encoder.lstm1"), and
    `needs_input_grad` makes backward return dL/dx (a model's own first layer skips it).

    The layers run in the order written, but for one swap that changes no number: a ReLU followed
    by max pooling runs after it (`_running_order`).
    """

    kind = "sequential"

    def __init__(
        self,
        layers: list[Layer],
        input_shape: tuple[int, ...] | None = None,
        prefix: str = "",
        needs_input_grad: bool = False,
    ):
        self.layers = layers
        self.input_shape = None if input_shape is None else tuple(input_shape)
        counts: Counter[str] = Counter()
        for layer in layers:
            counts[layer.kind] += 1
            layer.name = f"{prefix}{layer.kind}{counts[layer.kind]}"
        if layers:
            layers[0].needs_input_grad = needs_input_grad
        self.keep_outputs = False
        self.outputs: dict[str, np.ndarray] = {}
        self.output_grads: dict[str, np.ndarray] = {}
        self._fused = False

    def compute_output_shapes(self, input_shape: tuple[int, ...] | None = None) -> list[tuple[int, ...]]:
        """Each layer's output shape for samples of `input_shape` (default: the model's), from the
        shapes alone: no weights are made. Raises ShapeError, with the failing layer's
        `spec_index`, where a layer cannot take its predecessor's output."""
        return self._pass(input_shape or self.input_shape, lambda layer, shape: layer.compute_output_shape(shape))

    def build(self, info: DataInfo | None = None, ctx: BuildContext | None = None) -> Sequential:
        """Create every layer's parameters, for samples of `input_shape` or else of the data's;
        raises ShapeError as `compute_output_shapes` does, and where the model does not fit the
        data `info` describes. Returns the model."""
        if info is not None:
            self._check_input(info)
        ctx = ctx or BuildContext()
        self.output_shapes = self._pass(self.input_shape, lambda layer, shape: layer.build(shape, ctx))
        flat.pack(self.layers)  # one array of parameters, one of gradients: an optimizer steps them at once
        # Layers update params and grads in place, so these dicts of their arrays stay valid for the whole run.
        self.params = {f"{l.name}.{k}": v for l in self.layers for k, v in l.params.items()}
        self.grads = {f"{l.name}.{k}": v for l in self.layers for k, v in l.grads.items()}
        self.penalized = [f"{l.name}.{k}" for l in self.layers for k in l.penalized]
        if info is not None:
            self._check_output(info)
        return self

    def _check_input(self, info: DataInfo) -> None:
        if self.input_shape is None:
            self.input_shape = info.input_shape
        elif self.input_shape != info.input_shape:
            hint = (
                " set data.flatten: true for dense networks (data.sequence: true for recurrent ones),"
                if len(info.input_shape) > 1
                else " set data.flatten: false for convolutional networks," if len(self.input_shape) == 3 else ""
            )
            raise ShapeError(
                f"{list(self.input_shape)} does not match the data's sample shape {list(info.input_shape)};"
                f"{hint} or change model.input_shape", key="input_shape",
            )

    def _check_output(self, info: DataInfo) -> None:
        if info.task == "multiclass" and info.target_shape:
            raise ShapeError(
                f"the targets are sequences of {info.target_shape[0]} tokens, which a stack of layers does not "
                "write one at a time; use an encoder-decoder (model.kind: seq2seq)", key="kind",
            )
        out = int(np.prod(self.output_shape))
        if out != info.num_outputs:
            raise ShapeError(
                f"the model ends with {out} outputs, but the data has {info.num_outputs} targets per sample; "
                f"set the last layer's units to {info.num_outputs}", key="layers[-1]",
            )

    def _pass(self, shape: tuple[int, ...], step: Callable[[Layer, tuple[int, ...]], tuple[int, ...]]) -> list[tuple[int, ...]]:
        """The shapes after each layer as `step` (shape-only, or building) gives them."""
        shapes = []
        for layer in self.layers:
            try:
                shape = tuple(step(layer, shape))
            except ShapeError as error:
                error.index = getattr(layer, "spec_index", None) if error.index is None else error.index
                error.layer_type = error.layer_type or layer.kind
                raise
            if any(size <= 0 for size in shape):
                raise ShapeError(f"output shape {shape} is empty", getattr(layer, "spec_index", None), layer.kind)
            shapes.append(shape)
        return shapes

    @property
    def output_shape(self) -> tuple[int, ...]:
        return self.output_shapes[-1] if self.layers else self.input_shape

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        """x: (N, *input_shape) → (N, *output_shape)."""
        return self._forward(self.layers, x, train)

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        """dout: dL/dy for the last forward's output; fills `grads`, returns dL/dx (None when the
        first layer skips it)."""
        return self._backward(self.layers, dout)

    def _running_order(self, layers: list[Layer]) -> list[Layer]:
        """The layers in the order they run: as written, except that a ReLU followed by max pooling
        runs after it, on the pooled output (a quarter of the numbers for 2×2 windows). The two
        commute: max(relu(x)) = relu(max(x)), and the gradient reaches the same elements, since a
        window's largest input is positive exactly where its largest ReLU output is; where none is,
        both give the window nothing. Not while outputs are kept: each layer's output then is what
        the spec says it is."""
        order = list(layers)
        if self.keep_outputs:
            return order
        for i in range(len(order) - 1):
            if type(order[i]) is ReLU and type(order[i + 1]) is MaxPool2D:
                order[i], order[i + 1] = order[i + 1], order[i]
        return order

    def _forward(self, layers: list[Layer], x: np.ndarray, train: bool) -> np.ndarray:
        for layer in self._running_order(layers):
            try:
                x = layer.forward(x, train)
            except InputError as error:
                error.index, error.layer_type = getattr(layer, "spec_index", None), layer.kind
                raise
            if self.keep_outputs:
                self.outputs[layer.name] = x
        return x

    def _backward(self, layers: list[Layer], dout: np.ndarray) -> np.ndarray | None:
        # Weight gradients may finish on another lane while the layers below run; all are done
        # when this returns (core/parallel.py).
        with parallel.deferring():
            for layer in reversed(self._running_order(layers)):
                if self.keep_outputs:
                    self.output_grads[layer.name] = dout
                dout = layer.backward(dout)
        return dout

    @property
    def output_activation(self) -> str:
        """The name of the activation the output passes through last ('identity' for none),
        looking inside a wrapper (time_distributed) at the layers it wraps."""
        head = self.layers[-1] if self.layers else None
        inner = getattr(head, "inner", None)
        if isinstance(inner, Sequential):
            return inner.output_activation
        return head.kind if isinstance(head, Activation) else "identity"

    def fuses(self, loss: Loss) -> bool:
        """Whether the model ends in the loss's output activation, so the two run fused."""
        return isinstance(self.layers[-1], Activation) and self.output_activation == loss.output_activation

    def forward_loss(self, x, t, loss, train=False):
        self._fused = self.fuses(loss)
        if not self._fused:
            y = self.forward(x, train)
            return loss.forward(y, t), y
        u = self._forward(self.layers[:-1], x, train)
        y = self._forward(self.layers[-1:], u, train)
        return loss.forward_logits(u, t), y

    def backward_loss(self, loss):
        if self._fused:
            self._backward(self.layers[:-1], loss.backward_logits())
        else:
            self._backward(self.layers, loss.backward())

    def summary_rows(self):
        return [
            (layer.name, layer.kind, shape, sum(p.size for p in layer.params.values()))
            for layer, shape in zip(self.layers, self.output_shapes)
        ]
