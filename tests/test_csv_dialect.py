"""A workspace CSV file that kam rewrites keeps its byte-order mark and its CRLF line ends."""

from __future__ import annotations

import csv
import io
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from kamcore.cli.app import make_cli
from kamcore.plugins import get_plugin_manager
from kamcore.workspace.csvio import in_dialect_of, render_csv

BOM = b"\xef\xbb\xbf"


def invoke(*args: str) -> object:
    return CliRunner().invoke(make_cli(get_plugin_manager(load_entrypoints=False)), list(args))


def as_excel_saves(path: Path) -> None:
    """``path`` rewritten as Excel's "CSV UTF-8" does: a BOM, and CRLF after every line."""
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_bytes(BOM + "".join(line + "\r\n" for line in lines).encode("utf-8"))


def rows_of(data: bytes) -> list[list[str]]:
    """The cells as Python's csv module reads them (a BOM is not a cell)."""
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


@pytest.fixture
def ws(tmp_path: Path, acme_path: Path) -> Path:
    folder = tmp_path / "org"
    shutil.copytree(acme_path, folder)
    return folder


def test_a_handover_keeps_excels_bom_and_crlf_and_undo_too(ws):
    for name in ("accounts.csv", "contacts.csv"):
        as_excel_saves(ws / name)
    before = {name: (ws / name).read_bytes() for name in ("accounts.csv", "contacts.csv")}
    result = invoke("handover", str(ws), "--from", "KAM-ACME-DE", "--to", "KAM-DE", "--apply",
                    "--force", "--by", "test")
    assert result.exit_code == 0, result.output
    for name in ("accounts.csv", "contacts.csv"):
        data = (ws / name).read_bytes()
        assert data.startswith(BOM), name
        assert data.count(b"\n") == data.count(b"\r\n") == before[name].count(b"\r\n"), name
        changed = [(a, b) for a, b in zip(before[name].split(b"\r\n"), data.split(b"\r\n"),
                                          strict=True) if a != b]
        assert changed and all(b"KAM-ACME-DE" in a and b"KAM-DE" in b for a, b in changed)
    assert invoke("validate", str(ws)).exit_code in (0, 1)
    undone = invoke("undo", str(ws), "--apply")
    assert undone.exit_code == 0, undone.output
    for name, data in before.items():
        assert (ws / name).read_bytes() == data, name


def test_a_file_with_lf_and_no_bom_is_written_as_before(ws):
    before = (ws / "contacts.csv").read_bytes()
    assert not before.startswith(BOM) and b"\r" not in before
    result = invoke("handover", str(ws), "--from", "KAM-ACME-DE", "--to", "KAM-DE", "--apply",
                    "--force")
    assert result.exit_code == 0, result.output
    after = (ws / "contacts.csv").read_bytes()
    assert not after.startswith(BOM) and b"\r" not in after
    assert after != before


CELL = st.text(alphabet=st.sampled_from(list('ab,"\n\r é')), max_size=6)


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(st.lists(CELL, min_size=2, max_size=2), max_size=6),
       bom=st.booleans(), crlf=st.booleans())
def test_the_dialect_changes_no_cell(tmp_path_factory, rows, bom, crlf):
    old = tmp_path_factory.mktemp("d") / "old.csv"
    old.write_bytes((BOM if bom else b"") + (b"a,b\r\n" if crlf else b"a,b\n"))
    data = render_csv(["a", "b"], rows).encode("utf-8")
    written = in_dialect_of(old, data)
    assert rows_of(written) == rows_of(data)  # the same cells, line ends in cells included
    assert written.startswith(BOM) == bom
    if crlf:
        assert written.endswith(b"\r\n")
        assert len(rows_of(written)) == len(rows) + 1
    else:
        assert written == (BOM if bom else b"") + data


def test_an_unreadable_or_missing_old_file_leaves_the_bytes(tmp_path):
    data = b"a,b\n1,2\n"
    assert in_dialect_of(tmp_path / "absent.csv", data) == data
    (tmp_path / "empty.csv").write_bytes(b"")
    assert in_dialect_of(tmp_path / "empty.csv", data) == data
    os.mkfifo(tmp_path / "fifo.csv")  # opened, it would wait for a writer forever
    assert in_dialect_of(tmp_path / "fifo.csv", data) == data
