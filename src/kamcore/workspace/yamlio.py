"""Safe YAML: SafeLoader only, no anchors or aliases (no billion-laughs), line numbers kept."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

from kamcore.errors import Location, WorkspaceError

LINE_KEY = "__line__"
KEY_LINES = "__key_lines__"
MAX_YAML_BYTES = 64 * 1024 * 1024
#: Deeper nesting than any kamcore file needs; refused before recursive code walks it.
MAX_DEPTH = 64


class _LineMixin:
    """Each mapping records its line under ``__line__`` and its keys' lines."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)  # type: ignore[misc]
        mapping[LINE_KEY] = node.start_mark.line + 1
        mapping[KEY_LINES] = {key.value: key.start_mark.line + 1 for key, _ in node.value
                              if isinstance(key, yaml.ScalarNode)}
        return mapping


class _SafeLineLoader(_LineMixin, yaml.SafeLoader):
    """SafeLoader that refuses aliases and records each mapping's line under ``__line__``."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.MarkedYAMLError(
                "while reading", None,
                "anchors and aliases (&name / *name) are not allowed in kamcore files",
                event.start_mark)
        return super().compose_node(parent, index)


class _FastLineLoader(_LineMixin, getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """libyaml's parser (4x faster on a 10,000-line plan file), same rules: the tree is
    composed in C, so aliases are found by walking it (an alias is a node met twice)."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        # the same plain scalars (keys, ops) recur on every line: match each text once
        if kind is yaml.ScalarNode and implicit[0] and isinstance(value, str):
            return _resolve_plain(value)
        return super().resolve(kind, value, implicit)

    def get_single_data(self) -> Any:
        node = self.get_single_node()
        if node is None:
            return None
        _refuse_aliases(node)
        return self.construct_document(node)

    def construct_document(self, node: yaml.Node) -> Any:
        """What SafeLoader builds, for a tenth of its per-node cost on the plain nodes (text
        scalars, mappings with text keys, lists); any other node is built by SafeLoader's
        own constructors (numbers, dates, merge keys ``<<``, tags)."""
        try:
            return self._plain(node)
        finally:
            self.constructed_objects: dict[Any, Any] = {}
            self.recursive_objects: dict[Any, Any] = {}
            self.deep_construct = False

    def _plain(self, node: yaml.Node) -> Any:
        tag = node.tag
        if tag == _STR and type(node) is yaml.ScalarNode:
            return node.value
        if tag == _SEQ and type(node) is yaml.SequenceNode:
            return [self._plain(item) for item in node.value]
        if tag == _MAP and type(node) is yaml.MappingNode and all(
                key.tag == _STR and type(key) is yaml.ScalarNode for key, _ in node.value):
            mapping = {key.value: self._plain(value) for key, value in node.value}
            mapping[LINE_KEY] = node.start_mark.line + 1
            mapping[KEY_LINES] = {key.value: key.start_mark.line + 1 for key, _ in node.value}
            return mapping
        return self.construct_object(node, deep=True)


_STR, _SEQ, _MAP = "tag:yaml.org,2002:str", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"


@functools.lru_cache(maxsize=4096)
def _resolve_plain(value: str) -> str:
    """The tag YAML gives a plain scalar (int, bool, date, null, str ...), memoised."""
    return str(yaml.SafeLoader.resolve(_RESOLVER, yaml.ScalarNode, value, (True, False)))


_RESOLVER = yaml.SafeLoader("")


def _refuse_aliases(root: yaml.Node) -> None:
    """:raises yaml.MarkedYAMLError: a node is reached twice (``*name``), at its use."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            raise yaml.MarkedYAMLError(
                "while reading", None,
                "anchors and aliases (&name / *name) are not allowed in kamcore files",
                node.start_mark)
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.extend((key, value))


class _FastLineLoaderNoAliases(_FastLineLoader):
    """For a text without ``*``: an alias is written ``*name``, so there is none to look for
    (the walk over every node costs a tenth of reading a 10,000-line plan)."""

    def get_single_data(self) -> Any:
        node = self.get_single_node()
        return None if node is None else self.construct_document(node)


_LOADER = _FastLineLoader if getattr(yaml, "__with_libyaml__", False) else _SafeLineLoader


def read_yaml(path: Path) -> Any:
    """Parse ``path`` safely. Every failure is a :class:`WorkspaceError` naming file and line."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise WorkspaceError(f"{path} does not exist",
                             hint="run `kam init DIR` to create a workspace") from None
    except OSError as exc:
        raise WorkspaceError(f"cannot read {path}: {exc.strerror}") from None
    if len(raw) > MAX_YAML_BYTES:
        raise WorkspaceError(f"{path} is larger than {MAX_YAML_BYTES // 2**20} MiB",
                             hint="keep large tables in accounts.csv and people.csv")
    text = decode_text(raw, path)
    try:
        loader = (_FastLineLoaderNoAliases if _LOADER is _FastLineLoader and "*" not in text
                  else _LOADER)
        loaded = yaml.load(text, Loader=loader)
        _check_depth(loaded, path)
        return loaded
    except RecursionError:
        raise WorkspaceError("lists or mappings nest too deeply to read",
                             location=Location(str(path)),
                             hint=f"kamcore files nest at most {MAX_DEPTH} levels") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        if "could not determine a constructor" in str(exc):
            problem = (f"{problem.strip()}: kamcore reads plain YAML only (no !!python or other "
                       "tags)")
        raise WorkspaceError(f"invalid YAML: {problem}", location=Location(str(path), line),
                             hint="fix the YAML at that line (indentation, quotes, colons)",
                             ) from None
    except yaml.YAMLError as exc:
        raise WorkspaceError(f"invalid YAML: {exc}", location=Location(str(path))) from None


def _check_depth(value: Any, path: Path) -> None:
    """Refuse nesting deeper than :data:`MAX_DEPTH` (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = (node.values() if isinstance(node, dict)
                    else node if isinstance(node, list) else ())
        for child in children:
            if isinstance(child, (dict, list)):
                if depth >= MAX_DEPTH:
                    line = child.get(LINE_KEY) if isinstance(child, dict) else None
                    raise WorkspaceError("lists or mappings nest more than "
                                         f"{MAX_DEPTH} levels deep",
                                         location=Location(str(path), line),
                                         hint="flatten it: kamcore settings nest a few levels")
                stack.append((child, depth + 1))


def strip_lines(value: Any) -> Any:
    """``value`` without the ``__line__`` bookkeeping keys, recursively."""
    if isinstance(value, dict):
        return {k: strip_lines(v) for k, v in value.items() if k not in (LINE_KEY, KEY_LINES)}
    if isinstance(value, list):
        return [strip_lines(v) for v in value]
    return value


def decode_text(raw: bytes, path: Path) -> str:
    """UTF-8 with or without BOM; a bad byte is reported with its line."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise WorkspaceError(
            f"byte {raw[exc.start]:#04x} is not valid UTF-8",
            location=Location(str(path), line),
            hint="save the file as UTF-8 (in Excel: 'CSV UTF-8 (Comma delimited)')") from None


def line_of(raw: Any, loc: tuple[Any, ...]) -> int | None:
    """The line of ``loc`` (keys and indexes) in YAML read by :func:`read_yaml`; the nearest
    enclosing line when ``loc`` itself has none."""
    line = raw.get(LINE_KEY) if isinstance(raw, dict) else None
    node = raw
    for part in loc:
        if isinstance(node, dict) and part in node.get(KEY_LINES, {}):
            line = node[KEY_LINES][part]
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and part < len(node)
        if in_dict or in_list:
            node = node[part]
        else:
            break
        if isinstance(node, dict) and LINE_KEY in node:
            line = node[LINE_KEY]
    return line
