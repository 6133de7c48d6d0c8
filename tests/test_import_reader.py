"""The importer reads a plain export with the workspace reader's pyarrow path and anything
else with the exact parser; both give the same cells, rows and lines."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kamcore.importers import csvread
from kamcore.importers.csvread import read_export, read_export_columns
from kamcore.workspace.tables import _LineScan


def exact(path: Path) -> tuple[list[str], list[int], list[list[str | None]], list[str]]:
    table, problems, dialect = read_export(path)
    rows = [[v or None for v in values] for _line, values in table.rows]
    return (table.header, [line for line, _ in table.rows], rows,
            [f"{p.location.line if p.location else ''} {p.message}" for p in problems]
            + [dialect.encoding, dialect.delimiter])


def columns(path: Path) -> tuple[list[str], list[int], list[list[str | None]], list[str]]:
    table, problems, dialect = read_export_columns(path)
    rows = [list(r.values()) for r in table.table.to_pylist()]
    return (table.header, list(table.line_of_row()), rows,
            [f"{p.location.line if p.location else ''} {p.message}" for p in problems]
            + [dialect.encoding, dialect.delimiter])


def test_a_plain_export_is_read_by_pyarrow(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "Account.csv"
    path.write_text('Id,Name,Description\n001,"Acme, Inc.","said ""hi"""\r\n\n002, Globex ,\n',
                    encoding="utf-8")
    want = exact(path)
    monkeypatch.setattr(csvread, "read_export", lambda *_: pytest.fail("the slow path"))
    assert columns(path) == want
    assert want[1:3] == ([2, 4], [["001", "Acme, Inc.", 'said "hi"'],
                                   ["002", " Globex ", None]])


@pytest.mark.parametrize("text", [
    'Id,Name\n001,Ac"me\n',             # a quote inside an unquoted cell
    'Id,Name\n001,"Ac"me\n',            # a quoted cell closed before its end
    'Id,Name\n001, "Acme"\n',           # a space before the opening quote
    'Id,Name\n001,"Acme\nInc"\n',       # a quoted line break
    'Id,Name\n001,Acme,extra\n002,B\n',  # a row of the wrong width: located by the parser
    'Id,Name\r001,Acme\r',              # lone CRs
])
def test_anything_else_is_read_by_the_exact_parser(tmp_path: Path, text: str,
                                                   monkeypatch) -> None:
    path = tmp_path / "Account.csv"
    path.write_bytes(text.encode("utf-8"))
    want = exact(path)
    calls = []
    slow = csvread.read_export
    monkeypatch.setattr(csvread, "read_export", lambda p: calls.append(p) or slow(p))
    assert columns(path) == want
    assert calls == [path]


def test_a_windows_1252_export_is_read_by_the_exact_parser(tmp_path: Path) -> None:
    path = tmp_path / "Account.csv"
    path.write_bytes("Id;Name\n001;Müller GmbH\n".encode("cp1252"))
    assert columns(path) == exact(path)
    assert columns(path)[2] == [["001", "Müller GmbH"]]
    assert columns(path)[3] == ["cp1252", ";"]


def test_plain_quotes() -> None:
    assert _LineScan(b'a,b\n"x","y ""z"""\n"",\n').plain_quotes(",")
    assert not _LineScan(b'a,b\nx,y"z"\n').plain_quotes(",")
    assert not _LineScan(b'a;b\n"x";"y"z\n').plain_quotes(";")
    assert _LineScan(b'a;b\n"x;y";"z"\n').plain_quotes(";")


CELLS = st.text(alphabet=st.sampled_from([*'ab ,;"\n\r\t|é\u00a0\u3000']),
                max_size=6)


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(CELLS, min_size=3, max_size=3), max_size=6),
       delimiter=st.sampled_from([",", ";", "\t"]), quote_all=st.booleans(),
       crlf=st.booleans(), blank=st.booleans(), raw_tail=st.sampled_from(["", '1,"a"b\n']))
def test_both_paths_read_any_export_alike(tmp_path_factory, rows, delimiter, quote_all, crlf,
                                          blank, raw_tail) -> None:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n" if crlf else "\n",
                        quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
    writer.writerow(["Id", "Name", "Note"])
    for row in rows:
        writer.writerow(row)
        if blank:
            buffer.write("\n")
    path = tmp_path_factory.mktemp("x") / "Account.csv"
    path.write_bytes((buffer.getvalue() + raw_tail).encode("utf-8"))
    assert columns(path) == exact(path)


NUMBERS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.integers(-10**20, 10**20).map(str),
    st.text(alphabet=st.sampled_from(list("0123456789.,-+eE $_ ")), max_size=12),
    st.sampled_from(["", " ", "1e999", "-0", "5.", ".5", "1_000", "nan", "inf", "1.250,50"]))


@settings(max_examples=300, deadline=None)
@given(cells=st.lists(st.none() | NUMBERS, max_size=20), decimal=st.sampled_from([".", ","]))
def test_a_column_of_numbers_is_read_as_parse_number_reads_each_cell(cells, decimal) -> None:
    import pyarrow as pa

    from kamcore.importers.accounts import _numbers
    from kamcore.importers.rows import parse_number

    want: list[float | None] = []
    bad = []
    for i, cell in enumerate(cells):
        try:
            want.append(None if cell is None else parse_number(cell, decimal))
        except ValueError:
            want.append(None)
            bad.append((i, cell))
    numbers, got_bad = _numbers(pa.array(cells, pa.string()), decimal)
    assert numbers.to_pylist() == want
    assert got_bad == bad


def test_an_import_through_either_path_writes_the_same(tmp_path: Path, monkeypatch) -> None:
    """Duplicate, missing and self-parented ids, a missing name, a padded cell, numbers and
    countries: the problems, tiers and cells are the same read by pyarrow or by the parser."""
    from kamcore.importers import import_salesforce, write_import
    from kamcore.workspace import tables

    path = tmp_path / "Account.csv"
    path.write_text(
        "Id,Name,ParentId,OwnerId,AnnualRevenue,BillingCountry\n"
        "001000000000001AAA,A,,005000000000001,\"1,250\",Germany\n"
        "001000000000001AAA,B,,,,\n"
        ",C,,,,\n"
        "001000000000002AAA,,001000000000002AAA,005x,n/a,\n"
        "001000000000003,  Padded  ,001000000000001aaa,005000000000001AAA,1e3,DE\n"
        "001000000000004AAA,D,001000000000009,,12.5,Narnia\n", encoding="utf-8")
    outputs = []
    read = tables._fast_csv
    used: list[bool] = []
    monkeypatch.setattr(tables, "_fast_csv",
                        lambda *a, **k: used.append(read(*a, **k) is not None) or read(*a, **k))
    for fast in (True, False):
        if not fast:
            monkeypatch.setattr(tables, "_fast_csv", lambda *a, **k: None)
        result = import_salesforce(str(path))
        out = tmp_path / f"ws-{fast}"
        write_import(result, out)
        outputs.append(((out / "accounts.csv").read_text(encoding="utf-8"),
                        result.report.to_markdown().replace(str(out), "OUT")))
    assert used == [True]  # the first import read the file with pyarrow
    assert outputs[0] == outputs[1]
    assert "id '001000000000001AAA' is already used on line 2" in outputs[0][1]
    assert "AnnualRevenue 'n/a' is not a number" in outputs[0][1]


@pytest.mark.parametrize(("header", "body"), [
    ("Id;Name;ParentId\r\n", "1;a;\r\n" * 20_000),  # a big file: its first lines are read
    ("\n\n" + ",".join(f"Column {i}" for i in range(5_000)) + "\n", "x\n" * 9_000),
    (",".join(f"Column {i}" for i in range(8_000)), ""),  # over 64 KB, without a line end
    # blank lines, then a header over 64 KB: not "empty"
    ("\r\n \n" + ",".join(f"Column {i}" for i in range(8_000)) + "\r\n", "x\r\n"),
    ("\n\n" + ";".join(f"Column {i}" for i in range(8_000)) + "\n", "x\n" * 9_000),
])
def test_the_header_is_the_exact_parsers_header(tmp_path: Path, header: str,
                                                body: str) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(("\ufeff" + header + body).encode("utf-8"))
    assert csvread.read_export_header(path) == read_export(path)[0].header


@pytest.mark.parametrize("delimiter", [",", ";"])
def test_an_export_whose_long_header_comes_after_blank_lines_is_read(
        tmp_path: Path, delimiter: str) -> None:
    """A header over 64 KB (a CRM with thousands of custom fields) after blank lines: the
    header, the delimiter and the rows are the exact parser's, and kam import reads it."""
    from click.testing import CliRunner

    from kamcore.cli.app import make_cli
    from kamcore.plugins import get_plugin_manager

    extra = [f"Custom_Field_{i:05d}__c" for i in range(4_000)]
    path = tmp_path / "Account.csv"
    path.write_text("\n\n" + delimiter.join(["Id", "Name", *extra]) + "\n"
                    + "".join(f"00100000000000{i}AAA{delimiter}Acme {i}" + delimiter * len(extra)
                              + "\n" for i in range(3)), encoding="utf-8")
    assert len(path.read_bytes()) > 1 << 16
    assert csvread.read_export_header(path)[:3] == ["Id", "Name", "Custom_Field_00000__c"]
    assert columns(path) == exact(path)
    assert columns(path)[3][-1] == delimiter
    result = CliRunner().invoke(make_cli(get_plugin_manager(load_entrypoints=False)),
                                ["import", "salesforce", str(path), "-o", str(tmp_path / "ws")])
    assert result.exit_code == 0, result.output
    assert "imported 3 accounts" in result.output
    # --suggest-map's sample of the first lines: the whole header, however long
    assert read_export(path, limit=1 << 10)[0].header == exact(path)[0]
