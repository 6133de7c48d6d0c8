"""A big accounts.csv scanned while kam starts up (kamcore.workspace.ahead) reads exactly as one
scanned by the read itself, and a scan of a file that has changed since is never used."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kamcore.workspace import ahead, tables
from kamcore.workspace.tables import read_csv_file

#: the size from which kam scans ahead (the tests below patch it small)
BIG = ahead.STREAM_FROM
CELL = st.text(alphabet=st.sampled_from(list('ab ,"\n\ré')), max_size=8)


@pytest.fixture(autouse=True)
def _small_files_count_as_big(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ahead, "STREAM_FROM", 1)
    monkeypatch.setattr(tables, "STREAM_FROM", 1)
    monkeypatch.setattr(ahead, "_STARTED", {})


def _read(path: Path) -> object:
    raw = read_csv_file(path, ("id",))
    return (raw.header, raw.table.to_pylist(), list(raw.line_of_row()),
            None if raw.line_numbers is None else raw.line_numbers().tolist())


def _csv(rows: list[list[str]], line_end: str) -> bytes:
    import csv
    import io

    out = io.StringIO()
    csv.writer(out, lineterminator=line_end).writerows([["id", "name"], *rows])
    return out.getvalue().encode()


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(CELL, min_size=2, max_size=2), min_size=1, max_size=12),
       line_end=st.sampled_from(["\n", "\r\n"]), blank=st.booleans())
def test_a_file_scanned_ahead_reads_as_one_scanned_by_the_read(
        tmp_path_factory: pytest.TempPathFactory, rows: list[list[str]], line_end: str,
        blank: bool) -> None:
    folder = tmp_path_factory.mktemp("ws")
    path = folder / "accounts.csv"
    path.write_bytes(_csv(rows, line_end) + (line_end.encode() if blank else b""))
    alone = _read(path)
    ahead.scan_ahead(folder)
    assert os.fspath(path) in ahead._STARTED
    assert _read(path) == alone
    assert not ahead._STARTED  # taken once


def test_the_scan_is_the_one_the_read_uses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    (tmp_path / "accounts.csv").write_bytes(_csv([["a", "x"], ["b", "y"]], "\n"))
    ahead.scan_ahead(tmp_path)
    taken: list[object] = []
    real = tables.scan_for

    def spy(path: Path, identity: tuple[int, ...]) -> object:
        taken.append(scan := real(path, identity))
        return scan

    monkeypatch.setattr(tables, "scan_for", spy)
    assert _read(tmp_path / "accounts.csv")[1] == [{"id": "a", "name": "x"},
                                                   {"id": "b", "name": "y"}]
    assert len(taken) == 1 and taken[0] is not None


def test_a_file_changed_after_its_scan_is_scanned_again(tmp_path: Path) -> None:
    """Same size, other lines: only the modification time tells the scan is stale."""
    path = tmp_path / "accounts.csv"
    path.write_bytes(b"id,name\na,x\n\nb,y\n")
    ahead.scan_ahead(tmp_path)
    ahead._STARTED[os.fspath(path)].result()  # the scan is done
    scanned = path.stat()
    path.write_bytes(b"id,name\n\na,x\nb,y\n")
    os.utime(path, ns=(scanned.st_atime_ns, scanned.st_mtime_ns + 1_000_000_000))
    got = _read(path)
    assert got[1] == [{"id": "a", "name": "x"}, {"id": "b", "name": "y"}]
    assert got[2] == [3, 4]


def test_only_a_big_regular_accounts_file_is_scanned(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    ahead.scan_ahead(None)
    ahead.scan_ahead(tmp_path)  # no accounts.csv
    (tmp_path / "accounts.csv").mkdir()
    ahead.scan_ahead(tmp_path)
    assert ahead._STARTED == {}
    other = tmp_path / "other"
    other.mkdir()
    (other / "accounts.csv").write_bytes(b"id,name\na,b\n")
    monkeypatch.setattr(ahead, "STREAM_FROM", 1 << 20)
    ahead.scan_ahead(other)
    assert ahead._STARTED == {}


def test_kam_reads_a_big_org_the_same_with_its_scan_ahead(tmp_path: Path) -> None:
    """``kam`` in its own process (main scans accounts.csv while it starts) prints what the
    command gives inside a Python process, where nothing is scanned ahead."""
    import shutil
    import subprocess
    import sys

    from click.testing import CliRunner

    from kamcore.cli.app import make_cli

    examples = Path(__file__).resolve().parents[1] / "examples" / "acme"
    ws = tmp_path / "ws"
    shutil.copytree(examples, ws)
    accounts = ws / "accounts.csv"
    width = accounts.read_text().splitlines()[0].count(",") - 10
    pad = "x" * 120
    with accounts.open("a") as out:
        for k in range(BIG // 150):
            out.write(f"BIG-{k},Outlet {k} {pad},regular,ACME-DE-BER,AM-ACME-DE,DE,"
                      f"manufacturing,EUR,{k % 997},{k % 13},0{',' * width}\n")
    assert accounts.stat().st_size >= BIG
    for args in (["rollup", str(ws), "-m", "revenue", "--format", "csv"],
                 ["validate", str(ws)]):
        done = subprocess.run([sys.executable, "-c", "from kamcore.cli.app import main; main()",
                               *args], capture_output=True, text=True, timeout=300)
        inside = CliRunner().invoke(make_cli(), args)
        assert (done.returncode, done.stdout) == (inside.exit_code, inside.stdout), done.stderr
        assert done.returncode == 0 and ("Outlet 7 x" in done.stdout or args[0] == "validate")
