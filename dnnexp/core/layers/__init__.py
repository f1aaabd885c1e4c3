"""Layers, one family a module; each declares the `kind` a spec names it by."""

from dnnexp.core.layers import (  # noqa: F401  (registers them)
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
