"""How core implementations name themselves for specs, without core knowing about specs.

A layer, activation, loss, initializer, optimizer, schedule, penalty or model kind declares the
name a spec calls it by as a class attribute, where it is defined::

    class Dense(Layer):
        kind = "dense"

and `declared` finds every such class under a base. The spec layer (dnnexp.spec.registry) turns
names and argument mappings into objects through these tables; core itself only reads them to
resolve its own references, such as a layer's `init: he_normal`.
"""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T", bound=type)


def declared(base: T) -> dict[str, T]:
    """The subclasses of `base` (at any depth) that declare a `kind` of their own, by that name and
    by each of their `aliases`, in name order; a name declared twice is an error."""
    found: dict[str, T] = {}
    seen: set[type] = set()
    stack = list(base.__subclasses__())
    while stack:
        cls = stack.pop()
        if cls in seen:
            continue
        seen.add(cls)
        stack.extend(cls.__subclasses__())
        if "kind" not in vars(cls):
            continue
        for name in (cls.kind, *vars(cls).get("aliases", ())):
            if found.setdefault(name, cls) is not cls:
                raise RuntimeError(f"two {base.__name__} classes declare the name '{name}'")
    return dict(sorted(found.items()))
