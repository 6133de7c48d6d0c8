"""What a vertical needs for duties and changes: suppress or replace core duties, due dates, a
change check with its own code (a warning or a refusal, shown in the plan), and a section of
the hand-over brief."""

from __future__ import annotations

import datetime as dt

import pytest

import kamcore
from kamcore import Duty, Violation, changes, hookimpl, serves
from kamcore.changes.brief import render_brief
from kamcore.duties import roster
from kamcore.errors import ChangeRefused
from kamcore.registry import registry_for
from tests.test_changes_support import save_small

pytest_plugins = ["kamcore.testing"]


class Retail:
    """Replaces the core's returns duty, drops after-sales with a wrapper, dates a review."""

    @hookimpl
    def kam_register_industries(self, register):
        register("retail")

    @hookimpl
    def kam_account_duties(self, account, org):
        if not serves(org, account, "retail"):
            return None
        return [Duty(id="retail.returns", title="Run the returns desk", cadence="weekly",
                     who="billing", source="retail", replaces=("core.returns",)),
                Duty(id="retail.review", title="Annual range review", cadence="yearly",
                     source="retail", due=dt.date(2026, 3, 31))]

    @hookimpl(wrapper=True, specname="kam_account_duties")
    def drop_after_sales(self, account, org):
        results = yield
        if not serves(org, account, "retail"):
            return results
        return [[d for d in result if d.id != "core.after-sales"] for result in results]

    @hookimpl
    def kam_brief_section(self, account, org):
        if not serves(org, account, "retail"):
            return None
        return "### Stores\n\n- flagship: Berlin Mitte"

    @hookimpl
    def kam_register_rules(self, register):
        def no_retail_to_am(plan):
            for change in plan.changes:
                after = plan.after.accounts.get(change.id) if change.kind == "account" else None
                manager = plan.after.people.get(after.manager or "") if after else None
                if after and manager and serves(plan.after, after, "retail") \
                        and manager.role.value == "am":
                    yield Violation(after.id, "a retail key account cannot go to an AM",
                                    "hand it to a KAM")

        def big_moves(plan):
            if len(plan.changes) > 1:
                yield Violation(None, f"{len(plan.changes)} records change at once")

        register("RTL901", "retail-to-kam", no_retail_to_am, form="plan", severity="error")
        register("RTL902", "big-change", big_moves, form="plan", severity="warning")


@pytest.fixture
def pm(kam_pm):
    kam_pm.register(Retail(), name="retail")
    return kam_pm


@pytest.fixture
def org(pm, tmp_path):
    folder = save_small(tmp_path / "org")
    return kamcore.load(folder, registry=registry_for(pm))


def test_replaced_and_suppressed_core_duties_and_a_due_date(org, pm):
    rows = {row.duty: row for row in roster(org, pm, account="K1").rows}
    assert "core.returns" not in rows and "retail.returns" in rows
    assert "core.after-sales" not in rows
    assert rows["retail.review"].due == "2026-03-31"
    other = {row.duty for row in roster(org, pm, account="K2").rows}
    assert {"core.returns", "core.after-sales"} <= other  # K2 is not retail


def test_hook_kam_brief_section(org, pm):
    plan = changes.handover(org, "KAM1", to=["KAM3"])
    brief = render_brief(plan, "KAM3", plan.receivers["KAM3"], pm=pm)
    k1 = brief.split("## Globex Hamburg")[0]
    assert "### Stores\n\n- flagship: Berlin Mitte" in k1
    assert "- [ ] Annual range review (yearly; due 2026-03-31; you; retail)" in k1
    assert "### Stores" not in brief.split("## Globex Hamburg")[1]


def test_a_change_check_warns_and_refuses_with_its_own_code(org):
    plan = changes.assign(org, "K1", manager="AM1")
    added = {f.code: f for f in plan.findings_added}
    assert added["RTL901"].severity == "error" and added["RTL901"].subject == "K1"
    assert "RTL901" in plan.diff()
    assert plan.refused_because
    with pytest.raises(ChangeRefused):
        changes.apply(plan)
    fine = changes.handover(org, "KAM1", to=["KAM3"])
    codes = {f.code for f in fine.findings_added}
    assert "RTL902" in codes and "RTL901" not in codes and not fine.refused_because


def test_change_checks_do_not_run_in_validate(org):
    assert not {f.code for f in kamcore.validate(org)} & {"RTL901", "RTL902"}
