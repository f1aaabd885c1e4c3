"""The `activation` layer: any registered activation function placed as a layer of its own."""

from __future__ import annotations

from dnnexp.core.layers.base import Layer
from dnnexp.registry import ACTIVATIONS, LAYERS


@LAYERS.register("activation")
def activation(activation: str | dict) -> Layer:
    """An activation function as a layer, e.g. {type: activation, activation: relu}."""
    return ACTIVATIONS.build(activation)
