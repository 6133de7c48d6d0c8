"""Hostile files and ids (issue 10): nothing is written outside the workspace or the named
output, every CSV output goes through one writer, imports list every line they do not import,
and a plugin that raises SystemExit is a plugin fault."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from kamcore import changes
from kamcore.changes.brief import default_brief_dir, write_briefs
from kamcore.changes.journal import read_journal
from kamcore.changes.txn import LOCK_FILE, MANIFEST, TXN_DIR, commit, recover, workspace_lock
from kamcore.cli.app import make_cli
from kamcore.errors import WorkspaceError
from kamcore.models import Person
from kamcore.paths import safe_file_name
from kamcore.plugins import get_plugin_manager
from tests.test_changes_support import load, save_small, small_org


def kam(*args: str):
    return CliRunner().invoke(make_cli(get_plugin_manager(load_entrypoints=False)), list(args))


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return save_small(tmp_path / "org")


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A file outside the workspace that nothing may touch."""
    target = tmp_path / "outside.txt"
    target.write_text("precious\n")
    return target


def assert_untouched(path: Path) -> None:
    assert path.read_text() == "precious\n"


# -- hand-over briefs --------------------------------------------------------------------------

def _org_with_ids(leaver: str, receiver: str, folder: Path):
    """The small org with KAM1 renamed ``leaver`` and KAM3 renamed ``receiver`` (in memory:
    ids the workspace reader would refuse still reach the brief writer through the API)."""
    org = small_org()
    rename = {"KAM1": leaver, "KAM3": receiver}
    people = {}
    for pid, person in org.people.items():
        update = {"id": rename.get(pid, pid)}
        if person.reports_to in rename:
            update["reports_to"] = rename[person.reports_to]
        people[update["id"]] = Person(**{**person.model_dump(), **update})
    accounts = {aid: a.model_copy(update={"manager": rename.get(a.manager or "", a.manager)})
                for aid, a in org.accounts.items()}
    result = org.replace(people=people, accounts=accounts)
    result.path = folder
    return result


@pytest.mark.parametrize("leaver, receiver", [
    ("../../leaver", "../../evil"), ("/tmp/abs-leaver", "/tmp/abs-evil"),
    ("lea\0ver", "ev\0il"), (".", ".."), ("a/../../b", "c\\..\\d")])
def test_briefs_from_hostile_ids_land_in_the_briefs_folder(tmp_path, leaver, receiver):
    org = _org_with_ids(leaver, receiver, tmp_path / "org")
    plan = changes.leave(org, leaver, to=[receiver])
    folder = default_brief_dir(plan, today="2026-01-01")
    assert folder.parent == tmp_path / "org" / "handover"
    assert folder.name.startswith("2026-01-01-") and "\0" not in folder.name
    written = write_briefs(plan, folder, pm=get_plugin_manager(load_entrypoints=False))
    assert [p.parent for p in written] == [folder]
    assert [p.name for p in written] == [f"{safe_file_name(receiver)}.md"]
    everything = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert everything == written
    assert "Hand-over brief for Kai Key" in written[0].read_text()


def test_safe_file_names_keep_plain_ids_and_never_collide():
    assert safe_file_name("KAM-ACME-DE") == "KAM-ACME-DE"
    assert safe_file_name("a.b_c") == "a.b_c"
    hostile = ["../x", "..\\x", "x/..", "x", "/x", "x\0", ".x", "x..", "Müller", "", "."]
    names = [safe_file_name(h) for h in hostile]
    assert len(set(names)) == len(names)
    for name in names:
        assert name and "/" not in name and "\\" not in name and "\0" not in name
        assert ".." not in name and not name.startswith(".")


# -- journal, lock and transaction folder ------------------------------------------------------

def _assign_plan(ws: Path):
    return changes.assign(load(ws), "K2", manager="KAM3")


def test_a_journal_that_is_a_symlink_is_refused_not_followed(ws, outside):
    (ws / "journal.jsonl").symlink_to(outside)
    before = (ws / "accounts.csv").read_bytes()
    with pytest.raises(WorkspaceError, match=r"journal .* is a symbolic link"):
        changes.apply(_assign_plan(ws))
    assert_untouched(outside)
    assert (ws / "accounts.csv").read_bytes() == before
    with pytest.raises(WorkspaceError, match="symbolic link"):
        read_journal(ws)


def test_a_lock_file_that_is_a_symlink_is_refused_not_truncated(ws, outside):
    (ws / LOCK_FILE).symlink_to(outside)
    with pytest.raises(WorkspaceError, match=r"lock file .* is a symbolic link"):
        changes.apply(_assign_plan(ws))
    assert_untouched(outside)


def test_the_cli_says_what_is_wrong_with_a_linked_journal(ws, outside):
    (ws / "journal.jsonl").symlink_to(outside)
    result = kam("assign", str(ws), "K2", "--manager", "KAM3", "--apply")
    assert result.exit_code == 2, result.output
    assert "is a symbolic link; kam refuses to follow it" in result.output
    assert "Traceback" not in result.output and "bug in kamcore" not in result.output
    assert_untouched(outside)


def _plant(ws: Path, manifest: object, files: dict[str, str] | None = None) -> None:
    txn = ws / TXN_DIR
    txn.mkdir()
    (txn / MANIFEST).write_text(json.dumps(manifest))
    for name, text in (files or {}).items():
        (txn / name).write_text(text)


@pytest.mark.parametrize("existed", [True, False])
@pytest.mark.parametrize("how", ["relative", "absolute"])
def test_a_planted_manifest_cannot_touch_files_outside(ws, outside, existed, how):
    name = str(outside) if how == "absolute" else "../outside.txt"
    _plant(ws, {"files": [{"name": name, "existed": existed}], "journal_size": 0},
           {"evil.old": "pwned\n"})
    with pytest.raises(WorkspaceError, match="not a plain file name"):
        recover(ws)
    assert_untouched(outside)
    with pytest.raises(WorkspaceError, match="not a plain file name"):
        changes.apply(_assign_plan(ws))
    assert_untouched(outside)


def test_a_planted_manifest_is_checked_whole_before_anything_is_rolled_back(ws, outside):
    before = (ws / "accounts.csv").read_bytes()
    _plant(ws, {"files": [{"name": "accounts.csv", "existed": True},
                          {"name": "../outside.txt", "existed": False}], "journal_size": 0},
           {"accounts.csv.old": "planted\n"})
    with pytest.raises(WorkspaceError):
        recover(ws)
    assert (ws / "accounts.csv").read_bytes() == before
    assert_untouched(outside)


@pytest.mark.parametrize("manifest", [
    [], {"files": "accounts.csv"}, {"files": ["accounts.csv"]},
    {"files": [{"name": "accounts.csv"}]}, {"files": [{"name": 3, "existed": True}]},
    {"files": [], "journal_size": "big"}, {"files": [], "journal_size": -1}, None, "x"])
def test_a_manifest_of_the_wrong_shape_is_a_clear_error(ws, manifest):
    _plant(ws, manifest)
    with pytest.raises(WorkspaceError, match="manifest"):
        recover(ws)


def test_a_planted_backup_folder_is_refused(ws):
    before = (ws / "accounts.csv").read_bytes()
    _plant(ws, {"files": [{"name": "accounts.csv", "existed": True}], "journal_size": 0})
    (ws / TXN_DIR / "accounts.csv.old").mkdir()
    with pytest.raises(WorkspaceError, match="is not a file"):
        recover(ws)
    assert (ws / "accounts.csv").read_bytes() == before


def test_a_txn_folder_that_is_a_symlink_is_a_clear_error(ws, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / MANIFEST).write_text(json.dumps(
        {"files": [{"name": "accounts.csv", "existed": False}], "journal_size": None}))
    (ws / TXN_DIR).symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(WorkspaceError, match=r"transaction folder .* is a symbolic link"):
        recover(ws)
    assert (ws / "accounts.csv").exists() and (elsewhere / MANIFEST).exists()
    result = kam("assign", str(ws), "K2", "--manager", "KAM3", "--apply")
    assert result.exit_code == 2 and "symbolic link" in result.output, result.output
    assert (elsewhere / MANIFEST).exists()


def test_commit_refuses_a_file_name_with_a_folder(ws, outside):
    with workspace_lock(ws), pytest.raises(WorkspaceError, match="not a plain file name"):
        commit(ws, {"../outside.txt": b"pwned\n"}, "{}\n")
    assert_untouched(outside)
    assert not os.path.lexists(ws / TXN_DIR)


# -- one CSV writer: formulas neutralised in exports, a lone CR always quoted ------------------

FORMULAS = {"G": "=HYPERLINK(\"http://evil\",\"x\")", "N-DE": "+cmd|' /C calc'!A0",
            "K1": "@SUM(1+1)", "K2": "'\r=cmd|' /C calc'!A0", "R1": "-2+3", "R2": "Tab\tin"}
PEOPLE_FORMULAS = {"KAM1": "=3+3", "NAM1": "@SUM(A1)"}


@pytest.fixture
def hostile_ws(tmp_path: Path) -> Path:
    """The small org with formula-like names (and a lone CR in one) and a negative revenue."""
    org = small_org()
    accounts = {aid: a.model_copy(update={"name": FORMULAS.get(aid, a.name)})
                for aid, a in org.accounts.items()}
    accounts["R3"] = accounts["R3"].model_copy(update={"metrics": {"revenue": -5.0}})
    people = {pid: p.model_copy(update={"name": PEOPLE_FORMULAS.get(pid, p.name)})
              for pid, p in org.people.items()}
    import kamcore

    kamcore.save(org.replace(accounts=accounts, people=people), tmp_path / "org")
    return tmp_path / "org"


def parse(text: str) -> list[dict[str, str]]:
    import csv
    import io

    return list(csv.DictReader(io.StringIO(text, newline="")))


def assert_no_live_formula(rows: list[dict[str, str]]) -> None:
    for row in rows:
        for value in row.values():
            if value and value[0] in "=+-@\t\r":
                float(value)  # only a plain number may start with a trigger


def test_the_workspace_keeps_formula_text_and_a_lone_cr_exactly(hostile_ws):
    text = (hostile_ws / "accounts.csv").read_bytes().decode()
    assert '"\'\r=cmd|\' /C calc\'!A0"' in text  # quoted, or the row would break
    assert "\n=HYPERLINK" not in text and '"=HYPERLINK(""http://evil"",""x"")"' in text
    org = load(hostile_ws)
    assert {aid: org.accounts[aid].name for aid in FORMULAS} == FORMULAS
    assert org.people["KAM1"].name == "=3+3"


def test_a_lone_cr_survives_an_unrelated_apply(hostile_ws):
    result = kam("assign", str(hostile_ws), "R1", "--manager", "AM2", "--apply")
    assert result.exit_code == 0, result.output
    org = load(hostile_ws)
    assert org.accounts["K2"].name == FORMULAS["K2"] and org.accounts["R1"].manager == "AM2"


@pytest.mark.parametrize("args", [
    ["--format", "csv"], ["--format", "csv", "--people"], ["--format", "salesforce"]])
def test_exports_neutralise_formulas(hostile_ws, tmp_path, args):
    stdout = kam("export", str(hostile_ws), *args)
    assert stdout.exit_code == 0, stdout.output
    out = tmp_path / "export.csv"
    to_file = kam("export", str(hostile_ws), *args, "-o", str(out))
    assert to_file.exit_code == 0, to_file.output
    for rows in (parse(stdout.output), parse(out.read_bytes().decode())):
        assert len(rows) == (10 if "--people" in args else 9)  # the CR broke no row
        assert_no_live_formula(rows)
    names = {r.get("name") or r.get("Name") for r in parse(out.read_bytes().decode())}
    if "--people" in args:
        assert "'=3+3" in names
    else:
        assert {"'=HYPERLINK(\"http://evil\",\"x\")", "'+cmd|' /C calc'!A0", "'@SUM(1+1)",
                "'\r=cmd|' /C calc'!A0", "'-2+3"} <= names


def test_a_verbatim_export_is_exact_but_still_quotes_a_lone_cr(hostile_ws):
    result = kam("export", str(hostile_ws), "--format", "csv", "--verbatim")
    rows = parse(result.output)
    assert len(rows) == 9
    assert {r["id"]: r["name"] for r in rows if r["id"] in FORMULAS} == FORMULAS


def test_negative_numbers_stay_numbers(hostile_ws):
    rows = parse(kam("export", str(hostile_ws), "--format", "csv").output)
    assert next(r for r in rows if r["id"] == "R3")["revenue"] == "-5"
    rollup = parse(kam("rollup", str(hostile_ws), "--format", "csv").output)
    assert next(r for r in rollup if r["id"] == "R3")["revenue"] == "-5"


@pytest.mark.parametrize("by", ["account", "manager"])
def test_rollup_csv_neutralises_formulas(hostile_ws, tmp_path, by):
    stdout = kam("rollup", str(hostile_ws), "--by", by, "--format", "csv")
    assert stdout.exit_code == 0, stdout.output
    out = tmp_path / "rollup.csv"
    assert kam("rollup", str(hostile_ws), "--by", by, "--format", "csv", "-o",
               str(out)).exit_code == 0
    for rows in (parse(stdout.output.split("\n", 1)[1] if stdout.output.startswith("wrote")
                       else stdout.output), parse(out.read_bytes().decode())):
        assert len(rows) == (9 if by == "account" else 10)
        assert_no_live_formula(rows)
    names = {r["name"] for r in parse(out.read_bytes().decode())}
    assert ("'@SUM(1+1)" in names) if by == "account" else ("'=3+3" in names)


def test_duties_csv_neutralises_formulas(hostile_ws):
    result = kam("duties", str(hostile_ws), "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = parse(result.output)
    assert rows
    assert_no_live_formula(rows)
    assert "'@SUM(1+1)" in {r["account_name"] for r in rows}
    assert "'=3+3" in {r["person_name"] for r in rows}


def test_every_csv_writer_is_the_one_in_csvio():
    src = Path(__file__).resolve().parent.parent / "src" / "kamcore"
    writers = sorted(str(p.relative_to(src)) for p in src.rglob("*.py")
                     if "csv.writer(" in p.read_text() or "csv.DictWriter(" in p.read_text())
    assert writers == ["workspace/csvio.py"]


# -- imports: every line of the input is imported or listed ------------------------------------

def _account_lines(n: int = 7) -> list[str]:
    return ["Id,Name,OwnerId,AnnualRevenue,Description"] + [
        f"001DnAbC000000{i},Acme {i},005Dn00000Ux001IAB,{i}00,plain" for i in range(1, n + 1)]


def _import(tmp_path: Path, lines: list[str]):
    source = tmp_path / "Account.csv"
    source.write_text("\n".join(lines) + "\n")
    out = tmp_path / "org"
    result = kam("import", "salesforce", str(source), "-o", str(out))
    assert result.exit_code == 0, result.output
    return load(out), (out / "import-report.md").read_text(), result.output


def test_an_unbalanced_quote_loses_no_following_line(tmp_path):
    lines = _account_lines()
    lines[4] = '001DnAbC0000004,"Acme 4,005Dn00000Ux001IAB,400,plain'  # line 5 of the file
    org, report, output = _import(tmp_path, lines)
    assert sorted(a.name for a in org.accounts.values()) == [
        "Acme 1", "Acme 2", "Acme 3", "Acme 5", "Acme 6", "Acme 7"]
    assert "Account.csv:5 |" in report and "unbalanced quote" in report
    assert "runs on to line 8" in report and "lines 6-8 read again one by one" in report
    assert "1 unreadable problem;" in output


def test_an_unbalanced_quote_in_the_last_column_is_caught_too(tmp_path):
    lines = _account_lines()
    lines[2] = '001DnAbC0000002,Acme 2,005Dn00000Ux001IAB,200,"never closed'
    org, report, _ = _import(tmp_path, lines)
    assert sorted(a.name for a in org.accounts.values()) == [
        "Acme 1", "Acme 3", "Acme 4", "Acme 5", "Acme 6", "Acme 7"]
    assert "Account.csv:3 |" in report and "unbalanced quote" in report


def test_a_quote_closed_mid_cell_across_lines_is_reported(tmp_path):
    lines = _account_lines()
    lines[2] = '001DnAbC0000002,"Acme 2,005Dn00000Ux001IAB,200,plain'
    lines[4] = '001DnAbC0000004,Acme "4" Ltd,005Dn00000Ux001IAB,400,plain'
    org, report, _ = _import(tmp_path, lines)
    assert {"Acme 1", "Acme 3", "Acme 5", "Acme 6", "Acme 7"} <= {
        a.name for a in org.accounts.values()}
    assert "Account.csv:3 |" in report


def test_a_legitimate_multi_line_cell_is_one_record(tmp_path):
    lines = _account_lines()
    lines[2] = '001DnAbC0000002,Acme 2,005Dn00000Ux001IAB,200,"first line\nsecond, line"'
    org, _, output = _import(tmp_path, lines)
    assert len(org.accounts) == 7 and "unreadable" not in output
    two = next(a for a in org.accounts.values() if a.name == "Acme 2")
    assert "first line\nsecond, line" in two.extra.values()


def test_a_cell_over_128_kib_drops_no_record(tmp_path):
    lines = _account_lines()
    big = "x" * 200_000
    lines[3] = lines[3].replace(",plain", f",{big}")
    org, _, output = _import(tmp_path, lines)
    assert len(org.accounts) == 7 and "unreadable" not in output
    three = next(a for a in org.accounts.values() if a.name == "Acme 3")
    assert big in three.extra.values()


def test_parse_table_names_every_broken_line(tmp_path):
    from kamcore.workspace.csvio import parse_table

    text = 'a,b\n1,"x\n2,y\n3,z\n\n4,w\n'
    for strict in (True, False):
        table, problems = parse_table(text, tmp_path / "t.csv", strict=strict)
        assert [line for line, _ in table.rows] == [3, 4, 6]
        assert [p.location.line for p in problems if p.location] == [2]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet='ab,"\n\r\0 ', max_size=80), st.booleans())
def test_parse_table_reads_any_text_or_says_where_it_fails(text, strict):
    from kamcore.workspace.csvio import parse_table

    try:
        table, problems = parse_table(text, Path("t.csv"), strict=strict)
    except WorkspaceError:
        return
    count = len(io.StringIO(text, newline="").readlines())
    assert all(1 <= line <= count for line, _ in table.rows)
    assert all(p.location is not None and 1 <= (p.location.line or 0) <= count
               for p in problems)
    assert all(len(row) == len(table.header) for _, row in table.rows)


# -- a plugin that raises SystemExit is a plugin fault, never a silent exit 0 ------------------

def _installed(monkeypatch, tmp_path: Path, body: str) -> str:
    """Pretend a plugin whose module is ``body`` is installed (as the only entry point)."""
    import uuid
    from importlib import metadata

    module = f"kam_hostile_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{module}.py").write_text(body)
    monkeypatch.syspath_prepend(str(tmp_path))
    installed = [metadata.EntryPoint(name="hostile", value=f"{module}:plugin",
                                     group="kamcore")]
    monkeypatch.setattr("kamcore.plugins.installed_entry_points", lambda group="kamcore":
                        installed)
    return module


def kam_installed(*args: str):
    return CliRunner().invoke(make_cli(), list(args))


@pytest.mark.parametrize("raised", ["SystemExit(0)", "SystemExit()", "SystemExit('bye')",
                                    "GeneratorExit()", "type('Odd', (BaseException,), {})()"])
def test_a_plugin_exiting_at_import_is_a_named_plugin_failure(monkeypatch, tmp_path, ws,
                                                              raised):
    _installed(monkeypatch, tmp_path, f"raise {raised}\n")
    for command in (["validate", str(ws)], ["plugins"]):
        result = kam_installed(*command)
        assert "plugin 'hostile': cannot be imported: " in result.output, result.output
        assert "raised by a plugin" in result.output or "Odd" in result.output
    validate = kam_installed("validate", str(ws))
    assert validate.exit_code == 1 and "KAM900" in validate.output
    # the other commands run without it, like with any plugin that fails to import
    rollup = kam_installed("rollup", str(ws))
    assert rollup.exit_code == 0 and "Globex" in rollup.output
    duties = kam_installed("duties", str(ws))
    assert duties.exit_code == 0 and "Kim Key" in duties.output


HOOK_BODY = """
from kamcore import hookimpl


class Plugin:
    @hookimpl
    def {hook}(self, {args}):
        raise SystemExit(0)


plugin = Plugin()
"""


@pytest.mark.parametrize("hook, args", [
    ("kam_register_industries", "register"), ("kam_register_metrics", "register"),
    ("kam_register_fields", "register"), ("kam_register_rules", "register"),
    ("kam_account_duties", "account, org"), ("kam_add_commands", "cli")])
def test_a_plugin_exiting_in_a_hook_is_a_named_plugin_failure(monkeypatch, tmp_path, ws, hook,
                                                              args):
    _installed(monkeypatch, tmp_path, HOOK_BODY.format(hook=hook, args=args))
    command = {"kam_account_duties": ["duties", str(ws)], "kam_add_commands": ["--help"]}.get(
        hook, ["validate", str(ws)])
    result = kam_installed(*command)
    assert "plugin 'hostile'" in result.output and "SystemExit" in result.output, result.output
    if hook.startswith("kam_register"):
        assert result.exit_code == 1 and "KAM900" in result.output


def test_a_rule_check_exiting_is_a_kam900_finding(monkeypatch, tmp_path, ws):
    _installed(monkeypatch, tmp_path, """
from kamcore import hookimpl


def check(org):
    raise SystemExit(0)
    yield


class Plugin:
    @hookimpl
    def kam_register_rules(self, register):
        register("HOS101", "hostile", check)


plugin = Plugin()
""")
    result = kam_installed("validate", str(ws))
    assert result.exit_code == 1, result.output
    assert "KAM900" in result.output and "HOS101" in result.output
    assert "SystemExit" in result.output
