"""What `dnnexp list KIND` says of each registered name: its arguments, their types, bounds and defaults.

Nothing here is declared a second time: the arguments and defaults are the implementation's
signature (through `arguments_model`, as a spec is checked), the bounds ARGUMENT_BOUNDS, the
choices the `Literal` types.
"""

from __future__ import annotations

import inspect
import types
import typing
from typing import Any, Literal, Union

import yaml
from annotated_types import Ge, Gt, Le, Lt
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from dnnexp.spec.agents import AgentSection, EnvSection
from dnnexp.spec.arguments import ARGUMENT_BOUNDS, ExplorationArguments, LayerArguments, Named, Section, arguments_model
from dnnexp.spec.registry import Registry
from dnnexp.spec.schema import SEQUENTIAL, DataSection, ModelSection, TokenModelSection

#: the section a registry's mapping is checked on top of (others: `{name: NAME, …}`)
BASES: dict[str, type[Section]] = {
    "layer": LayerArguments, "model": TokenModelSection, "dataset": DataSection, "agent": AgentSection,
    "exploration": ExplorationArguments, "environment": EnvSection,
}

#: what a parameter taking another registered name reads as
REFERENCES = {
    "init": "initializer", "activation": "activation", "layer": "{type: NAME, …}", "layers": "[{type: NAME, …}, …]",
    "epsilon": "0 ≤ float ≤ 1 | {kind: NAME, …} (dnnexp list explorations)",
}


def arguments(registry: Registry, name: str) -> list[str]:
    """Each spec argument of `name` as `units: int ≥ 1 (required)`, `lr: float > 0 = 0.01`, in
    signature order; the keys every entry of the kind shares (a layer's `activation`) left out."""
    base = BASES.get(registry.kind, Named)
    if registry.kind == "model" and name == SEQUENTIAL:
        # The default kind's keys are its section's (the layers as mappings), not its class's.
        fields, hints = ModelSection.model_fields, typing.get_type_hints(ModelSection)
        parameters: typing.Iterable[str] = fields
    else:
        implementation = registry.get(name)
        fields = arguments_model(implementation, base).model_fields
        hints = typing.get_type_hints(implementation.__init__ if isinstance(implementation, type) else implementation)
        parameters = inspect.signature(implementation).parameters
    return [
        f"{parameter}: {type_text(parameter, hints.get(parameter, Any))}{_default_text(fields[parameter])}"
        for parameter in parameters
        if parameter in fields and parameter != base.registry_key
    ]


def section_arguments(section: type[Section], leave_out: tuple[str, ...] = ()) -> list[str]:
    """Each key of a spec section as `arguments` writes a registered name's: `dim: int ≥ 1 = 100`."""
    hints = typing.get_type_hints(section)
    return [
        f"{key}: {type_text(key, hints.get(key, Any), tuple(field.metadata))}{_default_text(field)}"
        for key, field in section.model_fields.items()
        if key not in leave_out
    ]


def type_text(name: str, hint: Any, bounds: tuple[Any, ...] = ()) -> str:
    """`hint` of parameter `name` as a reader writes it: `0 ≤ float < 1`, `valid | same | int ≥ 0`;
    a number's bounds are ARGUMENT_BOUNDS's for that name, else `bounds` (a section field's)."""
    origin, members = typing.get_origin(hint), typing.get_args(hint)
    reference = REFERENCES.get("init" if name.endswith("_init") else name)
    if origin is Literal:
        return " | ".join(map(str, members))
    if reference is not None:
        return reference + (" | null" if type(None) in members else "")
    if origin in (Union, types.UnionType):
        return " | ".join(type_text(name, member, bounds) for member in members)
    if hint is type(None):
        return "null"
    if origin is tuple:
        items = [type_text(name, member) for member in members if member is not Ellipsis]
        return "[" + ", ".join(items) + (", …" if Ellipsis in members else "") + "]"
    if origin is list:
        return f"[{type_text(name, members[0])}, …]"
    if hint in (int, float):
        return _bounded(hint.__name__, ARGUMENT_BOUNDS.get(name, bounds))
    return "any" if hint is Any else getattr(hint, "__name__", str(hint))


def _bounded(number: str, bounds: tuple[Any, ...]) -> str:
    """`float` within `bounds` (annotated_types' Ge, Gt, Le, Lt): `0 ≤ float < 1`, `int ≥ 1`."""
    if number == "int":  # a whole number above 0 is one of at least 1
        bounds = tuple(Ge(b.gt + 1) if isinstance(b, Gt) else b for b in bounds)
    lower = next((f"{b.ge} ≤ " for b in bounds if isinstance(b, Ge)), None) or next(
        (f"{b.gt} < " for b in bounds if isinstance(b, Gt)), ""
    )
    upper = next((f" ≤ {b.le}" for b in bounds if isinstance(b, Le)), None) or next(
        (f" < {b.lt}" for b in bounds if isinstance(b, Lt)), ""
    )
    if lower and not upper:  # `lr > 0` reads better than `0 < lr`
        return f"{number} {'≥' if '≤' in lower else '>'} {lower.split()[0]}"
    return f"{lower}{number}{upper}"


def _default_text(field: FieldInfo) -> str:
    if field.default is PydanticUndefined:
        return " (required)"
    value = list(field.default) if isinstance(field.default, tuple) else field.default
    # YAML's spelling, as a spec writes the value: null, true, 0.001, [3, 3]
    return " = " + yaml.safe_dump(value, default_flow_style=True).removesuffix("\n...\n").strip()
