"""Layers, one family a module; each declares the `kind` a spec names it by.

Every module here is imported with the package, so that a new family is one new file.
"""

import importlib
import pkgutil

from dnnexp.core.layers.base import BuildContext, InputError, Layer, ShapeError

for _family in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_family.name}")

__all__ = ["BuildContext", "InputError", "Layer", "ShapeError"]
