"""The values a sweep tries, written as Hydra and Guild users write them.

A grid key takes a YAML list, or one of these expressions (also what `--set KEY=…` takes on
`dnnexp train --sweep`):

    0.1,0.01,0.001            a comma list; each item read as YAML (`1e-3` is a number, `[3,3]` a list)
    range(1, 5)  range(0, 1, 0.25)      start, stop (left out, as in Python), step
    linspace(0, 1, 5)         5 values from 0 to 1, both ends included
    logspace(-4, -1, 4)       10⁻⁴ … 10⁻¹, 4 values (exponents, as NumPy's logspace)

Commas inside brackets or quotes do not split: `[3,3],[5,5]` is two kernel sizes, `'a,b'` one
string. A random search draws each trial's value from a distribution:

    loguniform(1e-4, 1e-1)    uniform in log space: every decade equally likely
    uniform(0.0, 0.5)
    choice(relu, tanh, sigmoid)
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from dnnexp.errors import SpecError
from dnnexp.spec.yamlio import read_yaml

_CALL = re.compile(r"\s*(?P<name>[a-z_]+)\s*\((?P<args>.*)\)\s*", re.S)
GRID_FUNCTIONS = ("range", "linspace", "logspace")
DISTRIBUTIONS = ("loguniform", "uniform", "choice")


class ExpressionError(Exception):
    """A value expression that cannot be read; the message says why (the caller adds where)."""


def split_top_level(text: str) -> list[str]:
    """`text` split at the commas outside brackets, braces, parentheses and quotes."""
    parts, depth, quote, start = [], 0, "", 0
    for index, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "[{(":
            depth += 1
        elif char in "]})":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return [part.strip() for part in parts]


def read_value(text: str) -> Any:
    """One value as YAML reads it in a spec (`1e-3` a float, `relu` a string, `[3, 3]` a list)."""
    try:
        return read_yaml(text, f"'{text}'").data
    except SpecError as error:  # the caller says where the value was given
        raise ExpressionError(str(error)) from None


def _numbers(name: str, args: str, counts: tuple[int, ...]) -> list[float]:
    items = [item for item in split_top_level(args) if item] if args.strip() else []
    values = [read_value(item) for item in items]
    if len(values) not in counts or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        wanted = " or ".join(str(c) for c in counts)
        raise ExpressionError(f"{name}(…) takes {wanted} numbers, got '{args}'")
    return values


def _plain(value: Any) -> Any:
    """NumPy scalars as Python numbers, ints that are whole staying ints: what YAML writes back."""
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


#: the most values one grid axis, seed list or random search may have: a typo such as range(1e9)
#: is refused before any list is built
MAX_VALUES = 100_000


def _count_fits(count: int, text: str) -> None:
    if count > MAX_VALUES:
        raise ExpressionError(f"{text} gives {count:,} values; one axis takes at most {MAX_VALUES:,}")


def grid_values(text: str) -> list[Any]:
    """The values of a grid expression (see the module's docstring); ExpressionError if it names none."""
    call = _CALL.fullmatch(text)
    if call and call["name"] in GRID_FUNCTIONS:
        name = call["name"]
        if name == "range":
            numbers = _numbers(name, call["args"], (1, 2, 3))
            start, stop, step = ([0] + numbers + [1])[-3:] if len(numbers) == 1 else (numbers + [1])[:3]
            if step == 0:
                raise ExpressionError(f"range(…): the step is 0; give a step that moves from {start} to {stop}")
            count = max(0, math.ceil((stop - start) / step - 1e-9))  # (0.4 − 0.1)/0.1 is 3.0000000000000004
            _count_fits(count, text)
            values = [start + i * step for i in range(count)]
            values = [round(v, 12) if isinstance(v, float) else v for v in values]  # 0.1 + 2·0.1, not 0.30000000000000004
        else:
            start, stop, num = _numbers(name, call["args"], (3,))
            if not isinstance(num, int) or num < 1:
                raise ExpressionError(f"{name}(…): the number of values must be a whole number ≥ 1, got {num}")
            _count_fits(num, text)
            spaced = np.linspace(start, stop, num) if name == "linspace" else np.logspace(start, stop, num)
            values = [float(f"{v:.12g}") for v in spaced]
    elif call and call["name"] in DISTRIBUTIONS:
        raise ExpressionError(f"{call['name']}(…) is drawn at random; put it under random:, or give a list of values")
    else:
        values = [read_value(item) for item in split_top_level(text)]
        if any(item == "" for item in split_top_level(text)):
            raise ExpressionError(f"'{text}' has an empty item between commas")
    return [_plain(v) for v in values]


@dataclass(frozen=True)
class Distribution:
    """A random search's distribution of one key: loguniform(low, high), uniform(low, high) or
    choice(options…)."""

    name: str
    args: tuple[Any, ...]

    def sample(self, rng: np.random.Generator) -> Any:
        """One draw (a Python number or one of the choices)."""
        if self.name == "choice":
            return self.args[int(rng.integers(len(self.args)))]
        low, high = self.args
        if self.name == "loguniform":
            return float(math.exp(rng.uniform(math.log(low), math.log(high))))
        return float(rng.uniform(low, high))

    def __str__(self) -> str:
        return f"{self.name}({', '.join(map(str, self.args))})"


def distribution(text: str) -> Distribution:
    """A distribution expression read; ExpressionError when it is not one."""
    call = _CALL.fullmatch(text) if isinstance(text, str) else None
    if not call or call["name"] not in DISTRIBUTIONS:
        raise ExpressionError(f"'{text}' is not a distribution; write loguniform(low, high), uniform(low, high) or choice(a, b, …)")
    name = call["name"]
    if name == "choice":
        options = [read_value(item) for item in split_top_level(call["args"]) if item]
        if not options:
            raise ExpressionError("choice() has no options; give at least one")
        return Distribution(name, tuple(options))
    low, high = _numbers(name, call["args"], (2,))
    if not low < high:
        raise ExpressionError(f"{name}({low}, {high}): low must be below high")
    if name == "loguniform" and low <= 0:
        raise ExpressionError(f"loguniform({low}, {high}): both bounds must be above 0 (it draws their logarithms)")
    return Distribution(name, (float(low), float(high)))


def seed_list(text: str | int | list[Any]) -> list[int]:
    """Seeds as `--seeds` and `seeds:` give them: `0-4` (both ends), `0,1,2`, `range(5)`, a list or one number."""
    if isinstance(text, bool):
        raise ExpressionError(f"seeds: {text} is not a seed")
    if isinstance(text, int):
        values: list[Any] = [text]
    elif isinstance(text, list):
        values = text
    else:
        span = re.fullmatch(r"\s*(\d+)\s*-\s*(\d+)\s*", text)
        if span:
            _count_fits(int(span[2]) + 1 - int(span[1]), f"seeds {text}")
        values = list(range(int(span[1]), int(span[2]) + 1)) if span else grid_values(text)
    bad = [v for v in values if not isinstance(v, int) or isinstance(v, bool) or v < 0]
    if bad or not values:
        raise ExpressionError(f"seeds: {text!r} should be whole numbers ≥ 0, e.g. 0-4, 0,1,2 or range(5)")
    if len(set(values)) != len(values):
        raise ExpressionError(f"seeds: {text!r} names a seed twice")
    return values
