"""One test per hook (tests/test_hookspecs.py checks there is a test_hook_<name> for each)."""

from __future__ import annotations

import click
import pytest
from pydantic import BaseModel

from kamcore import Duty, Violation, hookimpl, registry_for, serves, validate
from kamcore.duties import roster

pytest_plugins = ["kamcore.testing"]


def findings_for(org, *codes):
    return validate(org, select=list(codes))


class Widget(BaseModel):
    serial: int


class Widgets:
    """A complete little plugin implementing every hook."""

    @hookimpl
    def kam_register_industries(self, register):
        register("widgets", aliases=("widget makers",), description="Widget makers.")

    @hookimpl
    def kam_register_fields(self, register):
        register("widgets", account=Widget, person=None)

    @hookimpl
    def kam_register_metrics(self, register):
        register("widgets_sold", unit="widgets", aggregation="sum")
        register("defect_rate", unit="ratio", aggregation="wmean", weight="widgets_sold")

    @hookimpl
    def kam_register_rules(self, register):
        def check(org):
            for account in org.accounts.values():
                if account.metrics.get("defect_rate", 0) > 0.1:
                    yield Violation(account.id, "too many defects", column="defect_rate")

        register("WID101", "defects", check, severity="warning", summary="Few defects.")

    @hookimpl
    def kam_account_duties(self, account, org):
        if not serves(org, account, "widgets"):
            return None
        return [Duty(id="widgets.count", title="Count widgets", cadence="daily",
                     who="logistics", source="widgets")]

    @hookimpl
    def kam_add_commands(self, cli):
        @cli.command(name="widgets")
        @click.option("--loud", is_flag=True)
        def widgets_command(loud):
            """Say widgets."""
            click.echo("WIDGETS" if loud else "widgets")


@pytest.fixture
def pm(kam_pm):
    kam_pm.register(Widgets(), name="widgets")
    return kam_pm


@pytest.fixture
def org(pm, org_builder):
    return (org_builder().person("AM1")
            .account("W1", manager="AM1", industry="Widget Makers", widgets={"serial": "12"},
                     widgets_sold=100, defect_rate=0.2)
            .account("O1", manager="AM1", industry="other")
            .build())


def test_hook_kam_register_industries(pm):
    reg = registry_for(pm)
    assert reg.industries["widgets"].plugin == "widgets"
    assert reg.industry_of("widget-makers") == "widgets"
    assert reg.industry_of("gadgets") is None


def test_hook_kam_register_fields(org):
    assert org.fields(org.accounts["W1"], "widgets") == Widget(serial=12)
    assert org.fields(org.accounts["W1"], "nothing") is None
    bad = org.replace(accounts={"W1": org.accounts["W1"].model_copy(
        update={"ext": {"widgets": {"serial": "twelve"}}})})
    (finding,) = findings_for(bad, "KAM140")
    assert finding.column == "widgets.serial" and "(plugin 'widgets')" in finding.message


def test_hook_kam_register_metrics(org):
    metrics = org.metrics
    assert metrics["widgets_sold"].plugin == "widgets"
    assert (metrics["defect_rate"].aggregation, metrics["defect_rate"].weight) == (
        "wmean", "widgets_sold")
    assert org.accounts["W1"].metrics == {"widgets_sold": 100.0, "defect_rate": 0.2}


def test_hook_kam_register_rules(org):
    (finding,) = findings_for(org, "WID")
    assert (finding.code, finding.subject, finding.severity, finding.plugin) == (
        "WID101", "W1", "warning", "widgets")


def test_hook_kam_account_duties(org, pm):
    rows = roster(org, pm).rows
    widget_rows = [(r.account, r.duty) for r in rows if r.source == "widgets"]
    assert widget_rows == [("W1", "widgets.count")]
    assert rows[0].source == "core"


def test_hook_kam_add_commands(pm, kam_cli):
    result = kam_cli.invoke("widgets", "--loud")
    assert (result.exit_code, result.stdout) == (0, "WIDGETS\n")
    assert "widgets" in kam_cli.invoke("--help").stdout


def test_plugin_commands_cannot_replace_builtins(kam_pm, kam_cli):
    class Hijack:
        @hookimpl
        def kam_add_commands(self, cli):
            cli.add_command(click.Command("validate", callback=lambda: None))

    kam_pm.register(Hijack(), name="hijack")
    result = kam_cli.invoke("--help")
    assert result.exit_code == 0
    assert result.stderr.startswith("warning: plugin 'hijack' in hook kam_add_commands: ")
    assert "command 'validate' is already taken" in result.stderr
    result = kam_cli.invoke("plugins")
    assert result.exit_code == 0 and "hijack" in result.stdout
