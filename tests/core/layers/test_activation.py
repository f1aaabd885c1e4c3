"""The activation layer: a registered activation function placed as a layer of its own."""

from __future__ import annotations

import pytest

from dnnexp.core.activations import LeakyReLU, ReLU
from dnnexp.spec.registry import UnknownNameError


def test_builds_the_named_activation(build_layer) -> None:
    assert isinstance(build_layer({"type": "activation", "activation": "relu"}, (3,)), ReLU)


def test_a_mapping_passes_the_activation_its_arguments(build_layer) -> None:
    layer = build_layer({"type": "activation", "activation": {"name": "leaky_relu", "alpha": 0.2}}, (3,))
    assert isinstance(layer, LeakyReLU) and layer.alpha == 0.2


def test_a_misspelt_activation_suggests_the_right_one(build_layer) -> None:
    with pytest.raises(UnknownNameError, match="did you mean 'relu'"):
        build_layer({"type": "activation", "activation": "rleu"}, (3,))
