"""Layers, one family a module; each registers itself in `LAYERS`."""

from dnnexp.core.layers import (  # noqa: F401  (registers them)
    activation,
    batchnorm,
    conv,
    dense,
    dropout,
    embedding,
    pool,
    recurrent,
    reshape,
    wrappers,
)
from dnnexp.core.layers.base import BuildContext, Layer, ShapeError

__all__ = ["BuildContext", "Layer", "ShapeError"]
