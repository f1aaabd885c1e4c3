"""Runs in words: a legend label for each run, and a title naming what a comparison varies.

Both come from the settings that differ between the runs' configs (dnnexp.runs.configs), written
short: `model.layers[0].init.name` is "init", `optimizer.lr` is "lr", and layers of different
types, or present in one run only, are "layers".
"""

from __future__ import annotations

import re
from typing import Any, Sequence

from dnnexp.runs.configs import differing_keys, flatten_config
from dnnexp.runs.rundir import RunDir

# Beyond this many differing settings a label or title would not fit.
MAX_KEYS = 3
_INDEX = re.compile(r"\[(\d+)\]")


def _value(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _parts(key: str) -> list[str]:
    """A dotted key's names without list indices: `model.layers[0].init.std` → model, layers, init, std."""
    return [part for part in re.split(r"[.\[\]]+", key) if part and not part.isdigit()]


def setting_name(key: str) -> str:
    """How a legend names a setting: its last name, or for a registered name (`init.name`,
    `optimizer.name`) what it names: `optimizer.lr` → lr, `model.layers[0].init.name` → init."""
    *parents, leaf = _parts(key)
    return parents[-1] if leaf == "name" and parents else leaf


def _reshaped_elements(keys: list[str], flat: list[dict[str, Any]]) -> set[str]:
    """The list elements (as `model.layers[1]`) that are not the same thing in every config: their
    type differs, or some config has no element at that index."""
    reshaped = set()
    for key in keys:
        match = _INDEX.search(key)
        if match is None:
            continue
        element = key[: match.end()]
        inside = lambda k: k == element or k.startswith((element + ".", element + "["))  # noqa: E731
        if key.endswith(".type") or any(not any(map(inside, config)) for config in flat):
            reshaped.add(element)
    return reshaped


def differences(runs: Sequence[RunDir]) -> list[str]:
    """What differs between `runs`, short and in first-seen order: ["activation", "init"], ["lr"],
    ["layers"]. An argument of a registered name is named with it ("init std") while the name itself
    is the same in all runs, and is part of it ("init") when the name differs too."""
    configs = [run.config() for run in runs]
    keys = differing_keys(configs)
    flat = [flatten_config(config) for config in configs]
    reshaped = _reshaped_elements(keys, flat)
    names = []
    for key in keys:
        match = _INDEX.search(key)
        if match is not None and key[: match.end()] in reshaped:
            names.append(_parts(key[: match.start()])[-1])
            continue
        *parents, leaf = _parts(key)
        owner = key.rsplit(".", 1)[0]
        if leaf == "name" and parents:
            names.append(parents[-1])
        elif parents and any(f"{owner}.name" in config for config in flat):
            names.append(parents[-1] if f"{owner}.name" in keys else f"{parents[-1]} {leaf}")
        else:
            names.append(leaf)
    return list(dict.fromkeys(names))


def comparison_title(runs: Sequence[RunDir]) -> str:
    """A comparison's title: what differs between the runs ("activation × init: 4 runs"), or the
    run's folder for a single run."""
    if len(runs) == 1:
        return runs[0].name
    varied = differences(runs)
    if not varied:
        return f"{len(runs)} runs"
    shown = " × ".join(varied[:MAX_KEYS]) + (" × …" if len(varied) > MAX_KEYS else "")
    return f"{shown}: {len(runs)} runs"


def run_labels(runs: Sequence[RunDir]) -> list[str]:
    """A legend label per run: the spec's name (relu_he, sigmoid_normal, …) where the runs' specs
    have different names; else the settings that differ, short ("lr=0.01, peeky=True"); else, or
    when too many differ, the run folders' names."""
    configs = [run.config() for run in runs]
    names = [str(config.get("name", run.name)) for config, run in zip(configs, runs)]
    if len(set(names)) == len(names):
        return names
    keys = differing_keys(configs)
    if not keys or len(keys) > MAX_KEYS:
        return [run.name for run in runs]
    flat = [flatten_config(config) for config in configs]
    return [
        ", ".join(dict.fromkeys(f"{setting_name(key)}={_value(config.get(key, '-'))}" for key in keys))
        for config in flat
    ]
