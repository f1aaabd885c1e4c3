"""Name → implementation registries: how a name in a YAML spec finds its code.

The core declares each implementation's name where it is defined (`kind = "dense"`, see
dnnexp.core.kinds), and a data set registers itself in dnnexp.data.base.DATASETS; a registry here
imports the modules of its kind on first lookup and gives the user's side of the names: a close
match for a misspelt one, a description, and an object built from `{name: …, **arguments}`.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import pkgutil
from typing import Any, Callable, Generic, Iterator, TypeVar

from dnnexp.core.kinds import declared
from dnnexp.core.layers.base import Layer
from dnnexp.errors import DnnexpError

T = TypeVar("T")


class UnknownNameError(DnnexpError, KeyError):
    """A name that no implementation of a kind is registered under."""

    def __init__(self, kind: str, name: object, suggestion: str | None):
        self.kind, self.name, self.suggestion = kind, name, suggestion
        article = "an" if kind[0] in "aeiou" else "a"
        hint = f"; did you mean '{suggestion}'?" if suggestion else ""
        super().__init__(f"'{name}' is not {article} {kind}{hint}")

    def __str__(self) -> str:  # KeyError would quote the message
        return self.args[0]


class Registry(Generic[T]):
    """Implementations of one kind (layer, activation, …), looked up by lower-snake-case name.

    `table` gives the implementations by name once `modules` are imported: each a module, or a
    package whose every module is imported, so that a new file in it needs no other change.
    """

    def __init__(self, kind: str, modules: tuple[str, ...], table: Callable[[], dict[str, T]]):
        self.kind = kind
        self._modules = modules
        self._table = table
        self._entries: dict[str, T] | None = None

    @property
    def entries(self) -> dict[str, T]:
        if self._entries is None:
            for name in self._modules:
                module = importlib.import_module(name)
                for found in pkgutil.iter_modules(getattr(module, "__path__", [])):
                    importlib.import_module(f"{name}.{found.name}")
            self._entries = dict(sorted(self._table().items()))
        return self._entries

    def names(self) -> list[str]:
        return list(self.entries)

    def __contains__(self, name: object) -> bool:
        return name in self.entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def suggest(self, name: object) -> str | None:
        """The registered name closest to a misspelt one, if any is close, whatever its case
        (`cartpole-v1` finds `CartPole-v1`)."""
        names = {registered.lower(): registered for registered in self.names()}
        close = difflib.get_close_matches(str(name).lower(), names, n=1, cutoff=0.6)
        return names[close[0]] if close else None

    def get(self, name: str) -> T:
        try:
            return self.entries[name]
        except (KeyError, TypeError):
            raise UnknownNameError(self.kind, name, self.suggest(name)) from None

    def describe(self, name: str) -> str:
        """The first paragraph of the implementation's docstring, on one line: a sentence that
        wraps in the source is not cut."""
        doc = inspect.getdoc(self.get(name)) or ""
        first = " ".join(doc.split("\n\n")[0].split())
        # A paragraph that leads into formulas ends in ':'; alone it is a sentence.
        return first.removesuffix(":") + "." if first.endswith(":") else first

    def build(self, spec: str | dict[str, Any], **extra: Any) -> Any:
        """Instantiate from a name or from a mapping `{name: ..., **arguments}`."""
        if isinstance(spec, str):
            name, kwargs = spec, {}
        else:
            kwargs = dict(spec)
            name = kwargs.pop("name")
        return self.get(name)(**kwargs, **extra)


def _declared(module: str, base: str) -> Callable[[], dict[str, Any]]:
    """The classes under `module`.`base` that declare their kind (dnnexp.core.kinds)."""
    return lambda: declared(getattr(importlib.import_module(module), base))


def activation(activation: str | dict) -> Layer:
    """An activation function as a layer, e.g. {type: activation, activation: relu}."""
    return ACTIVATIONS.build(activation)


def _layers() -> dict[str, Any]:
    from dnnexp.core.activations import Activation

    layers = declared(Layer)
    return {**{name: cls for name, cls in layers.items() if not issubclass(cls, Activation)}, "activation": activation}


def _environments() -> dict[str, Any]:
    from dnnexp.data.environments import makers

    return makers()


def _datasets() -> dict[str, Any]:
    from dnnexp.data.base import DATASETS as datasets

    return datasets


LAYERS: Registry = Registry("layer", ("dnnexp.core.layers", "dnnexp.core.activations"), _layers)
ACTIVATIONS: Registry = Registry("activation", (), _declared("dnnexp.core.activations", "Activation"))
LOSSES: Registry = Registry("loss", (), _declared("dnnexp.core.losses", "Loss"))
INITIALIZERS: Registry = Registry("initializer", (), _declared("dnnexp.core.initializers", "Initializer"))
OPTIMIZERS: Registry = Registry("optimizer", (), _declared("dnnexp.core.optimizers", "Optimizer"))
SCHEDULES: Registry = Registry("schedule", (), _declared("dnnexp.core.schedules", "Schedule"))
REGULARIZERS: Registry = Registry("regularizer", (), _declared("dnnexp.core.regularizers", "Penalty"))
MODELS: Registry = Registry("model", ("dnnexp.core.models",), _declared("dnnexp.core.models.base", "Model"))
DATASETS: Registry = Registry("dataset", ("dnnexp.data",), _datasets)
# Reinforcement learning (kind: rl): every module of dnnexp.core.agents is imported, so an agent
# family's file is all it takes to add agents.
AGENTS: Registry = Registry("agent", ("dnnexp.core.agents",), _declared("dnnexp.core.agents.base", "Agent"))
EXPLORATIONS: Registry = Registry("exploration", (), _declared("dnnexp.core.agents.exploration", "Exploration"))
FEATURES: Registry = Registry("feature", (), _declared("dnnexp.core.agents.features", "Features"))
ENVIRONMENTS: Registry = Registry("environment", (), _environments)
REGISTRIES: dict[str, Registry] = {
    r.kind: r
    for r in (
        MODELS, LAYERS, ACTIVATIONS, LOSSES, INITIALIZERS, OPTIMIZERS, SCHEDULES, REGULARIZERS, DATASETS, AGENTS,
        EXPLORATIONS, FEATURES, ENVIRONMENTS,
    )
}
