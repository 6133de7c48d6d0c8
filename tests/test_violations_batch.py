"""Table-form rules that yield many violations at once (kamcore.Violations) and the findings
kept as columns: the same findings, in the same order and text, as one Violation each."""

from __future__ import annotations

import re
from collections import defaultdict

import click
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from kamcore import Finding, Severity, Violation, Violations, hookimpl
from kamcore.cli.cmd_validate import _text_groups
from kamcore.exporters.columns import py_reprs
from kamcore.findings import FindingCollector
from kamcore.testing import make_plugin_manager
from kamcore.validation import validate_columns, validate_tables
from kamcore.workspace.tables import read_workspace

ACCOUNTS = """\
id,name,tier,parent,manager,country
G,Globex,global,,P1,DE

N,Globex DE,national,G,P1,DE
K1,Key one,key,N,P1,DE
K2,"Key, two",key,N,P1,DE
"""
PEOPLE = "id,name,role\nP1,Ada,gam\nP2,Bob,am\n"


def _keyed(table, rows):
    """Rows whose names hold 'Key', as a rule would pick them."""
    return [int(r) for r in rows if "Key" in table.text("name")[int(r)].as_py()]


class Rules:
    """The same rule twice: one Violation per row, and one Violations batch."""

    @hookimpl
    def kam_register_rules(self, register):
        register("TST101", "one-by-one", self.one_by_one, form="tables", severity="warning")
        register("TST102", "batched", self.batched, form="tables", severity="warning")
        register("TST103", "people", self.people, form="tables", severity="info")

    @staticmethod
    def one_by_one(tables):
        accounts = tables.accounts
        for row in _keyed(accounts, range(len(accounts))):
            name = accounts.text("name")[row].as_py()
            yield Violation(accounts.ids[row].as_py(), f"{name!r} is a key account", "fine",
                            column="name", location=accounts.location(row, "name"))

    @staticmethod
    def batched(tables):
        accounts = tables.accounts
        rows = np.array(_keyed(accounts, range(len(accounts))))
        names = accounts.text("name").take(pa.array(rows))
        yield Violations(accounts, rows, pc.binary_join_element_wise(
            py_reprs(names), " is a key account", ""), "fine", column="name")

    @staticmethod
    def people(tables):
        people = tables.people
        yield Violations(people, [1], "reports to nobody", subject=pa.array(["someone"]))


def _workspace(tmp_path):
    (tmp_path / "accounts.csv").write_text(ACCOUNTS, encoding="utf-8")
    (tmp_path / "people.csv").write_text(PEOPLE, encoding="utf-8")
    (tmp_path / "kam.yaml").write_text("name: Test\n", encoding="utf-8")
    return tmp_path


def test_a_batch_gives_the_findings_one_violation_each_gives(tmp_path):
    pm = make_plugin_manager(Rules())
    tables = read_workspace(_workspace(tmp_path), pm=pm)
    found = validate_tables(tables, select=["TST"])
    one = [f for f in found if f.code == "TST101"]
    many = [f for f in found if f.code == "TST102"]
    assert [f.subject for f in many] == ["K1", "K2"]
    assert [f.line for f in many] == [5, 6]  # the blank line counts
    assert [f.message for f in many] == ["'Key one' is a key account",
                                         "'Key, two' is a key account"]
    assert [f.model_copy(update={"code": "TST102", "rule": "batched"}) for f in one] == many
    assert all(type(f.line) is int and f.severity is Severity.WARNING for f in many)
    person = next(f for f in found if f.code == "TST103")
    assert (person.subject, person.line, person.file, person.hint) == (
        "someone", 3, str(tmp_path / "people.csv"), None)


def test_the_columns_and_the_objects_agree(tmp_path):
    pm = make_plugin_manager(Rules())
    tables = read_workspace(_workspace(tmp_path), pm=pm)
    columns = validate_columns(tables)
    objects = validate_tables(tables)
    assert columns.findings() == objects
    assert columns.counts() == {sev.value: sum(f.severity is sev for f in objects)
                                for sev in Severity}
    assert columns.counts()["warning"] >= 4 and not columns.has_errors()


class BadBatches:
    @hookimpl
    def kam_register_rules(self, register):
        register("BAD101", "out-of-range", lambda t: [Violations(t.accounts, [99], "x")],
                 form="tables")
        register("BAD102", "short", lambda t: [Violations(t.accounts, [0, 1],
                                                          pa.array(["only one"]))],
                 form="tables")
        register("BAD103", "no-message", lambda t: [Violations(t.accounts, [0], None)],
                 form="tables")
        register("BAD104", "org-form", lambda org: [Violations(None, [0], "x")])
        register("BAD105", "not-rows", lambda t: [Violations(t.accounts, ["a"], "x")],
                 form="tables")


def test_a_bad_batch_is_the_plugins_failure(tmp_path):
    pm = make_plugin_manager(BadBatches())
    tables = read_workspace(_workspace(tmp_path), pm=pm)
    found = validate_tables(tables, select=["BAD"])
    failures = {re.search(r"rule (BAD\d+)", f.message).group(1): f.message
                for f in found if f.code == "KAM900"}
    assert sorted(failures) == ["BAD101", "BAD102", "BAD103", "BAD104", "BAD105"]
    assert "rows of" in failures["BAD101"]
    assert "one per row" in failures["BAD102"]
    assert "every row a message" in failures["BAD103"]
    assert "expected kamcore.Violation" in failures["BAD104"]
    assert "row numbers" in failures["BAD105"]


@settings(deadline=None)  # a shared machine: one slow example is not a failure
@given(st.lists(st.one_of(st.none(), st.text())))
def test_py_reprs_is_repr(values):
    out = py_reprs(pa.array(values, pa.string())).to_pylist()
    assert out == [None if v is None else repr(v) for v in values]


# -- the text kam validate prints ---------------------------------------------------------------

_COLOURS = {"error": "red", "warning": "yellow", "info": "blue"}


def _reference(findings: list[Finding], group_by: str) -> list[str]:
    """The lines as kam validate printed them from Finding objects (before the columns)."""
    groups: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        key = (finding.file or "(plugins)") if group_by == "file" else (
            f"{finding.code} {finding.rule or ''}".strip())
        groups[key].append(finding)
    labels = {sev: click.style(f"{sev.value:<7}", fg=_COLOURS[sev.value]) for sev in Severity}
    out = []
    for key, items in groups.items():
        out.append(click.style(key, bold=True))
        digits = max(len(str(f.line or "")) for f in items)
        for f in items:
            where = (f"line {f.line:>{digits}}" if (group_by == "file" and f.line)
                     else (f.where or ""))
            code = f.code if group_by == "file" else ""
            subject = f"{f.subject}: " if f.subject else ""
            column = f" [{f.column}]" if f.column else ""
            head = f"{'  '.join(part for part in (where, code) if part):<14}"
            out.append(f"  {head} {labels[f.severity]} {subject}{f.message}{column}")
            if f.hint:
                out.append(f"  {'':<{len(head)}} {'':<7} hint: {f.hint}")
        out.append("")
    return out


ODD = [
    Finding(code="KAM101", severity=Severity.ERROR, message="m1", file="a.csv", line=7,
            subject="A", column="id", hint="h", rule="duplicate-id", plugin="core"),
    Finding(code="KAM102", severity=Severity.ERROR, message="m2", file="a.csv", line=12345,
            subject="", hint="", rule="unknown-parent", plugin="core"),
    Finding(code="KAM900", severity=Severity.ERROR, message="plugin broke", hint="disable it",
            rule="plugin-failure", plugin="x"),
    Finding(code="X1", severity=Severity.WARNING, message="no line", file="b.csv",
            rule="odd rule  ", plugin="x"),
    Finding(code="X1", severity=Severity.WARNING, message="line 0", file="b.csv", line=0,
            rule="odd rule", plugin="x", column="c"),
    Finding(code="X2", severity=Severity.INFO, message="wide", file="a.csv", line=3,
            subject="Ünïcode id", hint="a\nhint", plugin="x"),
    Finding(code="X2", severity=Severity.INFO, message="no file", line=4, plugin="x"),
    Finding(code="VERYLONGCODE123", severity=Severity.INFO,
            message="a head wider than fourteen", file="a-long-file-name.csv", hint="h2",
            rule="r", plugin="x"),
]


def _lines(findings: list[Finding], group_by: str) -> list[str]:
    collector = FindingCollector()
    for finding in findings:
        collector.add(finding)
    out = []
    for head, chunks in _text_groups(collector.table().sorted(), group_by, chunk=2):
        out += [head, *(line for lines in chunks for line in lines.to_pylist()), ""]
    return out


def test_plain_text_lines_are_the_styled_ones_stripped():
    """Piped, validate's lines are built without styles and written as bytes (click's
    stripping pass skipped): the text click would have stripped them to."""
    import click

    collector = FindingCollector()
    for finding in ODD:
        collector.add(finding)
    found = collector.table().sorted()
    for group_by in ("file", "code"):
        styled, plain = ([line for _, chunks in _text_groups(found, group_by, chunk=3,
                                                               styled=flag)
                          for lines in chunks for line in lines.to_pylist()]
                         for flag in (True, False))
        assert plain == [click.unstyle(line) for line in styled] and plain != styled


def test_text_lines_are_what_they_were():
    ordered = sorted(ODD, key=lambda f: (["error", "warning", "info"].index(f.severity.value),
                                         f.file or "", f.line or 0, f.code))
    for group_by in ("file", "code"):
        assert _lines(ODD, group_by) == _reference(ordered, group_by), group_by
    assert _lines([], "file") == []


class Odd:
    """Messages a JSON string must escape, hints and columns left out."""

    @hookimpl
    def kam_register_rules(self, register):
        register("ODD101", "odd-text", self.odd, form="tables", severity="info")

    @staticmethod
    def odd(tables):
        yield Violation(None, 'a "quoted"\tmessage\nwith \\ and \x01 and ünïcödé')
        yield Violations(tables.accounts, [0, 1], pa.array(["plain", "tab\there"]),
                         subject=pa.array([None, "x"], pa.string()))


def test_json_report_is_what_render_json_writes_for_the_findings(tmp_path):
    from click.testing import CliRunner

    from kamcore.cli.app import make_cli
    from kamcore.cli.output import render_json

    folder = _workspace(tmp_path)
    (folder / "accounts.csv").write_text(ACCOUNTS + 'B,Bad,key,"G\\\'x",P9,DE\n',
                                         encoding="utf-8")
    pm = make_plugin_manager(Rules(), Odd())
    result = CliRunner().invoke(make_cli(pm), ["validate", str(folder), "--format", "json"])
    assert result.exit_code == 1, result.output
    tables = read_workspace(folder, pm=pm)
    findings = validate_tables(tables)
    assert {"KAM102", "KAM106", "ODD101"} <= {f.code for f in findings}
    expected = render_json({
        "org": "Test", "accounts": 5, "people": 2, "contacts": None, "territories": None,
        "summary": validate_columns(tables).counts(),
        "findings": [f.model_dump(mode="json") for f in findings]})
    assert result.stdout == expected + "\n"
    assert '"message": "a \\"quoted\\"\\tmessage\\nwith \\\\ and \\u0001 and ünïcödé"' \
        in result.stdout


def test_json_report_without_findings(tmp_path):
    from click.testing import CliRunner

    from kamcore.cli.app import make_cli

    folder = _workspace(tmp_path)
    result = CliRunner().invoke(make_cli(make_plugin_manager()),
                                ["validate", str(folder), "--format", "json", "--select",
                                 "NONE"])
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith('"findings": []\n}\n')
