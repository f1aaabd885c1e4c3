"""Models: what the trainer drives (`Model`), and Sequential, a model built from a spec's list of layers."""

from __future__ import annotations

import inspect
from collections import Counter
from typing import Any

import numpy as np

from dnnexp.core.activations import Activation
from dnnexp.core.layers.base import BuildContext, Layer, ShapeError
from dnnexp.core.losses import Loss, accuracy
from dnnexp.registry import ACTIVATIONS, LAYERS, MODELS


class Model:
    """What the trainer drives, whatever the model's shape: Sequential here, and the
    encoder-decoders of dnnexp.core.seq2seq and dnnexp.core.hred built from Sequential parts.

    A model has
    - `params` and `grads`: flat dicts of its layers' own arrays by name ("dense1.W",
      "encoder.lstm1.W_in"), written in place, so optimizers may keep them; `penalized`: the names
      weight penalties apply to;
    - `layers`: every layer, each with a unique `name`, for per-layer statistics; with
      `keep_outputs` set, each pass leaves a layer's output in `outputs` and the gradient
      reaching it in `output_grads`, keyed by that name;
    - `forward_loss(x, t, loss, train)` → (loss value, output y) and `backward_loss(loss)`;
    - `metric_names(task, train)` and `batch_metrics(...)`: what metrics.csv logs besides the loss.
    """

    input_shape: tuple[int, ...]
    layers: list[Layer]
    params: dict[str, np.ndarray]
    grads: dict[str, np.ndarray]
    penalized: list[str]

    @property
    def buffers(self) -> dict[str, np.ndarray]:
        return {f"{l.name}.{k}": v for l in self.layers for k, v in l.buffers.items()}

    def forward_loss(self, x: np.ndarray, t: np.ndarray, loss: Loss, train: bool = False) -> tuple[float, np.ndarray]:
        """Forward pass and loss; returns (loss value, model output y)."""
        raise NotImplementedError

    def backward_loss(self, loss: Loss) -> None:
        """Backward pass from the loss of the last `forward_loss`, filling `grads`."""
        raise NotImplementedError

    def metric_names(self, task: str, train: bool) -> tuple[str, ...]:
        """The metrics `batch_metrics` returns, in training (`train`) or evaluation: accuracy for
        classification. metrics.csv gets a column "<split>_<name>" for each."""
        return () if task == "regression" else ("acc",)

    def batch_metrics(self, x: np.ndarray, t: np.ndarray, y: np.ndarray, task: str, train: bool) -> dict[str, float]:
        """The batch's mean of each metric in `metric_names`, for the output y of the last
        `forward_loss` on (x, t)."""
        return {} if task == "regression" else {"acc": accuracy(y, t, task)}

    def summary_rows(self) -> list[tuple[str, str, tuple[int, ...], int]]:
        """(name, kind, output shape, parameter count) per layer, as Keras's model.summary()."""
        raise NotImplementedError

    def count_params(self) -> int:
        return sum(p.size for p in self.params.values())

    def state_arrays(self) -> dict[str, np.ndarray]:
        """Parameters and buffers by name: what a checkpoint stores of the model."""
        return {**self.params, **self.buffers}

    def load_state_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        """Copy saved arrays into the model's own (shapes must match)."""
        own = self.state_arrays()
        missing = sorted(set(own) - set(arrays))
        if missing:
            raise KeyError(f"saved state lacks {', '.join(missing)}")
        for key, target in own.items():
            if arrays[key].shape != target.shape:
                raise ValueError(f"{key}: saved shape {arrays[key].shape}, model has {target.shape}")
            target[...] = arrays[key]


@MODELS.register("sequential")
class Sequential(Model):
    """A stack of layers applied in order: the default kind, `model: {layers: [...]}`.

    Parameters are named "<layer>.<param>" (e.g. "dense1.W"). Built from plain mappings, as a
    spec writes them::

        Sequential.from_spec((784,), [{"type": "dense", "units": 10, "activation": "softmax"}])

    A layer mapping's `activation` key becomes an activation layer of its own right after it.
    As a part of a larger model, `prefix` goes before every layer's name ("encoder.lstm1"), and
    `needs_input_grad` makes backward return dL/dx (a model's own first layer skips it).
    """

    def __init__(
        self,
        input_shape: tuple[int, ...],
        layers: list[Layer],
        ctx: BuildContext | None = None,
        prefix: str = "",
        needs_input_grad: bool = False,
    ):
        self.input_shape = tuple(input_shape)
        self.layers = layers
        ctx = ctx or BuildContext()
        shape = self.input_shape
        self.output_shapes: list[tuple[int, ...]] = []
        for layer in layers:
            try:
                shape = tuple(layer.build(shape, ctx))
            except ShapeError as error:
                error.index = getattr(layer, "spec_index", None) if error.index is None else error.index
                error.layer_type = error.layer_type or layer.kind
                raise
            if any(size <= 0 for size in shape):
                raise ShapeError(f"output shape {shape} is empty", getattr(layer, "spec_index", None), layer.kind)
            self.output_shapes.append(shape)
        counts: Counter[str] = Counter()
        for layer in layers:
            counts[layer.kind] += 1
            layer.name = f"{prefix}{layer.kind}{counts[layer.kind]}"
        if layers:
            layers[0].needs_input_grad = needs_input_grad
        # Layers update params and grads in place, so these flat views stay valid for the whole run.
        self.params = {f"{l.name}.{k}": v for l in layers for k, v in l.params.items()}
        self.grads = {f"{l.name}.{k}": v for l in layers for k, v in l.grads.items()}
        self.penalized = [f"{l.name}.{k}" for l in layers for k in l.penalized]
        self.keep_outputs = False
        self.outputs: dict[str, np.ndarray] = {}
        self.output_grads: dict[str, np.ndarray] = {}
        self._fused = False

    @classmethod
    def from_spec(
        cls,
        input_shape: tuple[int, ...],
        layers: list[dict[str, Any]],
        rng: np.random.Generator | None = None,
        noise_rng: np.random.Generator | None = None,
        dtype: type = np.float32,
    ) -> "Sequential":
        """Build from layer mappings; `rng` draws the initial weights, `noise_rng` the dropout masks."""
        ctx = BuildContext(
            init_rng=rng if rng is not None else np.random.default_rng(0),
            noise_rng=noise_rng if noise_rng is not None else np.random.default_rng(1),
            dtype=dtype,
        )
        return cls(input_shape, layers_from_spec(layers), ctx)

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

    def _forward(self, layers: list[Layer], x: np.ndarray, train: bool) -> np.ndarray:
        for layer in layers:
            x = layer.forward(x, train)
            if self.keep_outputs:
                self.outputs[layer.name] = x
        return x

    def _backward(self, layers: list[Layer], dout: np.ndarray) -> np.ndarray | None:
        for layer in reversed(layers):
            if self.keep_outputs:
                self.output_grads[layer.name] = dout
            dout = layer.backward(dout)
        return dout

    def fuses(self, loss: Loss) -> bool:
        """Whether the model ends in the loss's output activation, so the two run fused."""
        head = self.layers[-1] if self.layers else None
        return isinstance(head, Activation) and head.kind == loss.output_activation

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


def layers_from_spec(layers: list[dict[str, Any]]) -> list[Layer]:
    """Unbuilt layers from layer mappings, each tagged with its index in the list (`spec_index`).

    A mapping's `activation` key becomes an activation layer of its own right after it, unless
    the layer takes `activation` itself (simple_rnn's nonlinearity inside the recurrence).
    """
    built: list[Layer] = []
    for index, spec in enumerate(layers):
        args = dict(spec)
        kind = args.pop("type")
        implementation = LAYERS.get(kind)
        own = "activation" in inspect.signature(implementation).parameters
        activation = None if own else args.pop("activation", None)
        layer = implementation(**args)
        layer.kind = activation_name(args["activation"]) if kind == "activation" else kind
        built.append(layer)
        if activation is not None:
            built.append(ACTIVATIONS.build(activation))
            built[-1].kind = activation_name(activation)
        for item in built[-2 if activation is not None else -1 :]:
            item.spec_index = index
    return built


def activation_name(spec: str | dict[str, Any]) -> str:
    """The name in an activation spec: `relu` or `{name: leaky_relu, alpha: 0.2}`."""
    return spec if isinstance(spec, str) else spec["name"]
