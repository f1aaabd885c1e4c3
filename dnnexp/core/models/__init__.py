"""Model kinds, one a module; each declares the `kind` a spec's `model:` names it by.

Every module here is imported with the package, so that a new kind is one new file.
"""

import importlib
import pkgutil

from dnnexp.core.models.base import DataInfo, Model, Vocabulary
from dnnexp.core.models.sequential import Sequential

for _kind in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_kind.name}")

__all__ = ["DataInfo", "Model", "Sequential", "Vocabulary"]
