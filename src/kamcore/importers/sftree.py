"""Salesforce CLI data trees (``sf data export tree``) read as a table of rows.

An export is JSON in sObject tree form: ``{"records": [...]}``, each record with
``attributes.type`` and ``attributes.referenceId`` (``AccountRef1``) and no ``Id``; children
of the same type nest under a relationship (``ChildAccounts: {"records": [...]}``), and with
``--plan`` the records of each type sit in their own file, a parent named ``"@AccountRef3"``,
and a plan file lists the files (``[{"sobject": "Account", "files": ["Accounts.json"]}]``).

This module turns one into the same :class:`~kamcore.workspace.csvio.Table` a CSV export
gives, so the one import engine maps it: records of the root type become rows (nested ones with
their parent set), ids are made from names (``Globex Corporation`` -> ``GLOBEX-CORPORATION``,
as stable as the names: referenceIds are renumbered by every export), references to records of
the tree become those ids, and the referenceId is kept as a column. A reference to no record of
the tree is left as written, so the import reports it with its record. Each row's line is the
line of its ``referenceId`` in its file.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kamcore.errors import Location, WorkspaceError
from kamcore.wording import noun, plural
from kamcore.workspace.csvio import Table, format_cell

_REF_AT = re.compile(r'"referenceId"\s*:\s*"((?:[^"\\]|\\.)*)"')


def looks_like_tree(path: str | Path, head: bytes) -> bool:
    """A ``.json`` file, or one that opens like JSON (``{"`` or ``[{``, spaces aside), which
    a CSV header such as ``[Id],[Name]`` does not."""
    text = re.sub(rb"\s+", b"", head.removeprefix(b"\xef\xbb\xbf"))
    return Path(path).suffix.lower() == ".json" or text[:2] in (b'{"', b"[{", b"[]")


def is_tree_file(path: str | Path) -> bool:
    """Whether ``path`` is a data tree (``False`` when it cannot be read: the reader says why)."""
    try:
        with open(path, "rb") as handle:
            return looks_like_tree(path, handle.read(64))
    except OSError:
        return False


def tree_key(value: str) -> str:
    """The matching key of an id in an import from a tree: a Salesforce Id (an OwnerId) by its
    15-character form, an id made from a name as written."""
    from kamcore.importers.salesforce import id15

    try:
        return id15(value)
    except ValueError:
        return value.strip()


@dataclass
class _Record:
    file: Path
    line: int
    ref: str
    cells: dict[str, str]
    parent_ref: str | None = None


@dataclass
class _Reading:
    """What reading the files found: records of the root type, problems, notes."""

    root: str | None = None
    records: list[_Record] = field(default_factory=list)
    problems: list[WorkspaceError] = field(default_factory=list)
    #: Records of other types met in the tree, by type.
    skipped: dict[str, int] = field(default_factory=dict)
    #: Files of a plan that hold other types, by type.
    other_files: dict[str, list[str]] = field(default_factory=dict)


def read_tree(path: str | Path, text: str) -> tuple[Table, list[WorkspaceError], list[str]]:
    """The records of a tree file or a plan file as a table.

    :param text: the file's text (already decoded).
    :returns: the table, problems (located records that cannot be used), notes for the report.
    :raises WorkspaceError: not JSON, not a tree or plan, a plan file that is missing.
    """
    target = Path(path)
    data = _load(target, text)
    reading = _Reading()
    files: list[Path]
    if isinstance(data, list):  # a plan: the first entry is the queried (root) object
        files = _plan_files(target, data, reading)
        for file in files:
            body = _text(file)
            _read_file(file, body, _load(file, body), reading)
        table_path = files[0] if len(files) == 1 else target
    else:
        files = [target]
        _read_file(target, text, data, reading)
        table_path = target
    table = _table(table_path, reading)
    records = plural(len(table.rows), f"{reading.root} record" if reading.root else "record")
    notes = [f"{target} is a Salesforce CLI data tree: {records}; ids made from names, "
             "referenceIds kept in the referenceId column"]
    if len(files) > 1:
        notes.append("lines are those of each record's own file: "
                     + ", ".join(str(f) for f in files))
    notes += [f"{plural(n, f'{kind} record')} of the tree left out: only {reading.root} "
              "records are imported here"
              for kind, n in sorted(reading.skipped.items())]
    notes += [f"the plan's {noun(len(names), f'{kind} file')} ({', '.join(names)}) "
              f"{'is' if len(names) == 1 else 'are'} not read here"
              for kind, names in sorted(reading.other_files.items())]
    return table, reading.problems, notes


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise WorkspaceError(f"{path} does not exist", hint="the plan names it: export the "
                             "tree again with `sf data export tree --plan`") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise WorkspaceError(f"cannot read {path}: {exc}") from None


def _load(path: Path, text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        line = getattr(exc, "lineno", None)
        raise WorkspaceError(f"not valid JSON: {getattr(exc, 'msg', exc)}",
                             location=Location(str(path), line),
                             hint="a Salesforce CLI tree is what `sf data export tree` writes"
                             ) from None


def _plan_files(plan: Path, data: list[Any], reading: _Reading) -> list[Path]:
    """The files of the plan's first sObject (the root of the query); others are noted."""
    files: list[Path] = []
    folder = plan.parent.resolve()
    for entry in data:
        if not isinstance(entry, dict) or not isinstance(entry.get("sobject"), str) or (
                not isinstance(entry.get("files"), list)):
            raise WorkspaceError("a plan entry needs 'sobject' and a list of 'files'",
                                 location=Location(str(plan)),
                                 hint='e.g. [{"sobject": "Account", "files": ["Accounts.json"]}]')
        reading.root = reading.root or entry["sobject"]
        for name in entry["files"]:
            file = (plan.parent / str(name)).resolve()
            if not file.is_relative_to(folder):
                raise WorkspaceError(f"the plan names {name!r}, outside its folder",
                                     location=Location(str(plan)),
                                     hint="a plan's files sit beside it")
            if entry["sobject"] == reading.root:
                files.append(plan.parent / str(name))
            else:
                reading.other_files.setdefault(entry["sobject"], []).append(str(name))
    if not files:
        raise WorkspaceError("the plan lists no files", location=Location(str(plan)))
    return files


def _read_file(path: Path, text: str, data: Any, reading: _Reading) -> None:
    if not isinstance(data, dict) or not isinstance(data.get("records"), list):
        raise WorkspaceError("not a Salesforce CLI data tree: no top-level 'records' list",
                             location=Location(str(path), 1),
                             hint="export one with `sf data export tree --query ...`")
    lines: dict[str, int] = {}
    for match in _REF_AT.finditer(text):
        lines.setdefault(match.group(1), text.count("\n", 0, match.start()) + 1)
    _walk(path, data["records"], None, lines, reading)


def _walk(path: Path, records: list[Any], parent_ref: str | None, lines: dict[str, int],
          reading: _Reading) -> None:
    for index, record in enumerate(records):
        attributes = record.get("attributes") if isinstance(record, dict) else None
        ref = attributes.get("referenceId") if isinstance(attributes, dict) else None
        kind = attributes.get("type") if isinstance(attributes, dict) else None
        if not isinstance(ref, str) or not ref or not isinstance(kind, str):
            reading.problems.append(WorkspaceError(
                f"record {index + 1} of its list has no attributes.type and referenceId; "
                "skipped", location=Location(str(path)),
                hint="each record of a tree needs attributes: {type, referenceId}"))
            continue
        reading.root = reading.root or kind
        if kind != reading.root:
            reading.skipped[kind] = reading.skipped.get(kind, 0) + 1
            continue
        cells: dict[str, str] = {}
        nested: list[list[Any]] = []
        for key, value in record.items():
            if key == "attributes":
                continue
            if isinstance(value, dict) and isinstance(value.get("records"), list):
                nested.append(value["records"])
            elif isinstance(value, dict):  # a lookup read through (Owner: {Name: ...})
                for sub, inner in value.items():
                    if sub != "attributes" and not isinstance(inner, (dict, list)):
                        cells[f"{key}.{sub}"] = format_cell(inner)
            else:  # a Salesforce Id, if the tree has one, is kept beside the made id
                cells["SalesforceId" if key == "Id" else key] = format_cell(value)
        reading.records.append(_Record(path, lines.get(ref, 1), ref, cells, parent_ref))
        for children in nested:  # parents first, as in the file
            _walk(path, children, ref, lines, reading)


def _table(path: Path, reading: _Reading) -> Table:
    """Rows with ``Id`` (made from the name), the fields in first-seen order, ``referenceId``;
    references to records of the tree rewritten to their ids."""
    from kamcore.importers.rows import make_id

    taken: set[str] = set()
    ids: dict[str, str] = {}
    kept: list[_Record] = []
    for record in reading.records:
        if record.ref in ids:
            reading.problems.append(WorkspaceError(
                f"referenceId {record.ref!r} is used twice; the second record is skipped",
                location=Location(str(record.file), record.line),
                hint="referenceIds are unique within a tree"))
            continue
        name = record.cells.get("Name", "").strip()
        ids[record.ref] = make_id(name or record.ref, taken, "ACC", record.line)
        kept.append(record)
    header = ["Id"]
    for record in kept:
        if record.parent_ref is not None and not record.cells.get("ParentId"):
            record.cells["ParentId"] = "@" + record.parent_ref
        header += [k for k in record.cells if k not in header]
    header.append("referenceId")
    rows = []
    for record in kept:
        cells = {k: _resolved(v, ids) for k, v in record.cells.items()}
        cells["Id"], cells["referenceId"] = ids[record.ref], record.ref
        rows.append((record.line, [cells.get(h, "") for h in header]))
    return Table(path=path, header=header, rows=rows)


def _resolved(value: str, ids: dict[str, str]) -> str:
    """``@AccountRef3`` -> the id of that record; anything else as written."""
    if value.startswith("@") and value[1:] in ids:
        return ids[value[1:]]
    return value
