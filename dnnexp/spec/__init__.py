"""Specs: YAML files that say what to train, loaded with line numbers, overridden, validated, and
turned into core objects.

    spec = load_spec(Path("configs/day1/relu.yaml"), ["optimizer.lr=0.01"], kinds)
    config = spec.resolved()  # every default filled in: what config.yaml records

`kinds` maps each `kind:` to its spec class; dnnexp.tasks owns them (`dnnexp.tasks.load_spec`).
"""

from dnnexp.spec.load import load_spec, spec_from_dict
from dnnexp.spec.schema import SpecBase
from dnnexp.spec.yamlio import apply_overrides, read_yaml

__all__ = ["SpecBase", "apply_overrides", "load_spec", "read_yaml", "spec_from_dict"]
