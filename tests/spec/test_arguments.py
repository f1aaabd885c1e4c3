"""Registry references checked against signatures, on small implementations in a fresh registry."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from pydantic import BaseModel, ValidationError

from dnnexp.spec.registry import Registry
from dnnexp.spec.arguments import Implementation, Section, arguments_model, did_you_mean

class Gear:
    """A widget with every kind of parameter a signature may declare."""

    def __init__(
        self,
        teeth: int,
        lr: float = 0.1,
        size: tuple[int, int] = (2, 2),
        init: str | dict = "zeros",
        mode: str = "fast",
        *args: Any,
        rng: np.random.Generator | None = None,
        **kwargs: Any,
    ):
        pass


def lamp(activation: str, bulb_init: str | None = None) -> None:
    """A widget whose activation and initializer parameters take names only."""


def spring(stiffness: float = 1.0, *, rng: np.random.Generator) -> None:
    """A widget made by a function that needs the run's random generator."""


WIDGETS: Registry = Registry("widget", (), lambda: {"gear": Gear, "lamp": lamp, "spring": spring})


def errors_of(model: type[BaseModel], value: Any) -> list[tuple[tuple, str, str]]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(value)
    return [(e["loc"], e["type"], e["msg"]) for e in caught.value.errors()]


def test_the_signature_gives_keys_types_and_defaults():
    model = arguments_model(Gear, Implementation(WIDGETS).base)
    assert list(model.model_fields) == ["name", "teeth", "lr", "size", "init", "mode"]
    checked = model.model_validate({"name": "gear", "teeth": 12, "size": [3, 4]}).model_dump()
    assert checked == {"name": "gear", "teeth": 12, "lr": 0.1, "size": (3, 4), "init": {"name": "zeros"}, "mode": "fast"}


def test_the_model_is_built_once_per_implementation():
    base = Implementation(WIDGETS).base
    assert arguments_model(Gear, base) is arguments_model(Gear, base)


def test_types_are_strict_and_bounds_apply_by_parameter_name():
    model = arguments_model(Gear, Implementation(WIDGETS).base)
    problems = errors_of(model, {"name": "gear", "teeth": True, "lr": "0.1", "mode": 3, "size": [1]})
    assert [(loc, kind) for loc, kind, _ in problems] == [
        (("teeth",), "int_type"),
        (("lr",), "float_type"),
        (("size", 1), "missing"),
        (("mode",), "string_type"),
    ]
    assert errors_of(model, {"name": "gear", "teeth": 1, "lr": 0})[0][:2] == (("lr",), "greater_than")


def test_the_run_supplies_rng_so_a_spec_cannot():
    model = arguments_model(spring, Implementation(WIDGETS).base)
    assert list(model.model_fields) == ["name", "stiffness"]
    assert errors_of(model, {"name": "spring", "rng": 1}) == [(("rng",), "unknown_key", "unknown key; choose from: name, stiffness")]


def test_a_name_alone_becomes_a_mapping_with_defaults():
    assert Implementation(WIDGETS)("spring") == {"name": "spring", "stiffness": 1.0}
    assert Implementation(WIDGETS, keep_short=True)("spring") == "spring"
    assert Implementation(WIDGETS, keep_short=True)({"name": "spring"}) == {"name": "spring", "stiffness": 1.0}


def test_nested_initializers_are_checked_where_they_stand():
    model = arguments_model(Gear, Implementation(WIDGETS).base)
    problems = errors_of(model, {"name": "gear", "teeth": 1, "init": {"name": "normal", "std": 0}})
    assert problems == [(("init", "std"), "greater_than", "Input should be greater than 0")]


def test_a_parameter_typed_str_takes_a_registered_name_only():
    model = arguments_model(lamp, Implementation(WIDGETS).base)
    assert model.model_validate({"name": "lamp", "activation": "relu"}).model_dump() == {
        "name": "lamp", "activation": "relu", "bulb_init": None,
    }
    problems = errors_of(model, {"name": "lamp", "activation": {"name": "relu"}, "bulb_init": "he_normall"})
    assert problems == [
        (("activation",), "string_type", "Input should be a valid string"),
        (("bulb_init",), "unknown_name", "'he_normall' is not an initializer; did you mean 'he_normal'?"),
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("sprung", [((), "unknown_name", "'sprung' is not a widget; did you mean 'spring'?")]),
        ({"name": "cog"}, [(("name",), "unknown_name", "'cog' is not a widget; choose from: gear, lamp, spring")]),
        ({"lr": 1}, [(("name",), "missing", "missing; say which widget: name: NAME")]),
        ({"name": None}, [(("name",), "string_type", "Input should be the name of a widget")]),
        (3, [((), "name_type", "Input should be NAME or a mapping {name: NAME, ...}")]),
    ],
)
def test_what_cannot_name_an_implementation(value, expected):
    with pytest.raises(ValidationError) as caught:
        Implementation(WIDGETS)(value)
    assert [(e["loc"], e["type"], e["msg"]) for e in caught.value.errors()] == expected


def test_a_mapping_only_reference_refuses_a_name():
    with pytest.raises(ValidationError, match=r"should be a mapping \{name: NAME, \.\.\.\}"):
        Implementation(WIDGETS, short=False)("gear")


def test_unknown_keys_get_a_suggestion_at_every_depth():
    class Inner(Section):
        patience: int = 1

    class Outer(Section):
        inner: Inner
        epochs: int = 1

    problems = errors_of(Outer, {"inner": {"patiense": 2}, "epoch": 3})
    assert problems == [
        (("inner", "patiense"), "unknown_key", "unknown key; did you mean 'patience'?"),
        (("epoch",), "unknown_key", "unknown key; did you mean 'epochs'?"),
    ]


def test_did_you_mean():
    assert did_you_mean("trian", ["train", "data"]) == "; did you mean 'train'?"
    assert did_you_mean("zzz", ["train", "data"]) == "; choose from: train, data"
