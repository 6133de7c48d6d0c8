"""Agreement, proven (issue 9, item 4): every reader of a workspace reads it the same way.

Hypothesis draws messy-but-valid workspaces (:mod:`tests.messy_orgs`: padded cells, case
variants, BOM, CRLF, quoted cells, facts beside metric columns, several currencies and periods)
together with the org they mean (``ws.truth``, normalised). Each test holds one family of
readers to that truth: the Python ``Org``, ``kam validate``, ``kam rollup`` (account, manager
and group views, CLI and Python API), ``kam tree``, every ``kam export`` format, ``kam
duties``, ``kam coverage`` and the chart's data. A test lists every disagreement it finds, so
a failure says which reader read which cell differently; hypothesis then shrinks the workspace
to the one kind of mess that causes it.

The last property: a workspace with one defect no reading rule can repair is refused by
``kam validate`` and by ``kam rollup`` (and ``kamcore.rollup``), naming the same line and the
same code.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import kamcore
from kamcore.cli.app import make_cli
from kamcore.errors import KamError
from kamcore.plugins import get_plugin_manager
from kamcore.registry import registry_for
from tests.messy_orgs import (
    METRICS,
    Broken,
    MessyWorkspace,
    Truth,
    broken_workspaces,
    messy_workspaces,
)

PM = get_plugin_manager(load_entrypoints=False)
REGISTRY = registry_for(PM)
CLI = make_cli(PM)
#: No "explain" phase: it runs the commands hundreds of times more to annotate a failure that
#: the disagreement list already explains.
AGREEMENT = settings(max_examples=25, deadline=None,
                     phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
                     suppress_health_check=[HealthCheck.function_scoped_fixture,
                                            HealthCheck.too_slow, HealthCheck.data_too_large])
#: -m for every core metric, so that every view has the same columns whatever has values.
METRIC_ARGS = [arg for m in METRICS for arg in ("-m", m)]
TIERS = ("global", "national", "key", "regular")


# ---------------------------------------------------------------------------------------------
# Running readers and collecting disagreements


@contextmanager
def written(ws: MessyWorkspace) -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        yield ws.write(Path(tmp) / "org")


def kam(*args: object) -> Result:
    return CliRunner().invoke(CLI, [str(a) for a in args])


def same(got: Any, want: Any) -> bool:
    numbers = (int, float)
    if isinstance(got, numbers) and isinstance(want, numbers) \
            and not isinstance(got, bool) and not isinstance(want, bool):
        return math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-6)
    return bool(got == want)


class Disagreements:
    """Every difference between a reader and the truth, reported at once at the end."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.items: list[str] = []

    def check(self, reader: str, what: str, got: Any, want: Any) -> bool:
        if not same(got, want):
            self.add(f"{reader}: {what}: got {got!r}, want {want!r}")
            return False
        return True

    def add(self, message: str) -> None:
        """Record a disagreement (temporary folders shown as ORG)."""
        self.items.append(message.replace(str(self.folder), "ORG"))

    def run(self, reader: str, *args: object) -> Result | None:
        """A CLI run that must succeed; a failure is recorded and ``None`` returned."""
        result = kam(*args)
        if result.exit_code != 0:
            shown = " ".join(str(a) for a in args).replace(str(self.folder), "ORG")
            error = (result.stderr or result.output).strip().replace(str(self.folder), "ORG")
            if result.exception is not None and not isinstance(result.exception, SystemExit):
                error += f" ({type(result.exception).__name__}: {result.exception})"
            self.add(f"{reader}: `kam {shown}` exited {result.exit_code}: {error[:600]}")
            return None
        return result

    def json(self, reader: str, *args: object) -> Any:
        result = self.run(reader, *args)
        return None if result is None else json.loads(result.stdout)

    def api(self, reader: str, call: Any) -> Any:
        """A Python API call that must succeed."""
        try:
            return call()
        except KamError as exc:
            self.add(f"{reader} raised {type(exc).__name__} [{exc.code}]: "
                     f"{str(exc).replace(str(self.folder), 'ORG')[:600]}")
            return None

    def done(self) -> None:
        assert not self.items, f"{len(self.items)} disagreement(s):\n" + "\n".join(
            f"- {item}" for item in self.items[:40])


def check_ids(d: Disagreements, reader: str, got: list[Any], want: list[str]) -> None:
    """The reader shows each wanted id exactly once, and nothing else."""
    dupes = sorted({str(x) for x in got if got.count(x) > 1})
    if dupes:
        d.add(f"{reader}: ids shown more than once: {dupes}")
    d.check(reader, "ids", sorted(map(str, got)), sorted(want))


def periods_of(selection: str | None, truth: Truth) -> tuple[str | None, list[str] | None]:
    """``--period`` to pass (or None) and the fact periods a rollup then covers."""
    if not truth.facts:
        return None, None
    chosen = {"2026Q3": ["2026Q3"], "2026Q4": ["2026Q4"],
              "2026Q3..2026Q4": ["2026Q3", "2026Q4"]}.get(selection or "")
    if chosen is None or not set(chosen) & set(truth.fact_periods):
        return None, truth.default_periods()
    return selection, chosen


# ---------------------------------------------------------------------------------------------
# validate and the Python Org


def findings_of(findings: list[dict[str, Any]], folder: Path) -> list[tuple[Any, ...]]:
    """Findings without the folder: (code, severity, subject, file name, line, column,
    message), sorted."""
    return sorted((f["code"], f["severity"], f["subject"], Path(f["file"] or "").name, f["line"],
                   f["column"], str(f["message"]).replace(str(folder), "ORG"))
                  for f in findings)


@AGREEMENT
@given(messy_workspaces())
def test_validate_accepts_messy_valid_orgs(ws: MessyWorkspace) -> None:
    """The generated orgs obey every core rule: ``kam validate`` and ``kamcore.validate`` find
    no error and no warning, and exactly what they find in the same org written plainly (an
    info such as KAM152 when a metric is both in facts.csv and a column)."""
    with written(ws) as folder, written(ws.plain()) as plain_folder:
        d = Disagreements(folder)
        result = kam("validate", folder, "--format", "json")
        d.check("kam validate", "exit code", result.exit_code, 0)
        data = json.loads(result.stdout) if result.exit_code in (0, 1) else None
        plain = d.json("kam validate (plain files)", "validate", plain_folder, "--format",
                       "json")
        if data is not None:
            got = findings_of(data["findings"], folder)
            d.check("kam validate", "errors and warnings",
                    [f for f in got if f[1] != "info"], [])
            if plain is not None:
                d.check("kam validate", "findings (messy vs plain files)", got,
                        findings_of(plain["findings"], plain_folder))
            d.check("kam validate", "accounts", data["accounts"], len(ws.truth.accounts))
            d.check("kam validate", "people", data["people"], len(ws.truth.people))
        org = d.api("kamcore.load", lambda: kamcore.load(folder, registry=REGISTRY))
        if org is not None:
            got = findings_of([f.model_dump(mode="json") for f in kamcore.validate(org)],
                              folder)
            d.check("kamcore.validate", "errors and warnings",
                    [f for f in got if f[1] != "info"], [])
            if plain is not None:
                d.check("kamcore.validate", "findings (messy vs kam validate on plain files)",
                        got, findings_of(plain["findings"], plain_folder))
        d.done()


@AGREEMENT
@given(messy_workspaces())
def test_python_org_reads_every_cell_normalised(ws: MessyWorkspace) -> None:
    """``kamcore.load``: trimmed ids and names, lower-case tiers and roles, upper-case codes,
    booleans, capacities, metrics; and both trees built from them."""
    truth = ws.truth
    with written(ws) as folder:
        d = Disagreements(folder)
        org = d.api("kamcore.load", lambda: kamcore.load(folder, registry=REGISTRY))
        if org is None:
            d.done()
            return
        d.check("Org", "account ids in file order", list(org.accounts), list(truth.accounts))
        for aid, want in truth.accounts.items():
            got = org.accounts.get(aid)
            if got is None:
                continue
            who = f"Org account {aid}"
            d.check(who, "name", got.name, want.name)
            d.check(who, "tier", got.tier.value, want.tier)
            d.check(who, "parent", got.parent, want.parent)
            d.check(who, "manager", got.manager, want.manager)
            d.check(who, "country", got.country, want.country)
            d.check(who, "currency", got.currency, want.currency)
            d.check(who, "metrics", got.metrics, want.metrics)
            d.check(who, "children", sorted(org.children(aid)), sorted(truth.children(aid)))
            d.check(who, "depth", org.depth(aid), truth.depth(aid))
        d.check("Org", "roots", sorted(org.roots()), sorted(truth.children(None)))
        d.check("Org", "people ids in file order", list(org.people), list(truth.people))
        for pid, want_p in truth.people.items():
            person = org.people.get(pid)
            if person is None:
                continue
            who = f"Org person {pid}"
            d.check(who, "name", person.name, want_p.name)
            d.check(who, "role", person.role.value, want_p.role)
            d.check(who, "reports_to", person.reports_to, want_p.reports_to)
            d.check(who, "capacity", person.capacity, want_p.capacity)
            d.check(who, "active", person.active, want_p.active)
            d.check(who, "specialty", person.specialty, want_p.specialty)
            d.check(who, "book", sorted(org.book(pid)), sorted(truth.book(pid)))
            d.check(who, "chain of command", list(org.chain_of_command(pid)), truth.chain(pid))
        d.done()


# ---------------------------------------------------------------------------------------------
# rollup: the account tree, the management chain, groups


def check_account_rows(d: Disagreements, reader: str, rows: list[dict[str, Any]],
                       truth: Truth, periods: list[str] | None) -> None:
    check_ids(d, reader, [r["id"] for r in rows], list(truth.accounts))
    for row in rows:
        want = truth.accounts.get(str(row["id"]))
        if want is None:
            continue
        who = f"{reader} row {want.id}"
        d.check(who, "name", row.get("name"), want.name)
        d.check(who, "tier", row.get("tier"), want.tier)
        d.check(who, "parent", row.get("parent"), want.parent)
        d.check(who, "manager", row.get("manager"), want.manager)
        if "manager_name" in row:
            d.check(who, "manager_name", row["manager_name"],
                    truth.people[want.manager].name)
        d.check(who, "depth", row.get("depth"), truth.depth(want.id))
        subtree = truth.subtree(want.id)
        for metric in METRICS:
            d.check(who, metric, row.get(metric), truth.own(want.id, metric, periods))
            d.check(who, f"{metric}_total", row.get(f"{metric}_total"),
                    truth.total(subtree, metric, periods))


@AGREEMENT
@given(messy_workspaces(), st.sampled_from([None, "2026Q3", "2026Q4", "2026Q3..2026Q4"]))
def test_rollup_account_view_agrees(ws: MessyWorkspace, selection: str | None) -> None:
    """Account view: parent, manager, tier, depth, own values and subtree totals (facts of the
    period, FX at the period's rate, accounts.csv columns at the undated rate), from ``kam
    rollup --format json``, ``kamcore.rollup(folder)`` and ``kamcore.rollup(org)``."""
    truth = ws.truth
    period, periods = periods_of(selection, truth)
    extra = ["--period", period] if period else []
    with written(ws) as folder:
        d = Disagreements(folder)
        data = d.json("kam rollup", "rollup", folder, "--format", "json", *METRIC_ARGS, *extra)
        if data is not None:
            d.check("kam rollup", "view", data["view"], "account")
            d.check("kam rollup", "currency", data["currency"], truth.currency)
            d.check("kam rollup", "period",
                    data["period"], period or (periods[0] if periods else None))
            check_account_rows(d, "kam rollup", data["rows"], truth, periods)
        result = d.api("kamcore.rollup(folder)", lambda: kamcore.rollup(
            folder, list(METRICS), period=period, registry=REGISTRY))
        if result is not None:
            check_account_rows(d, "kamcore.rollup(folder)", result.rows, truth, periods)
        org = d.api("kamcore.load", lambda: kamcore.load(folder, registry=REGISTRY))
        if org is not None:
            result = d.api("kamcore.rollup(org)",
                           lambda: kamcore.rollup(org, list(METRICS), period=period))
            if result is not None:
                check_account_rows(d, "kamcore.rollup(org)", result.rows, truth, periods)
        d.done()


def check_manager_rows(d: Disagreements, reader: str, rows: list[dict[str, Any]],
                       truth: Truth) -> None:
    periods = truth.default_periods()
    ids = [r["id"] for r in rows]
    if "(unassigned)" in ids:
        unassigned = next(r for r in rows if r["id"] == "(unassigned)")
        d.add(f"{reader}: {unassigned['accounts']} account(s) under '(unassigned)', but every "
              "account has a manager in people.csv")
    check_ids(d, reader, [i for i in ids if i != "(unassigned)"], list(truth.people))
    for row in rows:
        want = truth.people.get(str(row["id"]))
        if want is None:
            continue
        who = f"{reader} person {want.id}"
        book = truth.book(want.id)
        team_book = [a for p in truth.team(want.id) for a in truth.book(p)]
        d.check(who, "name", row.get("name"), want.name)
        d.check(who, "role", row.get("role"), want.role)
        d.check(who, "depth", row.get("depth"), len(truth.chain(want.id)))
        d.check(who, "accounts", row.get("accounts"), len(book))
        d.check(who, "team_accounts", row.get("team_accounts"), len(team_book))
        for metric in METRICS:
            d.check(who, f"{metric}_book", row.get(f"{metric}_book"),
                    truth.total(book, metric, periods))
            d.check(who, f"{metric}_team", row.get(f"{metric}_team"),
                    truth.total(team_book, metric, periods))


@AGREEMENT
@given(messy_workspaces())
def test_rollup_manager_view_agrees(ws: MessyWorkspace) -> None:
    """Manager view: each person's book (own values of the accounts they manage) and team;
    nothing under "(unassigned)" when every account's manager is in people.csv."""
    with written(ws) as folder:
        d = Disagreements(folder)
        data = d.json("kam rollup --by manager", "rollup", folder, "--by", "manager",
                      "--format", "json", *METRIC_ARGS)
        if data is not None:
            check_manager_rows(d, "kam rollup --by manager", data["rows"], ws.truth)
        result = d.api("kamcore.rollup(folder, by='manager')", lambda: kamcore.rollup(
            folder, list(METRICS), by="manager", registry=REGISTRY))
        if result is not None:
            check_manager_rows(d, "kamcore.rollup(folder, by='manager')", result.rows,
                               ws.truth)
        d.done()


GROUP_KEYS = {
    "country": lambda a: a.country,
    "tier": lambda a: a.tier,
    "currency": lambda a: a.currency or "(none)",
}


def check_group_rows(d: Disagreements, reader: str, field: str, data: dict[str, Any],
                     truth: Truth) -> None:
    periods = truth.default_periods()
    groups: dict[str, list[str]] = {}
    for a in truth.accounts.values():
        groups.setdefault(GROUP_KEYS[field](a), []).append(a.id)
    rows = data["rows"]
    d.check(reader, f"{field} groups", sorted(str(r[field]) for r in rows), sorted(groups))
    for row in rows:
        ids = groups.get(str(row[field]))
        if ids is None:
            continue
        who = f"{reader} group {row[field]}"
        d.check(who, "accounts", row["accounts"], len(ids))
        for metric in METRICS:
            d.check(who, metric, row.get(metric), truth.total(ids, metric, periods))
    total = data["total"] or {}
    d.check(reader, "total accounts", total.get("accounts"), len(truth.accounts))
    for metric in METRICS:
        d.check(reader, f"total {metric}", total.get(metric),
                truth.total(list(truth.accounts), metric, periods))


@AGREEMENT
@given(messy_workspaces())
def test_rollup_group_views_agree(ws: MessyWorkspace) -> None:
    """``--by country|tier|currency``: one group per normalised value (``de`` and ``DE`` are
    one country), each with its accounts and sums; the total line covers every account."""
    with written(ws) as folder:
        d = Disagreements(folder)
        for field in GROUP_KEYS:
            reader = f"kam rollup --by {field}"
            data = d.json(reader, "rollup", folder, "--by", field, "--format", "json",
                          *METRIC_ARGS)
            if data is not None:
                check_group_rows(d, reader, field, data, ws.truth)
        result = d.api("kamcore.rollup(folder, by='country')", lambda: kamcore.rollup(
            folder, list(METRICS), by="country", registry=REGISTRY))
        if result is not None:
            check_group_rows(d, "kamcore.rollup(folder, by='country')", "country",
                             result.to_json_data(), ws.truth)
        d.done()


# ---------------------------------------------------------------------------------------------
# kam tree (text: it has no --format)

TREE_LINE = re.compile(r"^(?P<indent>(?:│   |    )*)(?P<branch>├── |└── )?(?P<label>.*)$")
ACCOUNT_HEAD = re.compile(r"^(?P<name>.*) \[(?P<tier>\S+)(?: (?P<country>\S+))?\] (?P<id>\S+)$")
PERSON_HEAD = re.compile(r"^(?P<name>.*) \[(?P<role>[A-Z]+)(?: (?P<spec>[^\]]+))?\] (?P<id>\S+)$")


def parse_tree(text: str) -> list[tuple[int, str]]:
    """(depth, label) per line; depth from the box-drawing indent."""
    out = []
    for line in text.splitlines():
        m = TREE_LINE.match(line)
        assert m is not None
        depth = 0 if not m["branch"] else len(m["indent"]) // 4 + 1
        out.append((depth, m["label"]))
    return out


def tree_number(text: str) -> float | None:
    return None if text == "-" else float(text.replace(",", ""))


@AGREEMENT
@given(messy_workspaces())
def test_tree_agrees(ws: MessyWorkspace) -> None:
    """``kam tree -m ...``: each account once, under its parent, with its tier, country,
    manager (name and role) and subtree totals; ``kam tree --people``: each person under the
    person they report to, with their role and number of accounts."""
    truth = ws.truth
    periods = truth.default_periods()
    with written(ws) as folder:
        d = Disagreements(folder)
        result = d.run("kam tree", "tree", folder, *METRIC_ARGS)
        if result is not None:
            stack: list[str] = []
            seen: list[str] = []
            for depth, label in parse_tree(result.stdout):
                parts = label.split(" · ")
                head = ACCOUNT_HEAD.match(parts[0])
                if head is None or len(parts) != 2 + len(METRICS):
                    d.add(f"kam tree: cannot read line {label!r}")
                    continue
                aid = head["id"]
                seen.append(aid)
                del stack[depth:]
                parent = stack[-1] if stack else None
                stack.append(aid)
                want = truth.accounts.get(aid)
                if want is None:
                    continue
                who = f"kam tree account {aid}"
                manager = truth.people[want.manager]
                d.check(who, "name", head["name"], want.name)
                d.check(who, "tier", head["tier"], want.tier)
                d.check(who, "country", head["country"], want.country)
                d.check(who, "parent (drawn above)", parent, want.parent)
                d.check(who, "manager", parts[1], f"{manager.name} ({manager.role.upper()})")
                for metric, part in zip(METRICS, parts[2:], strict=True):
                    name, _, value = part.partition(" ")
                    want_total = truth.total(truth.subtree(aid), metric, periods)
                    got = tree_number(value.removesuffix(f" {truth.currency}"))
                    if name != metric or (got is None) != (want_total is None) or (
                            got is not None and abs(got - (want_total or 0)) > 0.5 + 1e-6):
                        d.add(f"{who}: {metric} total: got {part!r}, want {want_total!r}")
            check_ids(d, "kam tree", seen, list(truth.accounts))
        result = d.run("kam tree --people", "tree", folder, "--people")
        if result is not None:
            stack = []
            seen = []
            for depth, label in parse_tree(result.stdout):
                head_text, _, rest = label.partition(" · ")
                head = PERSON_HEAD.match(head_text)
                if head is None:
                    d.add(f"kam tree --people: cannot read line {label!r}")
                    continue
                pid = head["id"]
                seen.append(pid)
                del stack[depth:]
                boss = stack[-1] if stack else None
                stack.append(pid)
                want_p = truth.people.get(pid)
                if want_p is None:
                    continue
                who = f"kam tree --people person {pid}"
                d.check(who, "name", head["name"], want_p.name)
                d.check(who, "role", head["role"], want_p.role.upper())
                d.check(who, "specialty", head["spec"], want_p.specialty)
                d.check(who, "reports to (drawn above)", boss, want_p.reports_to)
                books = len(truth.book(pid))
                d.check(who, "accounts",
                        rest, f"{books} account{'' if books == 1 else 's'}"
                        + ("" if want_p.active else " (inactive)"))
            check_ids(d, "kam tree --people", seen, list(truth.people))
        d.done()


# ---------------------------------------------------------------------------------------------
# kam export: json, csv, salesforce, dot, mermaid


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def cell_number(cell: str) -> float | None:
    return float(cell) if cell.strip() else None


@AGREEMENT
@given(messy_workspaces())
def test_exports_agree(ws: MessyWorkspace) -> None:
    """Every export format writes each account's (and person's) normalised fields and the
    accounts.csv metric values: json, csv (accounts and people), salesforce, dot, mermaid."""
    truth = ws.truth
    with written(ws) as folder:
        d = Disagreements(folder)
        data = d.json("kam export json", "export", folder, "--format", "json")
        if data is not None:
            check_ids(d, "kam export json accounts", [a["id"] for a in data["accounts"]],
                      list(truth.accounts))
            for row in data["accounts"]:
                want = truth.accounts.get(row["id"])
                if want is None:
                    continue
                who = f"kam export json account {want.id}"
                for key in ("name", "tier", "parent", "manager", "country", "currency"):
                    d.check(who, key, row.get(key), getattr(want, key))
                d.check(who, "metrics", row.get("metrics", {}), want.metrics)
            check_ids(d, "kam export json people", [p["id"] for p in data["people"]],
                      list(truth.people))
            for row in data["people"]:
                want_p = truth.people.get(row["id"])
                if want_p is None:
                    continue
                who = f"kam export json person {want_p.id}"
                for key in ("name", "role", "reports_to", "capacity", "specialty"):
                    d.check(who, key, row.get(key), getattr(want_p, key))
                d.check(who, "active", row.get("active", True), want_p.active)
        result = d.run("kam export csv", "export", folder, "--format", "csv")
        if result is not None:
            rows = csv_rows(result.stdout)
            check_ids(d, "kam export csv", [r["id"] for r in rows], list(truth.accounts))
            for row in rows:
                want = truth.accounts.get(row["id"])
                if want is None:
                    continue
                who = f"kam export csv account {want.id}"
                for key in ("name", "tier", "parent", "manager", "country", "currency"):
                    d.check(who, key, row.get(key), getattr(want, key) or "")
                for metric in METRICS:
                    d.check(who, metric, cell_number(row.get(metric) or ""),
                            want.metrics.get(metric))
        result = d.run("kam export csv --people", "export", folder, "--format", "csv",
                       "--people")
        if result is not None:
            rows = csv_rows(result.stdout)
            check_ids(d, "kam export csv --people", [r["id"] for r in rows], list(truth.people))
            for row in rows:
                want_p = truth.people.get(row["id"])
                if want_p is None:
                    continue
                who = f"kam export csv --people person {want_p.id}"
                for key in ("name", "role", "reports_to", "specialty"):
                    d.check(who, key, row.get(key), getattr(want_p, key) or "")
                d.check(who, "capacity", row.get("capacity"),
                        "" if want_p.capacity is None else str(want_p.capacity))
                d.check(who, "active", row.get("active"), "true" if want_p.active else "false")
        result = d.run("kam export salesforce", "export", folder, "--format", "salesforce")
        if result is not None:
            rows = csv_rows(result.stdout)
            check_ids(d, "kam export salesforce", [r.get("KAM_Id__c") for r in rows],
                      list(truth.accounts))
            for row in rows:
                want = truth.accounts.get(row.get("KAM_Id__c", ""))
                if want is None:
                    continue
                who = f"kam export salesforce account {want.id}"
                for header, value in (("Name", want.name), ("Parent.KAM_Id__c", want.parent),
                                      ("KAM_Owner__c", want.manager),
                                      ("BillingCountry", want.country),
                                      ("CurrencyIsoCode", want.currency),
                                      ("KAM_Tier__c", want.tier)):
                    d.check(who, header, row.get(header), value or "")
                if "AnnualRevenue" in row:
                    d.check(who, "AnnualRevenue", cell_number(row["AnnualRevenue"]),
                            want.metrics.get("revenue"))
        result = d.run("kam export dot", "export", folder, "--format", "dot")
        if result is not None:
            nodes = dict(re.findall(r'^  "((?:[^"\\]|\\.)*)" \[label="((?:[^"\\]|\\.)*)"',
                                    result.stdout, re.M))
            edges = re.findall(r'^  "((?:[^"\\]|\\.)*)" -> "((?:[^"\\]|\\.)*)";', result.stdout,
                               re.M)
            check_ids(d, "kam export dot", list(nodes), list(truth.accounts))
            d.check("kam export dot", "edges", sorted(edges), sorted(
                (a.parent, a.id) for a in truth.accounts.values() if a.parent))
            for aid, label in nodes.items():
                want = truth.accounts.get(aid)
                if want is None:
                    continue
                d.check(f"kam export dot account {aid}", "label", label.replace('\\"', '"'),
                        f"{want.name}\\n{want.tier} {want.country} · "
                        f"{truth.people[want.manager].name}")
        result = d.run("kam export mermaid", "export", folder, "--format", "mermaid")
        if result is not None:
            ids = list(truth.accounts)  # nodes n0, n1, ... in file order
            classes = re.findall(r'^  n(\d+)\[".*"\]:::(\w+)$', result.stdout, re.M)
            d.check("kam export mermaid", "tiers",
                    [(ids[int(i)] if int(i) < len(ids) else i, c) for i, c in classes],
                    [(a.id, a.tier) for a in truth.accounts.values()])
            edges = [(ids[int(a)], ids[int(b)]) for a, b in
                     re.findall(r"^  n(\d+) --> n(\d+)$", result.stdout, re.M)
                     if int(a) < len(ids) and int(b) < len(ids)]
            d.check("kam export mermaid", "edges", sorted(edges), sorted(
                (a.parent, a.id) for a in truth.accounts.values() if a.parent))
        d.done()


# ---------------------------------------------------------------------------------------------
# kam duties, kam coverage


@AGREEMENT
@given(messy_workspaces())
def test_duties_agree(ws: MessyWorkspace) -> None:
    """``kam duties --format json``: each account once, under its manager, with its tier; the
    billing duties go to the nearest active billing support person up the manager's chain."""
    truth = ws.truth
    with written(ws) as folder:
        d = Disagreements(folder)
        data = d.json("kam duties", "duties", folder, "--format", "json")
        if data is not None:
            seen = []
            for person in data["people"]:
                for account in person["accounts"]:
                    seen.append(account["id"])
                    want = truth.accounts.get(account["id"])
                    if want is None:
                        continue
                    who = f"kam duties account {want.id}"
                    d.check(who, "listed under", person["id"], want.manager)
                    if person["id"] in truth.people:
                        d.check(who, "manager role", person["role"],
                                truth.people[person["id"]].role)
                    d.check(who, "name", account["name"], want.name)
                    d.check(who, "tier", account["tier"], want.tier)
                    for duty in account["duties"]:
                        if duty["who"] == "billing":
                            d.check(f"{who} duty {duty['id']}", "delegate", duty["delegate"],
                                    truth.delegate(want.manager, "billing"))
            check_ids(d, "kam duties", seen, list(truth.accounts))
            d.check("kam duties", "problems", data["problems"], [])
        d.done()


@AGREEMENT
@given(messy_workspaces())
def test_coverage_agrees(ws: MessyWorkspace) -> None:
    """``kam coverage --format json``: no gap (every account has an active manager in
    people.csv, nobody is over capacity or idle, every line matches the account tree), as
    ``kam validate`` says."""
    with written(ws) as folder:
        d = Disagreements(folder)
        data = d.json("kam coverage", "coverage", folder, "--format", "json")
        if data is not None:
            for key in ("unmanaged", "over_capacity", "idle", "line_mismatches"):
                d.check("kam coverage", key, data[key], [])
            d.check("kam coverage", "gaps", data["gaps"], 0)
        d.run("kam coverage --strict", "coverage", folder, "--strict")
        d.done()


# ---------------------------------------------------------------------------------------------
# The chart's data (the JSON blob kam chart embeds in the page)

CHART_DATA = re.compile(r'<script type="application/json" id="kam-data">(.*?)</script>', re.S)


@AGREEMENT
@given(messy_workspaces())
def test_chart_data_agrees(ws: MessyWorkspace) -> None:
    """``kam chart``: the data in the page holds each account's tier, parent, manager,
    country and own values, totals from the rollup (facts and FX included, no fallback), and
    each person's role, boss and activity."""
    truth = ws.truth
    periods = truth.default_periods()
    with written(ws) as folder:
        d = Disagreements(folder)
        page = folder.parent / "chart.html"
        result = d.run("kam chart", "chart", folder, "-o", page,
                       *[arg for m in METRICS for arg in ("--metric", m)])
        if result is not None:
            match = CHART_DATA.search(page.read_text(encoding="utf-8"))
            assert match is not None, "kam chart wrote no data blob"
            data = json.loads(match.group(1))
            d.check("kam chart", "currency", data["currency"], truth.currency)
            d.check("kam chart", "totals from", data["totalsFrom"], "rollup")
            d.check("kam chart", "totals problem", data["totalsProblem"], None)
            names = [m["name"] for m in data["metrics"]]
            d.check("kam chart", "metrics", names, list(METRICS))
            acc = data["accounts"]
            ids, pids = acc["id"], data["people"]["id"]
            check_ids(d, "kam chart accounts", ids, list(truth.accounts))
            for i, aid in enumerate(ids):
                want = truth.accounts.get(aid)
                if want is None:
                    continue
                who = f"kam chart account {aid}"
                d.check(who, "name", acc["name"][i], want.name)
                d.check(who, "tier", TIERS[acc["tier"][i]], want.tier)
                parent = acc["parent"][i]
                d.check(who, "parent", ids[parent] if parent >= 0 else None, want.parent)
                manager = acc["manager"][i]
                d.check(who, "manager", pids[manager] if manager >= 0 else None, want.manager)
                d.check(who, "managerRaw", acc["managerRaw"][i], want.manager)
                d.check(who, "country", acc["country"][i], want.country)
                for k, metric in enumerate(names if names == list(METRICS) else []):
                    # shown as "own X, with everything below Y": the rollup's own value
                    d.check(who, f"own {metric}", acc["own"][k][i],
                            truth.own(aid, metric, periods))
                    d.check(who, f"total {metric}", acc["totals"][k][i],
                            truth.total(truth.subtree(aid), metric, periods))
            people = data["people"]
            check_ids(d, "kam chart people", pids, list(truth.people))
            for i, pid in enumerate(pids):
                want_p = truth.people.get(pid)
                if want_p is None:
                    continue
                who = f"kam chart person {pid}"
                d.check(who, "role", people["role"][i], want_p.role)
                boss = people["reportsTo"][i]
                d.check(who, "reports to", pids[boss] if boss >= 0 else None,
                        want_p.reports_to)
                d.check(who, "active", people["active"][i], 1 if want_p.active else 0)
        d.done()


# ---------------------------------------------------------------------------------------------
# Messy and invalid: refused alike

CODE = re.compile(r"\[([A-Z]+[-A-Z]*\d+)\]")


def validate_verdict(broken: Broken, folder: Path) -> tuple[int, set[str], bool]:
    """``kam validate``'s exit code, the codes it gives for the broken line, and whether it
    names that line."""
    result = kam("validate", folder, "--format", "json")
    if result.exit_code == 1:
        findings = json.loads(result.stdout)["findings"]
        here = [f for f in findings if f["severity"] == "error" and f["line"] == broken.line
                and str(f["file"]).endswith("accounts.csv")]
        return 1, {f["code"] for f in here}, bool(here)
    text = result.stderr or result.output
    return result.exit_code, set(CODE.findall(text)), f"accounts.csv:{broken.line}" in text


@AGREEMENT
@given(broken_workspaces())
def test_invalid_refused_alike(broken: Broken) -> None:
    """One defect no reading rule repairs (an unknown tier, a parent that does not exist even
    after trimming, a metric that is not a number): ``kam validate`` refuses it; so do ``kam
    rollup`` and ``kamcore.rollup``, naming the same line of accounts.csv and the same code."""
    with written(broken.workspace) as folder:
        errors: list[str] = []
        code, codes, names_line = validate_verdict(broken, folder)
        if code == 0:
            errors.append("kam validate exited 0")
        if not names_line:
            errors.append(f"kam validate does not name accounts.csv line {broken.line}")
        rollup = kam("rollup", folder, "--format", "json", *METRIC_ARGS)
        text = (rollup.stderr or "").replace(str(folder), "ORG")
        if rollup.exit_code == 0:
            errors.append("kam rollup exited 0 (it rolled up what validate refuses)")
        else:
            if f"accounts.csv:{broken.line}" not in text:
                errors.append(f"kam rollup does not name accounts.csv line {broken.line}: "
                              f"{text[:400]}")
            given_codes = set(CODE.findall(text))
            if codes and not codes & given_codes:
                errors.append(f"kam rollup gives code(s) {sorted(given_codes)}, kam validate "
                              f"{sorted(codes)}")
        try:
            kamcore.rollup(folder, list(METRICS), registry=REGISTRY)
        except KamError:
            pass
        else:
            errors.append("kamcore.rollup(folder) raised nothing")
        assert not errors, "\n".join(f"- {e}" for e in errors)
