"""Name → implementation registries: how a name in a YAML spec finds its code.

Each implementation registers itself where it is defined::

    @LAYERS.register("dense")
    class Dense(Layer): ...

A registry imports the modules of its kind on first lookup, so `LAYERS.get("dense")` works
without the caller knowing which module holds the dense layer.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
from typing import Any, Callable, Generic, Iterator, TypeVar

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
    """Implementations of one kind (layer, activation, …), looked up by lower-snake-case name."""

    def __init__(self, kind: str, modules: tuple[str, ...]):
        self.kind = kind
        self._modules = modules
        self._entries: dict[str, T] = {}
        self._loaded = False

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator that files a class or function under `name`."""

        def add(obj: T) -> T:
            if name in self._entries and self._entries[name] is not obj:
                raise RuntimeError(f"two {self.kind}s registered as '{name}'")
            self._entries[name] = obj
            return obj

        return add

    def _load(self) -> None:
        if not self._loaded:
            self._loaded = True
            for module in self._modules:
                importlib.import_module(module)

    def names(self) -> list[str]:
        self._load()
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        self._load()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def suggest(self, name: object) -> str | None:
        """The registered name closest to a misspelt one, if any is close."""
        close = difflib.get_close_matches(str(name).lower(), self.names(), n=1, cutoff=0.6)
        return close[0] if close else None

    def get(self, name: str) -> T:
        self._load()
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            raise UnknownNameError(self.kind, name, self.suggest(name)) from None

    def describe(self, name: str) -> str:
        """The first line of the implementation's docstring."""
        doc = inspect.getdoc(self.get(name)) or ""
        return doc.splitlines()[0] if doc else ""

    def build(self, spec: str | dict[str, Any], **extra: Any) -> Any:
        """Instantiate from a name or from a mapping `{name: ..., **arguments}`."""
        if isinstance(spec, str):
            name, kwargs = spec, {}
        else:
            kwargs = dict(spec)
            name = kwargs.pop("name")
        return self.get(name)(**kwargs, **extra)


LAYERS: Registry = Registry("layer", ("dnnexp.core.layers",))
ACTIVATIONS: Registry = Registry("activation", ("dnnexp.core.activations",))
LOSSES: Registry = Registry("loss", ("dnnexp.core.losses",))
INITIALIZERS: Registry = Registry("initializer", ("dnnexp.core.initializers",))
OPTIMIZERS: Registry = Registry("optimizer", ("dnnexp.core.optimizers",))
SCHEDULES: Registry = Registry("schedule", ("dnnexp.core.schedules",))
REGULARIZERS: Registry = Registry("regularizer", ("dnnexp.core.regularizers",))
MODELS: Registry = Registry("model", ("dnnexp.core.model", "dnnexp.core.seq2seq", "dnnexp.core.hred"))
DATASETS: Registry = Registry("dataset", ("dnnexp.data.idx", "dnnexp.data.cifar", "dnnexp.data.synthetic", "dnnexp.data.corpora", "dnnexp.data.sequences"))

REGISTRIES: dict[str, Registry] = {
    r.kind: r
    for r in (MODELS, LAYERS, ACTIVATIONS, LOSSES, INITIALIZERS, OPTIMIZERS, SCHEDULES, REGULARIZERS, DATASETS)
}
