"""Layers, one family a module; each registers itself in `LAYERS`."""

from dnnexp.core.layers import activation, batchnorm, dense, dropout  # noqa: F401  (registers them)
from dnnexp.core.layers.base import BuildContext, Layer, ShapeError

__all__ = ["BuildContext", "Layer", "ShapeError"]
