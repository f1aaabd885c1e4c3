"""Sections of a spec, and references to registered implementations checked against their signatures.

A spec names implementations — layers, activations, initializers, optimizers, schedules, data
sets — as `NAME` or `{name: NAME, **arguments}`. Their arguments are not listed a second time
here: the registered constructor's (or function's) keyword parameters, type hints and defaults
are the schema, turned into a pydantic model once per implementation. A parameter named `init`
(or ending in `_init`) takes an initializer, one named `activation` an activation (unless its
type lists the names it allows), one named `layer` a layer mapping (a wrapper's); `rng` is
supplied by the run, never by the spec.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import types
import typing
from dataclasses import dataclass
from typing import Annotated, Any, Callable, ClassVar, Iterable, Literal, Union

from annotated_types import Ge, Gt, Le, Lt
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, PlainValidator, ValidationError, create_model, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from dnnexp.spec.registry import ACTIVATIONS, EXPLORATIONS, FEATURES, INITIALIZERS, LAYERS, Registry, UnknownNameError

#: parameters that mean the same wherever they appear, with the values that make sense for them:
#: the one place these bounds are kept (the constructors trust a validated spec)
ARGUMENT_BOUNDS: dict[str, tuple[Any, ...]] = {
    "lr": (Gt(0),),
    "eps": (Gt(0),),
    "momentum": (Ge(0), Lt(1)),
    "beta1": (Ge(0), Lt(1)),
    "beta2": (Ge(0), Lt(1)),
    "rho": (Ge(0), Lt(1)),
    "weight_decay": (Ge(0),),
    "decay": (Gt(0), Le(1)),  # an ε schedule's factor per step
    "theta": (Gt(0),),  # dynamic programming's convergence tolerance
    "rate": (Ge(0), Lt(1)),
    "units": (Ge(1),),
    "filters": (Ge(1),),
    "kernel_size": (Ge(1),),
    "pool_size": (Ge(1),),
    "stride": (Ge(1),),
    "padding": (Ge(0),),  # an int padding; 'valid' and 'same' are checked by their Literal
    "std": (Gt(0),),
    "limit": (Gt(0),),
    "warmup_steps": (Ge(0),),
    "step_size": (Ge(1),),
    "gamma": (Gt(0),),
    "min_factor": (Ge(0), Le(1)),
    "noise": (Ge(0),),
    "n": (Ge(1),),
    "n_test": (Ge(0),),
    "classes": (Ge(2),),
    "truncate_bptt": (Ge(1),),
    "vocab_size": (Ge(1),),
    "dim": (Ge(1),),
    "gain": (Gt(0),),
    "bits": (Ge(2), Le(31)),
    "steps": (Ge(1),),
    "period": (Gt(0),),
    "embedding": (Ge(1),),
    "context_units": (Ge(1),),
    "latent": (Ge(1),),
    "samples": (Ge(1),),
    "kl_anneal_steps": (Ge(0),),
    "d_model": (Ge(1),),
    "heads": (Ge(1),),
    "d_ff": (Ge(1),),
    "blocks": (Ge(1),),
    "dropout": (Ge(0), Lt(1)),
    "delta": (Gt(0),),  # the Huber loss's band
    # function-approximation agents (dnnexp.core.agents): DQN's schedule of replay and targets
    "buffer_size": (Ge(1),),
    "batch_size": (Ge(1),),
    "learning_starts": (Ge(0),),
    "train_freq": (Ge(1),),
    "gradient_steps": (Ge(1),),
    "target_update": (Ge(1),),
    "tau": (Gt(0), Le(1)),
    "huber_delta": (Gt(0),),
    "max_grad_norm": (Gt(0),),
    "entropy": (Ge(0),),
}

#: parameters the run supplies; a spec cannot set them (an agent's `info`, what it knows of its
#: world, and its `networks`, which the spec layer builds from `model:`, too)
RUN_PARAMETERS = frozenset({"rng", "info"})


def spec_error(type_: str, message: str, loc: tuple[Any, ...] = (), value: Any = None, **ctx: Any) -> ValidationError:
    """A one-problem ValidationError, to raise from a validator; `loc` is relative to the value."""
    return validation_error([{"type": type_, "msg": message, "loc": loc, "input": value, "ctx": ctx}])


def validation_error(errors: Iterable[dict[str, Any]]) -> ValidationError:
    """Problems (as `ValidationError.errors()` lists them) as one ValidationError, messages kept."""
    return ValidationError.from_exception_data(
        "spec",
        [
            InitErrorDetails(
                type=PydanticCustomError(e["type"], "{message}", {**(e.get("ctx") or {}), "message": e["msg"]}),
                loc=tuple(e["loc"]),
                input=e.get("input"),
            )
            for e in errors
        ],
    )


def did_you_mean(word: object, choices: Iterable[str]) -> str:
    """'; did you mean 'train'?' for a near miss, else the choices."""
    choices = list(choices)
    close = difflib.get_close_matches(str(word), choices, n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else f"; choose from: {', '.join(choices)}"


class Section(BaseModel):
    """A mapping in a spec: unknown keys are errors, types are strict (no `true` for 1, no
    `'0.1'` for 0.1), and a number is finite (a NaN or infinite rate would only surface as a
    diverged run, blamed on the learning rate)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, validate_default=True, allow_inf_nan=False)

    #: in a mapping that picks a registered implementation, the key that holds its name
    registry_key: ClassVar[str] = "name"

    @model_validator(mode="wrap")
    @classmethod
    def _explain_unknown_keys(cls, data: Any, handler: Callable[[Any], Any]) -> Any:
        try:
            return handler(data)
        except ValidationError as error:
            problems = error.errors()
            for problem in problems:
                if problem["type"] == "extra_forbidden" and len(problem["loc"]) == 1:
                    problem["type"] = "unknown_key"
                    problem["msg"] = "unknown key" + did_you_mean(problem["loc"][0], cls.model_fields)
            raise validation_error(problems) from None


class Named(Section):
    """`{name: NAME, **arguments}`: an implementation picked from a registry by name."""

    name: str


def lookup(registry: Registry, name: Any, loc: tuple[Any, ...] = ()) -> Any:
    """The implementation registered as `name`; a spec problem at `loc` if there is none."""
    if not isinstance(name, str):
        raise spec_error("string_type", f"Input should be the name of {_article(registry.kind)}", loc, name)
    try:
        return registry.get(name)
    except UnknownNameError as error:
        message = str(error) if error.suggestion else f"{error}; choose from: {', '.join(registry.names())}"
        raise spec_error("unknown_name", message, loc, name) from None


@dataclass(frozen=True)
class Implementation:
    """Pydantic validator of a reference to a registered implementation.

    A mapping `{key: NAME, **arguments}` is checked against NAME's signature on top of `base` and
    comes back with every default filled in. Where `short` allows, NAME alone may stand for the
    mapping: it becomes `{key: NAME, **defaults}`, or, with `keep_short`, stays as written.
    """

    registry: Registry
    base: type[Section] = Named
    short: bool = True
    keep_short: bool = False

    def __call__(self, value: Any) -> Any:
        if self.short and isinstance(value, str):
            checked = self.check({self.base.registry_key: value}, name_loc=())
            return value if self.keep_short else checked.model_dump()
        return self.check(value).model_dump()

    def check(self, value: Any, name_loc: tuple[Any, ...] | None = None) -> Section:
        """The mapping `value` validated as an instance of NAME's arguments model."""
        key = self.base.registry_key
        if not isinstance(value, dict):
            form = f"NAME or a mapping {{{key}: NAME, ...}}" if self.short else f"a mapping {{{key}: NAME, ...}}"
            raise spec_error("name_type", f"Input should be {form}", (), value)
        if key not in value:
            raise spec_error("missing", f"missing; say which {self.registry.kind}: {key}: NAME", (key,), value)
        try:
            implementation = lookup(self.registry, value[key], (key,) if name_loc is None else name_loc)
        except ValidationError as unknown:
            # The keys every implementation shares can still be checked (data.validation, a layer's activation).
            shared = {k: v for k, v in value.items() if k in self.base.model_fields and k != key}
            raise validation_error(unknown.errors() + _problems(self.base, {key: str(value[key]), **shared})) from None
        return arguments_model(implementation, self.base).model_validate(value)


@functools.cache
def arguments_model(implementation: Callable[..., Any], base: type[Section]) -> type[Section]:
    """`base` extended by the keyword parameters of `implementation` (a class or a function)."""
    hints = typing.get_type_hints(implementation.__init__ if isinstance(implementation, type) else implementation)
    supplied = RUN_PARAMETERS | set(getattr(implementation, "networks", {}))
    fields: dict[str, Any] = {}
    for parameter in inspect.signature(implementation).parameters.values():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if parameter.name in supplied or parameter.name == base.registry_key:
            continue
        default = ... if parameter.default is parameter.empty else parameter.default
        fields[parameter.name] = (spec_type(parameter.name, hints.get(parameter.name, Any)), default)
    return create_model(f"{base.__name__}[{implementation.__name__}]", __base__=base, **fields)


def spec_type(name: str, hint: Any) -> Any:
    """The type a spec must give for parameter `name` of type `hint`."""
    if name == "layer":
        return Layer
    if name == "epsilon":
        return Epsilon
    if name == "features":
        return AgentFeatures
    if typing.get_origin(hint) is Literal:  # the names it allows, e.g. simple_rnn's tanh | relu
        return hint
    registry = INITIALIZERS if name == "init" or name.endswith("_init") else ACTIVATIONS if name == "activation" else None
    if registry is None:
        return _with_bounds(hint, ARGUMENT_BOUNDS.get(name, ()))
    members = typing.get_args(hint) if typing.get_origin(hint) in (Union, types.UnionType) else (hint,)
    takes_mapping = any(member in (Any, dict) or typing.get_origin(member) is dict for member in members)
    if not takes_mapping:
        reference = registered_name(registry)
    else:
        reference = Initializer if registry is INITIALIZERS else Activation
    return reference | None if type(None) in members else reference


def registered_name(registry: Registry) -> Any:
    """The type of a name registered in `registry`, e.g. a loss."""

    def check(name: str) -> str:
        lookup(registry, name)
        return name

    return Annotated[str, AfterValidator(check)]


def _with_bounds(hint: Any, bounds: tuple[Any, ...]) -> Any:
    """`hint` with `bounds` on its numbers, and tuples that accept YAML's lists."""
    if hint in (int, float):
        return Annotated[(hint, *bounds)] if bounds else hint
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    parts = tuple(arg if arg is Ellipsis else _with_bounds(arg, bounds) for arg in args)
    if origin in (Union, types.UnionType):
        return Union[parts]
    if origin is tuple:
        return Annotated[tuple[parts], BeforeValidator(_tuple_from_list)]
    if origin in (list, dict):
        return origin[parts]
    return hint


def _problems(model: type[Section], value: dict[str, Any]) -> list[dict[str, Any]]:
    try:
        model.model_validate(value)
    except ValidationError as error:
        return error.errors()
    return []


def _tuple_from_list(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _article(kind: str) -> str:
    return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}"


#: `he_normal` or `{name: normal, std: 0.01}`; always becomes a mapping with every argument
Initializer = Annotated[dict[str, Any], PlainValidator(Implementation(INITIALIZERS))]
#: `relu` (kept as the name) or `{name: leaky_relu, alpha: 0.1}`
Activation = Annotated[Union[str, dict[str, Any]], PlainValidator(Implementation(ACTIVATIONS, keep_short=True))]


class ExplorationArguments(Section):
    """An ε schedule, `{kind: linear, start: 1.0, end: 0.05, steps: 10000}` (`dnnexp list explorations`)."""

    registry_key: ClassVar[str] = "kind"

    kind: str


def _epsilon(value: Any) -> float | dict[str, Any]:
    """An agent's `epsilon`: a probability (constant ε), or a schedule mapping whose rates are
    probabilities."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not 0 <= value <= 1:
            raise spec_error("epsilon", f"ε is a probability, between 0 and 1; {value} is not", (), value)
        return float(value)
    if not isinstance(value, dict):
        raise spec_error("epsilon", "Input should be a number between 0 and 1, or a schedule {kind: linear, ...}", (), value)
    schedule = Implementation(EXPLORATIONS, ExplorationArguments, short=False).check(value).model_dump()
    rates = [key for key in ("value", "start", "end") if key in schedule and not 0 <= schedule[key] <= 1]
    if rates:
        raise validation_error(
            {"type": "epsilon", "msg": f"ε is a probability, between 0 and 1; {schedule[key]} is not", "loc": (key,),
             "input": schedule[key]}
            for key in rates
        )
    return schedule


#: an agent's ε: `0.1`, or `{kind: linear, start: 1.0, end: 0.05, steps: 10000}` (every default filled in)
Epsilon = Annotated[Union[float, dict[str, Any]], PlainValidator(_epsilon)]


class FeaturesArguments(Section):
    """What a linear agent reads of a state, `one_hot` or `{kind: tile_coding, low: [...], high: [...], ...}`
    (`dnnexp list features`)."""

    registry_key: ClassVar[str] = "kind"

    kind: str


#: a linear agent's features: `one_hot` (kept as the name) or a mapping with every default filled in
AgentFeatures = Annotated[
    Union[str, dict[str, Any]], PlainValidator(Implementation(FEATURES, FeaturesArguments, keep_short=True))
]


class LayerArguments(Section):
    """One entry of `model.layers` (or a wrapper's `layer`): `{type: NAME, **arguments}`; any layer
    may add `activation: NAME`, which becomes an activation layer right after it."""

    registry_key: ClassVar[str] = "type"

    type: str
    activation: Activation | None = None


#: a layer mapping, checked against its type's arguments (nested wrappers included)
Layer = Annotated[dict[str, Any], PlainValidator(Implementation(LAYERS, LayerArguments, short=False))]
