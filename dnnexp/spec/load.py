"""From a spec file (or a plain mapping) to a validated Spec, with every problem reported at once.

A problem reads `spec.yaml:12: model.layers[2].activation: 'rellu' is not an activation; did you
mean 'relu'?`: where, which key, what is wrong and, where it can tell, how to fix it.
"""

from __future__ import annotations

import os
import re
import reprlib
import stat
from pathlib import Path
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from pydantic import ValidationError

from dnnexp.errors import DnnexpError, SpecError
from dnnexp.spec.arguments import did_you_mean
from dnnexp.spec.schema import SpecBase
from dnnexp.spec.yamlio import Document, dotted, read_yaml


@dataclass(frozen=True)
class Kinds:
    """The `kind:` values a spec may give (dnnexp.tasks supplies them): each kind's spec class,
    older names that still read as a kind, and the kind of a spec that gives none."""

    classes: Mapping[str, type[SpecBase]]
    aliases: Mapping[str, str]
    default: str


def load_spec(path: Path | str, overrides: Iterable[str], kinds: Kinds) -> SpecBase:
    """Read, override (`--set KEY.PATH=VALUE`) and validate a YAML spec as the class its `kind:`
    picks from `kinds`; raises SpecError.

    A spec may start from another: `extends: ../base.yaml` (relative to the spec's own folder)
    takes every key of that file that the spec does not set itself. The run name defaults to
    the file's stem.
    """
    document = read_spec_file(Path(path), ())
    document.apply_overrides(overrides)
    return validate(document, kinds)


EXTENDS = "extends"
#: a spec is a page of settings: a larger file is a mistake (or /dev/zero), not a spec
MAX_SPEC_BYTES = 1_000_000
#: the longest `extends:` chain, counting the spec itself; the course's configs use two or three
MAX_EXTENDS = 10
SPEC_SUFFIXES = (".yaml", ".yml")


def read_spec_file(path: Path, extended_by: tuple[Path, ...]) -> Document:
    """A spec file as a document, with its `extends:` chain merged in.

    `extends:` names another spec relative to this file's folder (it may climb with `..`, as the
    course's configs share their bases): never an absolute path, and always a .yaml or .yml file,
    so that specs move together and no other kind of file (/etc/passwd, /proc/…, a device) is read
    as a spec and its lines shown in problems.
    """
    document = read_yaml(read_spec_text(path), str(path))
    if not isinstance(document.data, dict):
        return document
    document.data.setdefault("name", path.stem)
    base = document.data.pop(EXTENDS, None)
    if base is None:
        return document
    place, _ = document.locate((EXTENDS,))
    how = "give the path of the spec to start from, relative to this file, e.g. ../base/fashion.yaml"
    if not isinstance(base, str) or not base:
        raise SpecError(f"{place}: {EXTENDS}: {how}")
    if Path(base).is_absolute() or base.startswith("~"):
        raise SpecError(f"{place}: {EXTENDS}: {base} is an absolute path; {how}, so that the specs can move together")
    if Path(base).suffix.lower() not in SPEC_SUFFIXES:
        raise SpecError(f"{place}: {EXTENDS}: {base} is not a .yaml or .yml file; a spec extends another spec")
    base_path = path.parent / base
    chain = extended_by + (path.resolve(),)
    if base_path.resolve() in chain:
        raise SpecError(f"{place}: {EXTENDS}: {base} extends this spec in turn; break the circle")
    if len(chain) >= MAX_EXTENDS:
        raise SpecError(
            f"{place}: {EXTENDS}: more than {MAX_EXTENDS} specs extend one another here; "
            "merge some of the bases into one"
        )
    try:
        inherited = read_spec_file(base_path, chain)
    except DnnexpError as error:
        raise type(error)(f"{place}: {EXTENDS}: {error}") from None
    if not isinstance(inherited.data, dict):
        raise SpecError(f"{place}: {EXTENDS}: {base} holds no mapping of spec keys; extend a spec")
    document.extend(inherited)
    return document


def read_spec_text(path: Path) -> str:
    """The text of a spec file: a regular file of at most MAX_SPEC_BYTES, in UTF-8.

    Opened without blocking, so that a named pipe is refused rather than waited on, and its kind
    and size are those of the file opened, not of whatever the path named a moment before.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise DnnexpError(f"{path}: no such spec file; check the path") from None
    except OSError as error:
        raise DnnexpError(f"{path}: cannot read the spec ({error.strerror})") from None
    try:
        size, mode = os.fstat(fd).st_size, os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise DnnexpError(f"{path} is a folder; give the path of a YAML spec file")
        if not stat.S_ISREG(mode):
            kind = "a named pipe" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
            raise DnnexpError(f"{path} is {kind}, not a file; give the path of a YAML spec file")
        with open(fd, "rb", closefd=False) as file:
            raw = file.read(MAX_SPEC_BYTES + 1) if size <= MAX_SPEC_BYTES else b""
    finally:
        os.close(fd)
    if size > MAX_SPEC_BYTES or len(raw) > MAX_SPEC_BYTES:
        raise SpecError(
            f"{path}: {max(size, len(raw)):,} bytes, more than the {MAX_SPEC_BYTES:,} a spec may have; "
            "a spec holds settings — keep data in data files"
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SpecError(f"{path}: not UTF-8 text; a spec is a YAML file") from None


def spec_from_dict(raw: dict[str, Any], kinds: Kinds, source: str = "<spec>") -> SpecBase:
    """Validate a spec given as plain data (e.g. a run's config.yaml); `source` names it in problems."""
    return validate(Document(raw, source), kinds)


def validate(document: Document, kinds: Kinds) -> SpecBase:
    """The spec class of the document's `kind:`, validated; raises SpecError listing every problem."""
    data = document.data
    if not isinstance(data, dict):
        found = "nothing" if data is None else f"a {type(data).__name__}"
        raise SpecError(f"{document.source}: a spec is a mapping of keys (name, data, model, …); found {found}")
    kind = data.get("kind", kinds.default)
    kind = kinds.aliases.get(kind, kind) if isinstance(kind, str) else kind
    if not isinstance(kind, str) or kind not in kinds.classes:
        place, _ = document.locate(("kind",))
        raise SpecError(f"{place}: kind: '{kind}' is not a kind of spec{did_you_mean(kind, kinds.classes)}")
    try:
        return kinds.classes[kind].model_validate({**data, "kind": kind})
    except ValidationError as error:
        problems = sorted({describe(problem, document) for problem in one_per_union(error.errors(), data)})
        raise SpecError([text for _, text in problems]) from None


def one_per_union(problems: list[dict[str, Any]], data: Any) -> list[dict[str, Any]]:
    """Pydantic's problems with a value of a union type (`padding: 'valid' | 'same' | int | [h, w]`)
    told once: pydantic reports one per member of the union.

    Where one member took the value's type and found a problem inside it (`padding[1]: should be
    greater than or equal to 0`), that problem alone is kept; where none did, the members' wishes
    are joined: `should be 'valid' or 'same', or a valid integer, or a valid tuple, got 'sam'`.
    """
    paths = [_data_path(tuple(problem["loc"]), data) for problem in problems]
    told: dict[Any, dict[str, Any]] = {}  # in order: a problem's index, or a union value's path → problem
    for index, (problem, path) in enumerate(zip(problems, paths)):
        if len(problem["loc"]) == len(path):  # no union member's tag was stripped from its location
            told[index] = problem
        elif any(len(other) > len(path) and other[: len(path)] == path for other in paths):
            continue  # a member that fits the value's type says what is wrong inside it
        elif path in told:
            wish = problem["msg"].removeprefix("Input should be ")
            told[path] = {**told[path], "msg": f"{told[path]['msg']}, or {wish}"}
        else:
            told[path] = problem
    return list(told.values())


def describe(problem: dict[str, Any], document: Document) -> tuple[float, str]:
    """(line, `file:line: path: message`) for one pydantic problem."""
    path = _data_path(tuple(problem["loc"]), document.data)
    place, line = document.locate(path)
    where = dotted(path)
    if problem["type"] == "layer_shape":
        where += f" ({problem['ctx']['layer_type']})"
    message = _message(problem, path, document)
    return line, f"{place}: {where}: {message}" if where else f"{place}: {message}"


def _message(problem: dict[str, Any], path: tuple[Any, ...], document: Document) -> str:
    message, value = problem["msg"], problem.get("input")
    word = document.words.get(path)
    if isinstance(value, bool) and word is not None and problem["type"] in ("string_type", "name_type"):
        key = f"{path[-1]}: " if path and isinstance(path[-1], str) else "- "
        return f"{word} was read as the boolean {str(value).lower()}; quote it: {key}'{word}'"
    if message == "Field required":
        return "missing; this key is required"
    wrong = _PYDANTIC_WORDING.match(message)
    if wrong:  # "Input should be greater than 0" → "should be greater than 0, got -0.1"
        message = "should " + wrong["rest"].replace(" after validation", "")
        return message if problem["type"] in ("too_short", "too_long") else f"{message}, got {reprlib.repr(value)}"
    return message


_PYDANTIC_WORDING = re.compile(r"(?:Input|List|String|Tuple|Dictionary|Value) should (?P<rest>.*)", re.S)


def _data_path(loc: tuple[Any, ...], data: Any) -> tuple[Any, ...]:
    """`loc` without pydantic's union-member tags (`int`, `tuple[int, int]`): only steps into the data."""
    path: tuple[Any, ...] = ()
    for part in loc:
        if isinstance(data, dict):
            path, data = path + (part,), data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            path, data = path + (part,), data[part]
    return path
