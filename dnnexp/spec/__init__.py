"""Specs: YAML files that say what to train, loaded with line numbers, overridden, and validated.

    spec = load_spec(Path("configs/day1/relu.yaml"), ["optimizer.lr=0.01"])
    config = spec.resolved()  # every default filled in: what config.yaml records
"""

from dnnexp.spec.load import load_spec, spec_from_dict
from dnnexp.spec.review import diff_specs, pairing_warnings
from dnnexp.spec.schema import OptimizerPathsSpec, Spec
from dnnexp.spec.yamlio import apply_overrides, read_yaml

__all__ = [
    "OptimizerPathsSpec",
    "Spec",
    "apply_overrides",
    "diff_specs",
    "load_spec",
    "pairing_warnings",
    "read_yaml",
    "spec_from_dict",
]
