"""Scoped org-form rules: register(..., fields=, industries=) bounds a rule to its accounts."""

from __future__ import annotations

from pydantic import BaseModel

import kamcore
from kamcore import Violation, hookimpl
from kamcore.validation import scoped_tables, validate_tables
from kamcore.workspace.tables import read_workspace

pytest_plugins = ["kamcore.testing"]

ACCOUNTS = """\
id,name,tier,parent,manager,country,industry,currency,widgets.serial,note
G,Globex,global,,P1,DE,Banking,EUR,,
N,Globex DE,national,G,P1,DE,,EUR,,
K,Widget Works,key,N,P1,DE, Widget Makers ,EUR,,
W,Serial Co,key,,P1,DE,Retail,EUR,7,
U,Unrelated,key,,P1,DE,Retail,EUR,,plain
W2,Orphan Widgets,key,MISSING,P2,DE,,EUR,9,
U,Unrelated again,key,,P1,DE,widgets,EUR,5,
"""
PEOPLE = "id,name,role\nP1,Ada,gam\nP2,Bob,am\n"


class Widget(BaseModel):
    serial: int


class Widgets:
    """A plugin whose rules record the org each one was given."""

    def __init__(self) -> None:
        self.seen: dict[str, object] = {}

    def watch(self, code: str, flag=None):
        """A check that keeps its org and flags the accounts ``flag(org, account)`` picks (each
        rule flags only accounts in its own scope, so any org gives the same findings)."""
        def check(org):
            self.seen[code] = org
            for account in org.accounts.values():
                if flag is not None and flag(org, account):
                    yield Violation(account.id, f"{code} saw it")
        return check

    @hookimpl
    def kam_register_industries(self, register):
        register("widgets", aliases=("widget makers",))

    @hookimpl
    def kam_register_fields(self, register):
        register("widgets", account=Widget)

    @hookimpl
    def kam_register_rules(self, register):
        register("WID101", "by-fields", self.watch(
            "WID101", lambda org, account: "widgets" in account.ext), fields=("widgets",))
        register("WID102", "by-industry", self.watch(
            "WID102", lambda org, account: org.industry_of(account) == "widgets"),
                 industries=("Widgets",))
        register("WID103", "by-both", self.watch("WID103"), fields="widgets",
                 industries=["widgets"])
        register("WID104", "same-fields", self.watch("WID104"), fields=("widgets",))
        register("WID105", "whole", self.watch("WID105"))
        register("WID106", "unclaimed-industry", self.watch("WID106"), industries=("banking",))


def make_plugin_manager(*plugins):
    from kamcore.testing import make_plugin_manager as make

    return make(*plugins)


def workspace(folder, accounts=ACCOUNTS, people=PEOPLE):
    (folder / "kam.yaml").write_text("name: Scoped\ncurrency: EUR\n")
    (folder / "accounts.csv").write_text(accounts)
    (folder / "people.csv").write_text(people)
    return folder


def run(tmp_path):
    plugin = Widgets()
    pm = make_plugin_manager(plugin)
    tables = read_workspace(workspace(tmp_path), pm=pm)
    tables.require_readable()
    return plugin, validate_tables(tables)


def test_a_scoped_rule_gets_its_accounts_their_ancestors_and_every_person(tmp_path):
    plugin, _ = run(tmp_path)
    ids = {code: list(org.accounts) for code, org in plugin.seen.items()}  # type: ignore[attr-defined]
    # fields: rows with a widgets.* value (U's second row is a duplicate: the org holds its
    # first row, which has none)
    assert ids["WID101"] == ["W", "W2"]
    # industries: aliases resolved, cells trimmed; K's ancestors come along so parents resolve
    assert ids["WID102"] == ["G", "N", "K"]
    assert ids["WID103"] == ["G", "N", "K", "W", "W2"]
    # an industry no plugin claims matches its normalised cell, as kamcore.serves does
    assert ids["WID106"] == ["G"]
    assert ids["WID105"] == ["G", "N", "K", "W", "U", "W2"]
    scoped = plugin.seen["WID102"]
    assert scoped.parent("K") == "N" and scoped.ancestors("K") == ["N", "G"]  # type: ignore[attr-defined]
    assert list(scoped.people) == ["P1", "P2"]  # type: ignore[attr-defined]
    assert scoped.accounts["K"].industry == "Widget Makers"  # type: ignore[attr-defined]


def test_one_org_per_scope_in_a_run(tmp_path):
    plugin, _ = run(tmp_path)
    assert plugin.seen["WID101"] is plugin.seen["WID104"]
    assert plugin.seen["WID101"] is not plugin.seen["WID105"]


def test_the_orgs_of_a_run_share_their_person_records(tmp_path):
    """Every scope's org holds every person: the records are built once (they are frozen),
    each org with its own dict of them."""
    plugin, _ = run(tmp_path)
    orgs = [plugin.seen[code] for code in ("WID101", "WID102", "WID105")]
    assert all(org.people["P2"] is orgs[0].people["P2"] for org in orgs)  # type: ignore[attr-defined]
    assert orgs[0].people is not orgs[1].people  # type: ignore[attr-defined]
    assert orgs[1].location("person", "P2").line == 3  # type: ignore[attr-defined]


def test_scoped_findings_keep_file_and_line(tmp_path):
    _, found = run(tmp_path)
    located = sorted((f.code, f.subject, f.file, f.line) for f in found
                     if f.code.startswith("WID"))
    accounts = str(tmp_path / "accounts.csv")
    assert located == [("WID101", "W", accounts, 5), ("WID101", "W2", accounts, 7),
                       ("WID102", "K", accounts, 4)]


def test_scoped_and_whole_org_findings_agree(tmp_path):
    plugin = Widgets()
    pm = make_plugin_manager(plugin)
    folder = workspace(tmp_path)
    from_tables = validate_tables(read_workspace(folder, pm=pm))
    from_org = kamcore.validate(kamcore.load(folder, pm=pm))

    def key(items):
        return sorted((f.code, f.subject, f.file, f.line, f.message) for f in items)

    assert key(from_tables) == key(from_org)


def test_scoped_tables_keep_the_original_rows(tmp_path):
    pm = make_plugin_manager(Widgets())
    tables = read_workspace(workspace(tmp_path), pm=pm)
    sub = scoped_tables(tables, industries=("widgets",))
    assert sub.accounts.ids.to_pylist() == ["G", "N", "K"]
    assert [sub.accounts.line(row) for row in range(3)] == [2, 3, 4]
    assert len(sub.people) == len(tables.people) and len(tables.accounts) == 7


def test_scope_must_be_names(tmp_path):
    class Bad:
        @hookimpl
        def kam_register_rules(self, register):
            register("BAD101", "bad-fields", lambda org: [], fields=("Not A Namespace",))

    class TableScoped:
        @hookimpl
        def kam_register_rules(self, register):
            register("BAD102", "table-scoped", lambda tables: [], form="tables",
                     fields=("widgets",))

    registry = kamcore.registry_for(make_plugin_manager(Bad(), TableScoped()))
    assert "BAD101" not in registry.rules and "BAD102" not in registry.rules
    messages = " ".join(p.message for p in registry.problems)
    assert "fields must be plugin namespaces" in messages
    assert "scope an org-form rule" in messages


def test_the_bundled_plugins_declare_their_scopes():
    registry = kamcore.registry_for(make_plugin_manager(
        "kamcore_healthcare.plugin", "kamcore_manufacturing.plugin", "kamcore_retail.plugin"))
    rules = registry.rules
    assert rules["HC101"].scope == (("healthcare",), ())
    assert rules["HC104"].scope == ((), ("healthcare",))
    assert rules["HC102"].form == rules["HC103"].form == "tables"
    assert rules["MFG103"].scope == ((), ("manufacturing",))
    assert rules["RTL102"].scope == (("retail",), ())


HEALTH = """\
id,name,tier,parent,manager,country,industry,currency,claims,claim_denial_rate
A,Clinic A,key,,P1,US,healthcare,USD,100,0.2
B,Clinic B,key,,P1,US,healthcare,USD,,1.5
C,Clinic C,key,,P1,US,healthcare,USD,0,-0.1
A,Clinic A again,key,,P1,US,healthcare,USD,,7
D,Clinic D,key,,P1,US,healthcare,USD,5,
"""


def test_table_form_metric_rules_check_first_rows_and_locate_them(tmp_path):
    pm = make_plugin_manager("kamcore_healthcare.plugin")
    folder = workspace(tmp_path, HEALTH, "id,name,role\nP1,Ada,am\n")
    from_tables = validate_tables(read_workspace(folder, pm=pm), select=["HC102", "HC103"])
    found = sorted((f.code, f.subject, f.line, f.message.split(";")[0]) for f in from_tables)
    assert found == [("HC102", "B", 3, "claim_denial_rate is 1.5"),
                     ("HC102", "C", 4, "claim_denial_rate is -0.1"),
                     ("HC103", "B", 3, "has a claim_denial_rate but no claims"),
                     ("HC103", "C", 4, "has a claim_denial_rate but no claims")]
    from_org = kamcore.validate(kamcore.load(folder, pm=pm), select=["HC102", "HC103"])
    assert sorted((f.code, f.subject, f.line, f.message.split(";")[0])
                  for f in from_org) == found
