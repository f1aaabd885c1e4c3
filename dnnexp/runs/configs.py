"""Resolved specs as runs record them (config.yaml): paths into them, and where several differ.

Compare, plot legends and `--resume` all ask which settings differ between configs; this is the
one answer, in the dotted paths a spec's reader writes (`model.layers[2].activation`).
"""

from __future__ import annotations

from typing import Any, Iterator


def dotted(path: tuple[Any, ...]) -> str:
    """A path into a config as a spec's reader writes it: `model.layers[2].activation`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) and not isinstance(part, bool) else f".{part}"
    return text.lstrip(".")


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    # Nested mappings and lists are walked down to their leaves; empty ones are leaves themselves.
    if isinstance(value, dict) and value:
        for key, item in value.items():
            yield from _leaves(item, path + (key,))
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            yield from _leaves(item, path + (index,))
    else:
        yield path, value


def flatten_config(config: dict[str, Any]) -> dict[str, Any]:
    """A nested config as {dotted path: value}, e.g. {"optimizer.lr": 0.01, "model.layers[0].units": 100}."""
    return {dotted(path): value for path, value in _leaves(config)}


def differing_keys(configs: list[dict[str, Any]]) -> list[str]:
    """The dotted paths whose values are not the same in all `configs` (a missing key counts as differing).

    `name` is left out: the run folder already names each run. Paths come in the order they first
    appear.
    """
    flat = [flatten_config(config) for config in configs]
    paths = dict.fromkeys(path for config in flat for path in config if path != "name")
    missing = object()
    return [path for path in paths if len({repr(config.get(path, missing)) for config in flat}) > 1]
