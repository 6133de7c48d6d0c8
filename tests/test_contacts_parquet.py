"""contacts.parquet: contacts.csv's columnar form, read by the same rules with the same located
problems (the row number where a CSV file has its line), and written back in its own form."""

from __future__ import annotations

import datetime
import re
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyarrow import csv as pacsv

from kamcore.errors import WorkspaceError
from kamcore.plugins import get_plugin_manager
from kamcore.validation import validate_tables
from kamcore.workspace.tables import read_workspace
from tests.test_contacts import HEADER, invoke


@pytest.fixture
def ws(tmp_path: Path, acme_path: Path) -> Path:
    """The example org with its contacts as contacts.parquet (every column text)."""
    folder = tmp_path / "org"
    shutil.copytree(acme_path, folder)
    to_parquet(folder)
    return folder


def to_parquet(folder: Path, **types: pa.DataType) -> None:
    """contacts.csv -> contacts.parquet, every column text but ``types``."""
    source = folder / "contacts.csv"
    header = source.read_text(encoding="utf-8").splitlines()[0].split(",")
    table = pacsv.read_csv(source, convert_options=pacsv.ConvertOptions(
        column_types=dict.fromkeys(header, pa.string()) | types))
    pq.write_table(table, folder / "contacts.parquet")
    source.unlink()


def read(folder: Path):  # type: ignore[no-untyped-def]
    return read_workspace(folder, pm=get_plugin_manager(load_entrypoints=False))


def test_the_parquet_form_reads_as_the_csv_form_does(ws: Path, acme_path: Path) -> None:
    parquet, csv = read(ws), read(acme_path)
    assert parquet.problems == [] and parquet.contacts is not None and csv.contacts is not None
    assert parquet.contacts.table.equals(csv.contacts.table)
    assert [(f.code, f.subject, f.message) for f in validate_tables(parquet)] == \
        [(f.code, f.subject, f.message) for f in validate_tables(csv)]
    assert invoke("validate", str(ws)).exit_code == 0


def test_typed_columns_read_as_their_text(tmp_path: Path) -> None:
    (tmp_path / "contacts.csv").write_text(
        HEADER + " C1 ,ACME,Ana,,Decision-Maker,,,4930555,true,GAM1,2026-03-31\n"
        "C2,ACME,Bo,,,C1,,,false,GAM1,\n", encoding="utf-8")
    to_parquet(tmp_path, phone=pa.int64(), primary=pa.bool_(), last_contact=pa.date32(),
               role=pa.dictionary(pa.int32(), pa.string()))
    from kamcore.workspace.tables import read_parquet_file

    raw = read_parquet_file(tmp_path / "contacts.parquet", ("id",))
    assert raw.table.column("phone").to_pylist() == ["4930555", None]
    assert raw.table.column("primary").to_pylist() == ["true", "false"]
    assert raw.table.column("last_contact").to_pylist() == ["2026-03-31", None]
    assert raw.table.column("role").to_pylist() == ["Decision-Maker", None]
    assert list(raw.line_of_row()) == [1, 2]


def test_bad_cells_are_located_by_row_number(ws: Path) -> None:
    table = pq.read_table(ws / "contacts.parquet")
    emails = table.column("email").to_pylist()
    emails[1] = "not-an-email"
    ids = table.column("id").to_pylist()
    ids[2] = " "
    table = table.set_column(table.column_names.index("email"), "email", pa.array(emails))
    table = table.set_column(table.column_names.index("id"), "id", pa.array(ids))
    pq.write_table(table, ws / "contacts.parquet")
    result = invoke("validate", str(ws))
    assert result.exit_code == 2
    where = ws / "contacts.parquet"
    assert f"{where}:2 (column 'email'): contact {table.column('id')[1].as_py()!r}: " \
           "'not-an-email' is not an email address" in result.output
    assert f"{where}:3 (column 'id'): contact without id: is missing a value" in result.output
    assert "Traceback" not in result.output


def test_both_forms_at_once_is_a_clear_error(ws: Path, acme_path: Path) -> None:
    shutil.copy(acme_path / "contacts.csv", ws / "contacts.csv")
    with pytest.raises(WorkspaceError, match=r"both contacts\.csv and contacts\.parquet"):
        read(ws)
    result = invoke("validate", str(ws))
    assert result.exit_code == 2 and "keep one of them" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("column", "kind", "message"), [
    ("tags", pa.list_(pa.string()),
     "column 'tags' of contacts.parquet holds list<element: string>"),
    ("name", None, "missing column(s) name"),
])
def test_a_column_that_is_not_text_or_is_missing_is_named(ws: Path, column: str,
                                                          kind: pa.DataType | None,
                                                          message: str) -> None:
    table = pq.read_table(ws / "contacts.parquet")
    if kind is None:
        table = table.drop_columns([column])
    else:
        table = table.append_column(column, pa.array([["a"]] * table.num_rows, kind))
    pq.write_table(table, ws / "contacts.parquet")
    with pytest.raises(WorkspaceError, match=re.escape(message)):
        read(ws)
    result = invoke("validate", str(ws))
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_a_handover_moves_owners_in_the_parquet_file_and_undo_puts_them_back(ws: Path) -> None:
    before = pq.read_table(ws / "contacts.parquet")
    result = invoke("handover", str(ws), "--from", "KAM-ACME-DE", "--to", "KAM-DE", "--apply",
                    "--force", "--by", "test")
    assert result.exit_code == 0, result.output
    assert "Applied: wrote accounts.csv, history.csv, contacts.parquet" in result.output
    assert not (ws / "contacts.csv").exists()
    after = pq.read_table(ws / "contacts.parquet")
    assert after.column_names == before.column_names
    moved = [(a, b) for a, b in zip(before.column("owner").to_pylist(),
                                    after.column("owner").to_pylist(), strict=True) if a != b]
    assert moved == [("KAM-ACME-DE", "KAM-DE")] * 4
    assert after.drop_columns(["owner"]).equals(before.drop_columns(["owner"]))
    undone = invoke("undo", str(ws), "--apply")
    assert undone.exit_code == 0, undone.output
    assert pq.read_table(ws / "contacts.parquet").equals(before)


def test_a_parquet_last_contact_date_counts_for_staleness(ws: Path) -> None:
    table = pq.read_table(ws / "contacts.parquet")
    old = datetime.date.today() - datetime.timedelta(days=400)
    days = pa.array([old] + [None] * (table.num_rows - 1), pa.date32())
    table = table.set_column(table.column_names.index("last_contact"), "last_contact", days)
    pq.write_table(table, ws / "contacts.parquet")
    found = validate_tables(read(ws), select=["KAM168"])
    assert [(f.code, f.subject, f.file, f.line) for f in found] == [
        ("KAM168", table.column("id")[0].as_py(), str(ws / "contacts.parquet"), 1)]


def test_an_import_into_a_parquet_workspace_writes_parquet(ws: Path, tmp_path: Path) -> None:
    export = tmp_path / "Contact.csv"
    export.write_text("Id,AccountId,FirstName,LastName,Title,ReportsToId,Email,Phone,OwnerId\n"
                      "003A1,ACME-DE,Carla,Oliveira,Managing Director,,carla@acme.example,"
                      "+49 30 1,NAM-ACME-DE\n", encoding="utf-8")
    result = invoke("import", "contacts", str(ws), str(export), "--preset", "salesforce")
    assert result.exit_code == 0, result.output
    assert not (ws / "contacts.csv").exists()
    written = pq.read_table(ws / "contacts.parquet")
    assert written.to_pylist() == [{
        "id": "003A1", "account": "ACME-DE", "name": "Carla Oliveira",
        "title": "Managing Director", "role": None, "reports_to": None,
        "email": "carla@acme.example", "phone": "+49 30 1", "primary": "false",
        "owner": "NAM-ACME-DE", "last_contact": None}]
    assert invoke("validate", str(ws)).exit_code == 0


def test_the_docs_conversion_gives_a_workspace_that_reads_the_same(
        tmp_path: Path, acme_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    docs = (Path(__file__).parent.parent / "docs" / "contacts.md").read_text(encoding="utf-8")
    snippet = docs.split("```python\n", 1)[1].split("```", 1)[0]
    folder = tmp_path / "org"
    shutil.copytree(acme_path, folder)
    monkeypatch.chdir(folder)
    exec(snippet, {})  # the docs' own snippet, run as a user would
    (folder / "contacts.csv").unlink()
    assert read(folder).contacts.table.equals(read(acme_path).contacts.table)


def test_coverage_reads_the_parquet_form_as_the_csv_form(tmp_path: Path, acme_path: Path) -> None:
    folder = tmp_path / "org"
    shutil.copytree(acme_path, folder)
    text = (folder / "contacts.csv").read_text(encoding="utf-8")
    (folder / "contacts.csv").write_text(text.replace("C-ORBIT-1,ORBIT,", "C-ORBIT-1,ORBIT-X,"),
                                         encoding="utf-8")  # ORBIT loses its decision-maker
    from_csv = invoke("coverage", str(folder), "--format", "json").output
    to_parquet(folder)
    from_parquet = invoke("coverage", str(folder), "--format", "json").output
    assert '"account": "ORBIT"' in from_csv
    assert from_parquet == from_csv


#: Cells of the columns a Parquet writer keeps as small dictionaries: spaces around and inside,
#: empty, only spaces (Unicode's too), case, flags and dates good and bad
_FEW = {
    "title": ["Buyer", " Buyer ", "", " ", "\u00a0Head\u00a0", None],
    "role": ["decision-maker", " Decision-Maker", "CHAMPION ", "user", "", "\u2003", None],
    "phone": ["+49 30 1", " +49 30 1 ", "", None],
    "primary": ["true", " TRUE ", "yes", "N", "false", "maybe", "", " "],
    "owner": ["GAM1", " GAM1", "KAM2 ", "", None],
    "last_contact": ["2026-03-31", " 2026-03-31", "2026-02-30", "soon", "", None],
}


@pytest.mark.parametrize("seed", range(6))
def test_columns_of_few_values_read_as_dictionaries_read_as_plain_text_does(
        tmp_path: Path, seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    import random

    from kamcore.workspace import tables as reader

    draw = random.Random(seed)
    n = 3000
    columns = {"id": [f"C{i}" for i in range(n)],
               "account": [draw.choice(["ACME", " ACME", "", None]) for _ in range(n)],
               "name": [f"Contact {i}" for i in range(n)]}
    vocabulary = {name: draw.sample(cells, draw.randint(1, len(cells)))
                  for name, cells in _FEW.items()}
    columns |= {name: [draw.choice(cells) for _ in range(n)]
                for name, cells in vocabulary.items()}
    for row in draw.sample(range(n), 5):  # blank rows (spaces only) are no records
        for name in columns:
            columns[name][row] = " " if name == "primary" else None
    path = tmp_path / "contacts.parquet"
    pq.write_table(pa.table({name: pa.array(cells, pa.string())
                             for name, cells in columns.items()}), path)
    meta = pq.read_metadata(path)
    schema = meta.schema.to_arrow_schema()
    assert [schema.names[i] for i in range(len(schema)) if reader._few_values(meta, schema, i)] \
        == ["account", *_FEW]  # ids and names are read as plain text, the rest as dictionaries

    def read_both() -> tuple[object, list[str]]:
        problems: list[Exception] = []
        raw = reader.read_parquet_file(path, reader.REQUIRED["contact"])
        table = reader.normalise("contact", raw, set(), problems)  # type: ignore[arg-type]
        return table.table, [f"{p} @ {p.location}" for p in problems]  # type: ignore[attr-defined]

    as_dictionaries = read_both()
    monkeypatch.setattr(reader, "_few_values", lambda *args: False)
    plain = read_both()
    assert as_dictionaries[0].equals(plain[0])  # type: ignore[attr-defined]
    assert all(not pa.types.is_dictionary(t) for t in as_dictionaries[0].schema.types)  # type: ignore[attr-defined]
    assert as_dictionaries[1] == plain[1]
