from __future__ import annotations

import csv
import io
import json

import pytest

from kamcore import Duty, hookimpl
from kamcore.duties import RosterRow, find_delegate, roster
from kamcore.errors import NotFound

pytest_plugins = ["kamcore.testing"]


class Billing:
    """A tiny industry plugin: one duty for billing staff, one for the manager."""

    @hookimpl
    def kam_register_industries(self, register):
        register("widgets")

    @hookimpl
    def kam_account_duties(self, account, org):
        if org.industry_of(account) != "widgets":
            return None
        return [Duty(id="w.bill", title="Bill widgets", cadence="monthly", who="Billing",
                     source="widgets"),
                Duty(id="w.visit", title="Visit the plant", cadence="yearly")]


@pytest.fixture
def org(kam_pm, org_builder):
    kam_pm.register(Billing(), name="widgets")
    return (org_builder()
            .person("VP", role="vp")
            .person("BILL-TOP", role="support", reports_to="VP", specialty="billing")
            .person("KAM1", role="kam", reports_to="VP")
            .person("BILL-OLD", role="support", reports_to="KAM1", specialty="billing",
                    active=False)
            .person("AM1", role="am", reports_to="KAM1")
            .person("SEO1", role="support", reports_to="AM1", specialty="seo")
            .account("K", tier="key", manager="KAM1", industry="widgets")
            .account("R", parent="K", manager="AM1", industry="other")
            .account("LOOSE", industry="widgets")
            .build())


def test_core_duties_come_first_then_the_plugins(org, kam_pm):
    rows = [r for r in roster(org, kam_pm, account="K").rows]
    sources = [r.source for r in rows]
    assert sources == ["core"] * 18 + ["widgets", "widgets"]
    assert rows[-1].duty == "w.visit" and rows[-1].source == "widgets"  # default source fixed


def test_delegation_walks_up_the_chain_and_skips_inactive_staff(org, kam_pm):
    rows = {r.duty: r for r in roster(org, kam_pm, account="K").rows}
    assert rows["w.bill"].delegate == "BILL-TOP"  # BILL-OLD reports to KAM1 but has left
    assert rows["w.bill"].done_by == "BILL-TOP (BILL-TOP, Billing)"
    assert rows["w.visit"].delegate is None and rows["w.visit"].done_by == "manager"
    assert rows["core.logistics"].done_by == "manager (no logistics staff)"


def test_roster_rows_are_the_rows_the_dataclass_makes(org, kam_pm):
    """``roster`` builds its rows without the frozen dataclass's per-field setattr; they are
    the same rows: equal, hashable alike, the same repr and data, and still frozen."""
    import dataclasses

    rows = roster(org, kam_pm).rows
    assert rows
    for row in rows:
        made = RosterRow(**dataclasses.asdict(row))
        assert (row, hash(row), repr(row)) == (made, hash(made), repr(made))
        with pytest.raises(dataclasses.FrozenInstanceError):
            row.title = "changed"  # type: ignore[misc]


def test_find_delegate(org):
    assert find_delegate(org, "AM1", "seo").id == "SEO1"
    assert find_delegate(org, "KAM1", "seo") is None  # SEO1 reports below, not above
    assert find_delegate(org, "AM1", "manager") is None
    assert find_delegate(org, None, "billing") is None


def test_person_filter_includes_duties_delegated_to_them(org, kam_pm):
    mine = roster(org, kam_pm, person="BILL-TOP").rows
    assert {(r.account, r.duty) for r in mine} == {
        ("K", "core.invoicing"), ("K", "core.collections"), ("K", "w.bill"),
        ("R", "core.invoicing"), ("R", "core.collections")}
    assert {r.account for r in roster(org, kam_pm, person="AM1").rows} == {"R"}


def test_unknown_person_or_account_is_not_found(org, kam_pm):
    with pytest.raises(NotFound, match="no person with id 'KAM2'"):
        roster(org, kam_pm, person="KAM2")
    with pytest.raises(NotFound, match="no account with id 'X'"):
        roster(org, kam_pm, account="X")


def test_accounts_without_manager_are_grouped_apart(org, kam_pm):
    groups = roster(org, kam_pm).by_person()
    assert list(groups) == ["KAM1", "AM1", None]
    assert {r.account for r in groups[None]} == {"LOOSE"}


@pytest.fixture
def workspace(org_builder, tmp_path, kam_pm):
    kam_pm.register(Billing(), name="widgets")
    (org_builder().person("KAM1", role="kam", name="Kim")
     .person("B1", role="support", reports_to="KAM1", specialty="billing", name="Bo")
     .account("K", tier="key", manager="KAM1", industry="widgets", name="Key Co")
     .write(tmp_path))
    return tmp_path


def test_cli_table(kam_cli, workspace):
    result = kam_cli.invoke("duties", str(workspace), "--account", "K")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "Kim (KAM1, Key Account Manager): 1 account (K), 20 duties"
    assert lines[1].split() == ["accounts", "duty", "cadence", "done", "by", "source"]
    assert "Bill widgets" in result.stdout and "Bo (B1, Billing)" in result.stdout


def test_cli_table_lists_a_duty_shared_by_several_accounts_once(kam_cli, org_builder,
                                                                 tmp_path, kam_pm):
    """Issue 11: ``--person`` repeated every duty for each account; a duty shared by all of a
    person's accounts is one line (``all 3``), one of some of them names those."""
    kam_pm.register(Billing(), name="widgets")
    (org_builder().person("KAM1", role="kam", name="Kim")
     .account("K1", tier="key", manager="KAM1", industry="widgets")
     .account("K2", tier="key", manager="KAM1", industry="widgets")
     .account("K3", tier="key", manager="KAM1", industry="other")
     .write(tmp_path))
    result = kam_cli.invoke("duties", str(tmp_path), "--person", "KAM1")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    common = len(lines) - 3 - 2  # heading, header, rule; the two widget duties
    assert lines[0] == (f"Kim (KAM1, Key Account Manager): 3 accounts (K1, K2, K3), "
                        f"{3 * common + 2 * 2} duties ({common + 2} different)")
    bill = [line for line in lines if "Bill widgets" in line]
    assert len(bill) == 1 and bill[0].startswith("K1, K2  ")
    assert all(line.startswith("all 3  ") for line in lines[3:] if "widgets" not in line)
    assert sum("Fill sales orders" in line for line in lines) == 1


def test_cli_json(kam_cli, workspace):
    result = kam_cli.invoke("duties", str(workspace), "--format", "json")
    data = json.loads(result.stdout)
    (person,) = data["people"]
    assert (person["id"], person["role"]) == ("KAM1", "kam")
    (account,) = person["accounts"]
    bill = next(d for d in account["duties"] if d["id"] == "w.bill")
    assert bill == {"id": "w.bill", "title": "Bill widgets", "cadence": "monthly",
                    "who": "Billing", "delegate": "B1", "delegate_name": "Bo",
                    "source": "widgets", "due": None}
    assert data["problems"] == []


def test_cli_csv_to_file(kam_cli, workspace, tmp_path):
    out = tmp_path / "roster.csv"
    result = kam_cli.invoke("duties", str(workspace), "--format", "csv", "-o", str(out))
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert len(rows) == 20
    assert rows[0]["person"] == "KAM1" and rows[0]["duty"] == "core.sales-orders"


def test_cli_unknown_person_exits_2(kam_cli, workspace):
    result = kam_cli.invoke("duties", str(workspace), "--person", "NOPE")
    assert result.exit_code == 2
    assert "no person with id 'NOPE'" in result.output
