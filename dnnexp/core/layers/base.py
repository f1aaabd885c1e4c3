"""The layer protocol: forward and backward side by side, parameters and gradients in dicts."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


class ShapeError(ValueError):
    """A layer that cannot take the shape its predecessor produces, or a model that does not fit
    its data.

    `index` is the layer's position in the spec's layer list, so the config layer can say
    `model.layers[3] (maxpool2d): ...`; `key` names the model's argument at fault instead
    (`input_shape`), where it is one.
    """

    def __init__(self, message: str, index: int | None = None, layer_type: str | None = None, key: str | None = None):
        super().__init__(message)
        self.index, self.layer_type, self.key = index, layer_type, key


class InputError(ValueError):
    """Data that a built layer cannot take, such as token ids beyond an embedding's vocabulary.

    `index` and `layer_type` say which layer, as for ShapeError.
    """

    def __init__(self, message: str, index: int | None = None, layer_type: str | None = None):
        super().__init__(message)
        self.index, self.layer_type = index, layer_type


@dataclass
class BuildContext:
    """What a layer needs to create its parameters: the random streams and the float type."""

    init_rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(0))
    noise_rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(1))
    dtype: type = np.float32


class Layer:
    """Base layer. Subclasses fill `params` in `build` and `grads` in `backward`.

    `params` and `grads` share keys (`W`, `b`, …); optimizers update `params` in place, so a
    layer must never rebind a parameter array, only write into it. `buffers` holds state that
    is saved in checkpoints but not trained (batch norm's running mean and variance).
    """

    #: parameters that weight penalties (L1, L2) apply to; biases and γ/β are left alone
    penalized: tuple[str, ...] = ()
    #: the name a spec gives this layer type (see dnnexp.core.kinds); names it in summaries
    kind: str = "layer"

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}
        #: False for the first layer of a model: its input gradient is never used, so skip it
        self.needs_input_grad = True

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """The output shape for inputs of `input_shape`, both without the batch axis.

        Worked out from the layer's settings alone, so that a spec can be checked before any
        weights exist: it needs no `build` and makes no arrays. Raises ShapeError for an input
        shape the layer cannot take. The default keeps the shape (activations, dropout).
        """
        return tuple(input_shape)

    def build(self, input_shape: tuple[int, ...], ctx: BuildContext) -> tuple[int, ...]:
        """Create parameters for inputs of `input_shape` (no batch axis); return the output shape.

        Subclasses call `compute_output_shape` first: the shape rules live there, once, and a
        shape that does not fit is refused before anything is allocated.
        """
        return self.compute_output_shape(input_shape)

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dout: np.ndarray) -> np.ndarray:
        raise NotImplementedError

