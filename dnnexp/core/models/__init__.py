"""Model kinds, one a module; each declares the `kind` a spec's `model:` names it by."""

from dnnexp.core.models import hred, seq2seq, sequential  # noqa: F401  (declares them)
from dnnexp.core.models.base import DataInfo, Model, Vocabulary
from dnnexp.core.models.sequential import Sequential

__all__ = ["DataInfo", "Model", "Sequential", "Vocabulary"]
