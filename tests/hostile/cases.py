"""The hostile-file catalogue (issue 10): each case turns a sound workspace into one an attacker
or an unlucky user would hand kam. Every case is run against every reading command by
``test_no_crash.py``; a case names the issue's wording it reproduces."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable
from pathlib import Path

Case = Callable[[Path], None]


def _rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


def _write_rows(path: Path, rows: list[list[str]]) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def _set_cell(file: str, row: int, column: str, value: str) -> Case:
    def apply(ws: Path) -> None:
        rows = _rows(ws / file)
        rows[row][rows[0].index(column)] = value
        _write_rows(ws / file, rows)
    return apply


def _set_cells(*edits: tuple[str, int, str, str]) -> Case:
    def apply(ws: Path) -> None:
        for file, row, column, value in edits:
            _set_cell(file, row, column, value)(ws)
    return apply


def _append(file: str, text: str) -> Case:
    def apply(ws: Path) -> None:
        with (ws / file).open("a", encoding="utf-8", newline="") as fh:
            fh.write(text)
    return apply


def _replace_text(file: str, text: str | bytes) -> Case:
    def apply(ws: Path) -> None:
        data = text if isinstance(text, bytes) else text.encode("utf-8")
        (ws / file).write_bytes(data)
    return apply


def _nested_yaml(depth: int, kind: str) -> Case:
    def apply(ws: Path) -> None:
        value = "[" * depth + "]" * depth if kind == "list" else "{a: " * depth + "1" + "}" * depth
        (ws / "kam.yaml").write_text(f"name: deep\ncurrency: USD\nmetrics: {value}\n")
    return apply


def _metrics_yaml(body: str) -> Case:
    def apply(ws: Path) -> None:
        (ws / "kam.yaml").write_text("name: m\ncurrency: USD\nmetrics:\n" + body)
    return apply


def _duplicate_header(ws: Path) -> None:
    rows = _rows(ws / "accounts.csv")
    rows[0][rows[0].index("country")] = "revenue"
    _write_rows(ws / "accounts.csv", rows)


def _directory(file: str) -> Case:
    def apply(ws: Path) -> None:
        (ws / file).unlink(missing_ok=True)
        (ws / file).mkdir()
        (ws / file / "x.csv").write_text("id\n")
    return apply


def _symlink_out(file: str) -> Case:
    def apply(ws: Path) -> None:
        target = ws.parent / f"outside-{file}"
        target.write_text("precious\n")
        if (ws / file).exists():
            (ws / file).unlink()
        os.symlink(target, ws / file)
    return apply


def _utf16(ws: Path) -> None:
    text = (ws / "accounts.csv").read_text(encoding="utf-8")
    (ws / "accounts.csv").write_bytes(text.encode("utf-16"))


def _facts(text: str) -> Case:
    return _replace_text("facts.csv", "account,period,metric,value\n" + text)


def _journal(lines: list[object]) -> Case:
    return _replace_text("journal.jsonl", "".join(
        (x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines))


def _manifest(text: str) -> Case:
    def apply(ws: Path) -> None:
        (ws / ".kam.txn").mkdir(exist_ok=True)
        (ws / ".kam.txn" / "manifest.json").write_text(text)
    return apply


#: name -> how to spoil a copy of the small org (tests/test_changes_support.py).
CASES: dict[str, Case] = {
    "padded and lower-case cells": _set_cells(("accounts.csv", 2, "manager", " NAM1 "),
                                              ("accounts.csv", 2, "country", "de"),
                                              ("accounts.csv", 3, "tier", " KEY")),
    "unbalanced quote": _append("accounts.csv", 'X1,"Broken,key,N-DE,KAM1,DE,,,,1\nX2,a,regular,'
                                "X1,AM1,DE,,,,2\n"),
    "cell over 128 KiB": _set_cell("accounts.csv", 1, "name", "n" * 200_000),
    "NUL byte in a cell": _set_cell("accounts.csv", 1, "name", "Glo\x00bex"),
    "NUL byte in an id": _set_cell("accounts.csv", 6, "id", "R\x002"),
    "id with a path": _set_cells(("accounts.csv", 6, "id", "../../etc/passwd")),
    "formula cells": _set_cells(("accounts.csv", 1, "name", "=HYPERLINK(\"http://x\",\"y\")"),
                                ("accounts.csv", 2, "name", "+cmd|' /C calc'!A0"),
                                ("accounts.csv", 3, "name", "@SUM(1+1)")),
    "markup cells": _set_cell("accounts.csv", 1, "name", "</script><script>alert(1)</script>"),
    "lone CR in a cell": _set_cell("accounts.csv", 1, "name", "Glo\rbex"),
    "UTF-16 with BOM": _utf16,
    "bad bytes": _replace_text("accounts.csv", b"id,name\n\xff\xfe\xfa,x\n"),
    "empty accounts.csv": _replace_text("accounts.csv", ""),
    "header only": _replace_text("accounts.csv", "id,name,tier,parent,manager\n"),
    "no people": _replace_text("people.csv", "id,name,role,reports_to\n"),
    "duplicated header": _duplicate_header,
    "accounts.csv is a folder": _directory("accounts.csv"),
    "people.csv is a folder": _directory("people.csv"),
    "5,000-digit capacity": _set_cell("people.csv", 1, "capacity", "9" * 5000),
    "arabic-indic digits": _set_cell("accounts.csv", 1, "revenue", "١٢٣"),
    "underscore number": _set_cell("accounts.csv", 1, "revenue", "1_000"),
    "infinite revenue": _set_cell("accounts.csv", 1, "revenue", "inf"),
    "1e308 twice": _set_cells(("accounts.csv", 1, "revenue", "1e308"),
                              ("accounts.csv", 2, "revenue", "1e308")),
    "1e308 twice in facts": _facts("G,2026Q1,revenue,1e308\nN-DE,2026Q1,revenue,1e308\n"),
    "1e999 in facts": _facts("G,2026Q1,revenue,1e999\n"),
    "facts with bad rows": _facts("NOPE,2026Q1,revenue,1\nG,2026Q9,revenue,1\nG,2026Q1,,x\n"),
    "a parent cycle": _set_cells(("accounts.csv", 1, "parent", "R1")),
    "a management cycle": _set_cells(("people.csv", 1, "reports_to", "AM1")),
    "kam.yaml lists 5,000 deep": _nested_yaml(5_000, "list"),
    "kam.yaml maps 100,000 deep": _nested_yaml(100_000, "map"),
    "kam.yaml not a mapping": _replace_text("kam.yaml", "- a\n- b\n"),
    "kam.yaml python tag": _replace_text("kam.yaml", "name: !!python/object/apply:os.system "
                                         "['echo pwned']\ncurrency: USD\n"),
    "kam.yaml bogus aggregation": _metrics_yaml("  score: {aggregation: median}\n"),
    "kam.yaml wmean without weight": _metrics_yaml("  score: {aggregation: wmean}\n"),
    "kam.yaml weight unknown": _metrics_yaml("  score: {aggregation: wmean, weight: nope}\n"),
    "kam.yaml unknown currency": _replace_text("kam.yaml", "name: x\ncurrency: XYZ\n"),
    "journal corrupt": _journal(["{not json", [1, 2], {"id": 7, "changes": "oops"}]),
    "journal a symlink": _symlink_out("journal.jsonl"),
    "lock a symlink": _symlink_out(".kam.lock"),
    "history with bad rows": _replace_text(
        "history.csv", "record,field,value,valid_from,valid_to,entry\n"
        "K1,parent,N-DE,2026-13-01,,\nNOPE,manager,KAM1,2026-01-01,,\n"
        "K1,manager,KAM1,2026-03-01,2026-02-01,\nK1,planet,x,,,\n"
        "K1,manager,../../x,2026-01-01,,\n"),
    "history overlapping": _replace_text(
        "history.csv", "record,field,value,valid_from,valid_to,entry\n"
        "K1,manager,KAM1,2026-01-01,2026-06-01,\nK1,manager,KAM2,2026-03-01,,\n"),
    "history.csv is a folder": _directory("history.csv"),
    "manifest of the wrong shape": _manifest('{"files": "oops"}'),
    "manifest pointing outside": _manifest(json.dumps({"files": ["../outside.txt"],
                                                       "backup": "../../x"})),
}
