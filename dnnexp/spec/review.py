"""What to tell a user about a valid spec: an unusual output/loss pairing, and how two specs differ."""

from __future__ import annotations

from typing import Any, Iterator

from dnnexp.registry import LOSSES
from dnnexp.spec.schema import ModelSection, OptimizerPathsSpec, Spec
from dnnexp.spec.yamlio import Path, dotted

#: the course's output-layer table (Day 1 §3)
USUAL_PAIRINGS = "regression → identity + mse; binary → sigmoid + binary_cross_entropy; multiclass → softmax + cross_entropy"

_ABSENT = object()


def diff_specs(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """The dotted paths at which two specs (plain data) differ, e.g. ['optimizer.lr']."""
    return [dotted(path) for path in _differences(a, b, ())]


def _differences(a: Any, b: Any, path: Path) -> Iterator[Path]:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in [*a, *(key for key in b if key not in a)]:
            yield from _differences(a.get(key, _ABSENT), b.get(key, _ABSENT), path + (key,))
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for index, (x, y) in enumerate(zip(a, b)):
            yield from _differences(x, y, path + (index,))
    elif a != b:
        yield path


def output_activation(layers: list[dict[str, Any]]) -> str:
    """The name of the activation a model's output passes through last ('identity' for none),
    looking inside a wrapper (`time_distributed`) at the layer it wraps."""
    activation = layers[-1].get("activation") if layers else None
    if activation is None:
        wrapped = layers[-1].get("layer") if layers else None
        return output_activation([wrapped]) if isinstance(wrapped, dict) else "identity"
    return activation if isinstance(activation, str) else activation["name"]


def pairing_warnings(spec: Spec | OptimizerPathsSpec) -> list[str]:
    """Warnings (not errors) for an output activation that the loss does not usually follow."""
    if not isinstance(spec, Spec) or not isinstance(spec.model, ModelSection):
        return []  # an encoder-decoder's softmax and cross-entropy are checked as an error
    usual = LOSSES.get(spec.loss).output_activation
    ends_in = output_activation(spec.model.layers)
    if ends_in == usual:
        return []
    return [
        f"model.layers[{len(spec.model.layers) - 1}]: the model's output activation is {ends_in}, but loss "
        f"{spec.loss} usually follows {usual}; the usual pairings are {USUAL_PAIRINGS}"
    ]
