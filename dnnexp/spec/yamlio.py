"""YAML in, plain data out: the spec loader, where each value came from, and `--set` overrides.

PyYAML's safe loader, with the changes a spec's reader needs: `1e-3` is a float (PyYAML's
YAML 1.1 resolver reads it as a string), a repeated key is an error rather than a silent
overwrite, every key keeps its line so that a problem can be reported as `spec.yaml:12`, and a
document too deep, too large once its aliases are expanded (a "billion laughs"), holding a
control character or a number that is not finite is refused with its line before it is built.
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass, field
from typing import Any, Hashable, Iterable

import yaml

from dnnexp.errors import SpecError
from dnnexp.runs.configs import dotted

#: a place in a spec: mapping keys and list indices, e.g. ("model", "layers", 2, "activation")
Path = tuple[Any, ...]

_FLOAT_TAG = "tag:yaml.org,2002:float"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_MERGE_TAG = "tag:yaml.org,2002:merge"

# YAML 1.1's float pattern plus YAML 1.2's exponent without a dot (1e-3, 1E+5).
_FLOAT = re.compile(
    r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+
    |\.[0-9_]+(?:[eE][-+]?[0-9]+)?
    |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)


#: how deep a spec may nest, and how many values (scalars, lists, mappings) it may hold once its
#: aliases are expanded: far beyond any real spec (a few levels, a few hundred values), far below
#: what would exhaust Python's stack or the machine's memory
MAX_DEPTH = 50
MAX_VALUES = 100_000


class _Refused(yaml.MarkedYAMLError):
    """A document that is well-formed YAML but not one to build; told as `file:line:column: problem`."""


class SpecLoader(yaml.SafeLoader):
    """The safe loader with YAML 1.2 floats that measures each node as it composes it (how many
    values and levels it expands to, counting every alias again) and refuses one beyond
    MAX_VALUES or MAX_DEPTH; build documents with `read_yaml`, not `yaml.load`."""

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != _FLOAT_TAG]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def __init__(self, stream: str):
        super().__init__(stream)
        self.depth = 0
        self.expanded: dict[yaml.Node, tuple[int, int]] = {}  # node → (values, levels) with aliases expanded

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        # Measured once per node, from its already measured children: linear in the text, however
        # many times an alias repeats a node, so a billion laughs is refused in milliseconds.
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            node = super().compose_node(parent, index)
            if node not in self.expanded:  # an alias inside its own anchor: `a: &a [*a]`
                raise _Refused(None, None, f"*{event.anchor} refers to a value that holds it; a spec cannot contain itself", event.start_mark)
            return node
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _Refused(None, None, f"nested more than {MAX_DEPTH} levels deep; a spec needs a few levels (check the brackets)", self.peek_event().start_mark)
        node = super().compose_node(parent, index)
        self.depth -= 1
        children = node.value if isinstance(node, yaml.SequenceNode) else [
            child for pair in node.value for child in pair
        ] if isinstance(node, yaml.MappingNode) else []
        values = 1 + sum(self.expanded[child][0] for child in children)
        levels = 1 + max((self.expanded[child][1] for child in children), default=0)
        if values > MAX_VALUES:
            raise _Refused(
                None, None,
                f"this value holds {values:,} values once its aliases (*name) are expanded, more than the "
                f"{MAX_VALUES:,} a spec may hold; write it out with fewer aliases of aliases",
                node.start_mark,
            )
        if levels > MAX_DEPTH:
            raise _Refused(
                None, None, f"this value nests {levels} levels deep once its aliases (*name) are expanded, more than "
                f"the {MAX_DEPTH} a spec may; write it out with fewer aliases of aliases", node.start_mark,
            )
        self.expanded[node] = values, levels
        return node


SpecLoader.add_implicit_resolver(_FLOAT_TAG, _FLOAT, list("-+0123456789."))


@dataclass
class Document:
    """A YAML document as plain data, with where each of its values came from.

    `lines` maps a path to the line of its key (or list item); `words` keeps the raw text of
    scalars that YAML 1.1 reads as booleans (`off`, `yes`, …), so that a value that should have
    been a string can be named as written; `set_by` maps the paths that `--set` replaced to
    the override that did it.
    """

    data: Any
    source: str
    lines: dict[Path, int] = field(default_factory=dict)
    words: dict[Path, str] = field(default_factory=dict)
    set_by: dict[Path, str] = field(default_factory=dict)
    inherited: dict[Path, str] = field(default_factory=dict)  # path → the extended file it came from

    def locate(self, path: Path) -> tuple[str, float]:
        """(`spec.yaml:12` or `--set a.b=1`, a line to sort by) for the nearest known place."""
        for end in range(len(path), -1, -1):
            prefix = path[:end]
            if prefix in self.set_by:
                return f"--set {self.set_by[prefix]}", math.inf
            if prefix in self.lines:
                return f"{self.inherited.get(prefix, self.source)}:{self.lines[prefix]}", self.lines[prefix]
        return self.source, 0

    def extend(self, base: Document) -> None:
        """Lay this document over `base` (its `extends:`): mappings merge key by key, anything
        else — a list of layers, a number — replaces the base's value whole."""
        self.data = merge(base.data, self.data)
        self.lines = {path: line for path, line in self.lines.items() if path[:1] != ("extends",)}

        def replaced(path: Path) -> bool:
            return any(
                path[:end] in self.lines and not isinstance(_get(self.data, path[:end]), dict)
                for end in range(1, len(path) + 1)
            )

        for place in [p for p in base.lines if not replaced(p)]:
            self.lines[place] = base.lines[place]
            self.inherited[place] = base.inherited.get(place, base.source)
        self.words.update({p: w for p, w in base.words.items() if not replaced(p)})


    def apply_overrides(self, overrides: Iterable[str]) -> None:
        """Apply `--set KEY.PATH=VALUE` overrides in order; later ones win."""
        for text in overrides:
            shown = printable(text)
            path, value = _parse_override(text, shown)
            self.data = _set(self.data, path, value.data, shown)
            for places in (self.lines, self.words, self.set_by):
                for known in [p for p in places if p[: len(path)] == path]:
                    del places[known]
            self.set_by[path] = shown
            self.words.update({path + sub: word for sub, word in value.words.items()})


def merge(base: Any, override: Any) -> Any:
    """`override` laid over `base`: mappings merge key by key, any other value is replaced."""
    if not (isinstance(base, dict) and isinstance(override, dict)):
        return override
    merged = dict(base)
    for key, value in override.items():
        merged[key] = merge(base[key], value) if key in base else value
    return merged


def _get(data: Any, path: Path) -> Any:
    for part in path:
        data = data[part]
    return data


def read_yaml(text: str, source: str, at: Path = ()) -> Document:
    """Parse one YAML document; a syntax error, repeated key, control character, number that is
    not finite, or a document too deep or too large raises SpecError with file:line.

    `at` is where the document sits in a spec (a `--set` value's key), for naming its values.
    """
    try:
        loader = SpecLoader(text)
    except yaml.reader.ReaderError as error:  # PyYAML checks the whole text for unprintable characters first
        before = text[: error.position]
        where = f"{source}:{before.count(chr(10)) + 1}:{len(before) - before.rfind(chr(10))}"
        raise SpecError(f"{where}: the control character U+{error.character:04X} cannot be in a YAML file; delete it") from None
    try:
        node = loader.get_single_node()
        builder = _Builder(loader, source, at, one_line="\n" not in text.strip())
        data = builder.build(node, ()) if node is not None else None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        if isinstance(error, _Refused):
            raise SpecError(f"{where}: {error.problem}") from None
        context = f" ({error.context})" if error.context else ""
        raise SpecError(f"{where}: YAML syntax error: {error.problem}{context}") from None
    except yaml.YAMLError as error:
        raise SpecError(f"{source}: YAML error: {error}") from None
    finally:
        loader.dispose()
    if builder.problems:
        raise SpecError(builder.problems)
    return Document(data, source, builder.lines, builder.words)


def apply_overrides(raw: dict[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """A copy of `raw` with `--set KEY.PATH=VALUE` overrides applied, e.g. `model.layers[0].units=256`.

    VALUE is read as YAML (`0.01`, `[3, 3]`, `null`). Keys the spec lacks are added, for the schema
    to judge; a name given where a mapping is needed becomes one (`optimizer: adam` with
    `--set optimizer.lr=0.1` gives `{name: adam, lr: 0.1}`).
    """
    document = Document(copy.deepcopy(raw), "<spec>")
    document.apply_overrides(overrides)
    return document.data


#: a `--set KEY.PATH=VALUE`; a sweep reads its keys with it too
OVERRIDE = re.compile(r"(?P<path>[A-Za-z_]\w*(?:\[\d+\])*(?:\.[A-Za-z_]\w*(?:\[\d+\])*)*)=(?P<value>.*)", re.S)
_PART = re.compile(r"([A-Za-z_]\w*)|\[(\d+)\]")


def _parse_override(text: str, shown: str) -> tuple[Path, Document]:
    match = OVERRIDE.fullmatch(text)
    if not match:
        raise SpecError(
            f"--set {shown}: an override has the form KEY.PATH=VALUE, e.g. optimizer.lr=0.01 or model.layers[0].units=256"
        )
    path = tuple(key if key else int(index) for key, index in _PART.findall(match["path"]))
    if len(path) > MAX_DEPTH:
        raise SpecError(f"--set {shown}: the key path has {len(path)} parts, more than the {MAX_DEPTH} a spec may nest")
    return path, read_yaml(match["value"], f"--set {shown}", path)


def printable(text: str) -> str:
    """`text` for a message: characters a terminal would not show (a newline, a control
    character) written as Python escapes, so that the message points at them."""
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def _set(data: Any, path: Path, value: Any, text: str) -> Any:
    """`data` with the value at `path` replaced; containers on the way are created as needed."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(head, int):
        if not isinstance(data, list):
            raise SpecError(f"--set {text}: [{head}] indexes a list, but here the spec has {_kind(data)}")
        if head >= len(data):
            raise SpecError(f"--set {text}: index [{head}] is out of range; the list has {len(data)} items")
        data[head] = _set(data[head], rest, value, text)
        return data
    if data is None:
        data = {}
    elif isinstance(data, str):
        data = {"name": data}  # a registry name written short, like `optimizer: adam`
    if not isinstance(data, dict):
        raise SpecError(f"--set {text}: .{head} names a key, but here the spec has {_kind(data)}")
    data[head] = _set(data.get(head), rest, value, text)
    return data


def _kind(value: Any) -> str:
    return "a list" if isinstance(value, list) else f"the value {value!r}"


class _Builder:
    """Turns composed YAML nodes into plain data, noting lines, boolean words and repeated keys."""

    def __init__(self, loader: SpecLoader, source: str, at: Path, one_line: bool):
        self.loader, self.source, self.at, self.one_line = loader, source, at, one_line
        self.lines: dict[Path, int] = {}
        self.words: dict[Path, str] = {}
        self.problems: list[str] = []
        self.merged: dict[yaml.MappingNode, int] = {}  # an aliased mapping is built again, but flattened once

    def build(self, node: yaml.Node, path: Path) -> Any:
        if isinstance(node, yaml.MappingNode) and node.tag == "tag:yaml.org,2002:map":
            return self.mapping(node, path)
        if isinstance(node, yaml.SequenceNode) and node.tag == "tag:yaml.org,2002:seq":
            items = []
            for index, item in enumerate(node.value):
                self.lines[path + (index,)] = item.start_mark.line + 1
                items.append(self.build(item, path + (index,)))
            return items
        if node.tag == _BOOL_TAG:
            self.words[path] = node.value
        value = self.loader.construct_object(node, deep=True)
        if isinstance(value, float) and not math.isfinite(value):
            self.problems.append(
                f"{self.place(node, path)}: {node.value} is not a finite number; give a number such as 0.01"
            )
        return value

    def mapping(self, node: yaml.MappingNode, path: Path) -> dict[Any, Any]:
        if node not in self.merged:
            own = sum(key.tag != _MERGE_TAG for key, _ in node.value)
            self.loader.flatten_mapping(node)  # `<<: *anchor` merges come first, own keys after
            self.merged[node] = len(node.value) - own
        merged = self.merged[node]
        result: dict[Any, Any] = {}
        first_line: dict[Any, int] = {}
        for position, (key_node, value_node) in enumerate(node.value):
            key = self.loader.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if not isinstance(key, Hashable):
                self.problems.append(f"{self.place(key_node, path)}: a key must be a plain word")
                continue
            if key in first_line and position >= merged:
                self.problems.append(
                    f"{self.place(key_node, path + (key,))}: duplicate key (first at line {first_line[key]}); "
                    "keep one of them"
                )
                continue
            if position >= merged:
                first_line[key] = line
            self.lines[path + (key,)] = line
            result[key] = self.build(value_node, path + (key,))
        return result

    def place(self, node: yaml.Node, path: Path) -> str:
        """`spec.yaml:12: model.lr`, or `--set model.lr=x: model.lr` for a value given on one line."""
        where = self.source if self.one_line else f"{self.source}:{node.start_mark.line + 1}"
        return f"{where}: {dotted(self.at + path)}" if self.at + path else where
