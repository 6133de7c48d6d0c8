"""Safe YAML: SafeLoader only, no anchors or aliases (no billion-laughs), line numbers kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from kamcore.errors import Location, WorkspaceError

LINE_KEY = "__line__"
KEY_LINES = "__key_lines__"
MAX_YAML_BYTES = 64 * 1024 * 1024
#: Deeper nesting than any kamcore file needs; refused before recursive code walks it.
MAX_DEPTH = 64


class _SafeLineLoader(yaml.SafeLoader):
    """SafeLoader that refuses aliases and records each mapping's line under ``__line__``."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.MarkedYAMLError(
                "while reading", None,
                "anchors and aliases (&name / *name) are not allowed in kamcore files",
                event.start_mark)
        return super().compose_node(parent, index)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        mapping = super().construct_mapping(node, deep=deep)
        mapping[LINE_KEY] = node.start_mark.line + 1
        mapping[KEY_LINES] = {key.value: key.start_mark.line + 1 for key, _ in node.value
                              if isinstance(key, yaml.ScalarNode)}
        return mapping


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
        loaded = yaml.load(text, Loader=_SafeLineLoader)
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
