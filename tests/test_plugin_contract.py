"""The versioned plugin contract: explicit conflicts settled in kam.yaml, typed plugin settings
with kam.yaml lines, HOOK_API_VERSION and a plugin's minimum, and deprecations that warn."""

from __future__ import annotations

import warnings

import click
import pytest
from pydantic import BaseModel

import kamcore
from kamcore import HOOK_API_VERSION, hookimpl, plugin_settings, registry_for
from kamcore.errors import KamRemovedIn2Warning, WorkspaceError
from kamcore.workspace import load

pytest_plugins = ["kamcore.testing"]


class Rival:
    """What both rival plugins add under the same names: an export format, an import source
    and a command (``report``), plus a command of its own (``own``)."""

    name = own = ""

    @hookimpl
    def kam_register_exporters(self, register):
        register("sheet", lambda tables: f"{self.name} sheet\n")

    @hookimpl
    def kam_register_importers(self, register):
        register("crm_dump", lambda source: f"Id,Name\n{self.name[0].upper()}1,{self.name} one\n",
                 mapping={"id": "Id", "name": "Name"})

    @hookimpl
    def kam_add_commands(self, cli):
        add_echo(cli, "report", f"{self.name} report")
        add_echo(cli, self.own, f"{self.name} {self.own}")


class Telecom(Rival):
    name, own = "telecom", "lines"

    @hookimpl
    def kam_register_industries(self, register):
        register("telecom", aliases=("telco",))

    @hookimpl
    def kam_register_metrics(self, register):
        register("mrr", unit="money")
        register("lines", unit="lines")


class Billing(Rival):
    name, own = "billing", "invoices"

    @hookimpl
    def kam_register_industries(self, register):
        register("telco")  # named like telecom's alias

    @hookimpl
    def kam_register_metrics(self, register):
        register("mrr", unit="money", aggregation="max")
        register("invoices")


def add_echo(cli, name, text):
    @cli.command(name=name)
    @click.argument("org", required=False)
    def command(org):
        click.echo(text)


@pytest.fixture
def pm(kam_pm):
    kam_pm.register(Billing(), name="billing")
    kam_pm.register(Telecom(), name="telecom")
    return kam_pm


def write(folder, yaml_text):
    folder.mkdir(exist_ok=True)
    (folder / "kam.yaml").write_text(yaml_text)
    (folder / "accounts.csv").write_text("id,name,tier,industry,mrr\nA,A,regular,telco,5\n")
    (folder / "people.csv").write_text("id,name,role\nP,P,am\n")
    return folder


def test_a_contested_name_is_used_by_nobody_and_both_are_named(pm):
    reg = registry_for(pm)
    assert "mrr" not in reg.metrics
    assert {"lines", "invoices"} <= set(reg.metrics)  # the losers keep their other metrics
    assert reg.industry_of("telco") is None and reg.industry_of("telecom") == "telecom"
    messages = sorted(p.message for p in reg.problems)
    assert any("metric 'mrr' is declared by plugins 'billing' and 'telecom'" in m
               for m in messages)
    assert any("industry alias 'telco' is declared by plugins 'billing' and 'telecom'" in m
               for m in messages)
    (hint,) = [p.hint for p in reg.problems if "'mrr'" in p.message]
    assert hint == "add to kam.yaml: conflicts: {metrics: {'mrr': billing}} (or another of them)"


def test_registration_order_does_not_decide(kam_pm, kam_cli):
    kam_pm.register(Telecom(), name="telecom")
    kam_pm.register(Billing(), name="billing")
    assert "mrr" not in registry_for(kam_pm).metrics
    assert kam_cli.invoke("report").exit_code == 3


def test_kam_yaml_says_who_wins(pm, tmp_path):
    folder = write(tmp_path / "org", "name: T\nconflicts:\n  metrics: {mrr: telecom}\n"
                   "  aliases: {telco: billing}\n  exporters: {sheet: telecom}\n"
                   "  importers: {crm_dump: telecom}\n")
    org = load(folder, registry=registry_for(pm))
    assert org.metrics["mrr"].plugin == "telecom" and org.metrics["mrr"].aggregation == "sum"
    assert org.industry_of(org.accounts["A"]) == "telco"
    assert not [p for p in org.registry.problems if "mrr" in p.message or "telco" in p.message]
    assert "mrr" not in registry_for(pm).metrics  # the shared registry is left as it was
    findings = kamcore.validate(org)
    assert not [f for f in findings if f.code == "KAM900"]


def test_a_choice_of_a_plugin_that_does_not_claim_the_name_is_located(pm, tmp_path):
    folder = write(tmp_path / "org", "name: T\nconflicts:\n  metrics:\n    mrr: telcom\n")
    with pytest.raises(WorkspaceError) as info:
        load(folder, registry=registry_for(pm))
    assert info.value.location.line == 4
    assert "plugin 'telcom' does not declare metric 'mrr'" in info.value.message
    assert info.value.hint == "write one of: billing, telecom"


def test_a_command_two_plugins_add_runs_neither_and_names_both(pm, kam_cli, tmp_path):
    folder = write(tmp_path / "org", "name: T\n")
    result = kam_cli.invoke("report", str(folder))
    assert result.exit_code == 3 and result.stdout == ""
    assert result.stderr == (
        "Error: [KAM-P002] plugin 'billing,telecom' in hook kam_add_commands: command 'report' "
        "is added by plugins 'billing' and 'telecom'; none of them runs until kam.yaml says "
        "which wins\n  hint: add to the kam.yaml of the workspace you run it on: conflicts: "
        "{commands: {report: billing}} (or another of them)\n")
    assert kam_cli.invoke("lines").stdout == "telecom lines\n"  # the rest keeps working
    assert kam_cli.invoke("invoices").stdout == "billing invoices\n"
    listing = kam_cli.invoke("--help")
    assert "report       (contested: see kam.yaml conflicts)" in listing.stdout


@pytest.mark.parametrize("where", ["argument", "kam.yaml argument", "current folder"])
def test_the_workspaces_kam_yaml_says_which_command_wins(pm, kam_cli, tmp_path, monkeypatch,
                                                          where):
    folder = write(tmp_path / "org", "name: T\nconflicts:\n  commands: {report: telecom}\n")
    args = {"argument": [str(folder)], "kam.yaml argument": [str(folder / "kam.yaml")],
            "current folder": []}[where]
    if where == "current folder":
        monkeypatch.chdir(folder)
    result = kam_cli.invoke("report", *args)
    assert (result.exit_code, result.stdout) == (0, "telecom report\n"), result.output
    assert "report" not in result.stderr  # settled: no warning


def test_a_command_choice_naming_another_plugin_is_refused(pm, kam_cli, tmp_path):
    folder = write(tmp_path / "org", "name: T\nconflicts:\n  commands: {report: telcom}\n")
    result = kam_cli.invoke("report", str(folder))
    assert result.exit_code == 3
    assert (f"{folder / 'kam.yaml'}: conflicts.commands.report names 'telcom'; write one "
            "of: billing, telecom") in result.stderr


def test_an_export_format_two_plugins_add_is_settled_by_kam_yaml(pm, kam_cli, tmp_path):
    folder = write(tmp_path / "org", "name: T\n")
    contested = kam_cli.invoke("export", str(folder), "--format", "sheet")
    assert contested.exit_code == 3 and contested.stdout == ""
    assert "export format 'sheet' is declared by plugins 'billing' and 'telecom'" in \
        contested.stderr
    write(folder, "name: T\nconflicts:\n  exporters: {sheet: billing}\n")
    settled = kam_cli.invoke("export", str(folder), "--format", "sheet")
    assert (settled.exit_code, settled.stdout) == (0, "billing sheet\n"), settled.output


def test_an_import_source_two_plugins_add_is_settled_by_kam_yaml(pm, kam_cli, tmp_path,
                                                                 monkeypatch):
    monkeypatch.chdir(tmp_path)
    contested = kam_cli.invoke("import", "crm_dump", "dump.txt", "-o", "org")
    assert contested.exit_code == 3
    assert "import source 'crm_dump' is declared by plugins 'billing' and 'telecom'" in \
        contested.stderr
    (tmp_path / "kam.yaml").write_text("name: here\nconflicts:\n  importers: {crm_dump: "
                                       "telecom}\n")  # the folder kam runs in settles it
    settled = kam_cli.invoke("import", "crm_dump", "dump.txt", "-o", "org")
    assert settled.exit_code == 0, settled.output
    assert "T1,telecom one" in (tmp_path / "org" / "accounts.csv").read_text()


@pytest.mark.parametrize("kind, name", [("exporters", "sheet"), ("importers", "billing_csv"),
                                        ("commands", "report")])
def test_every_kind_of_choice_is_a_kam_yaml_setting_kept_on_save(kind, name):
    from kamcore.settings import Settings, settings_data

    settings = Settings.model_validate({"conflicts": {kind: {name: "telecom"}}})
    assert settings_data(settings)["conflicts"] == {kind: {name: "telecom"}}
    assert settings.conflicts.choices() == ({} if kind == "commands" else
                                            {kind: {name: "telecom"}})


class TelecomSettings(BaseModel):
    sla_hours: int = 24
    regions: list[str] = []


class Configured:
    @hookimpl
    def kam_register_settings(self, register):
        register(TelecomSettings)


@pytest.fixture
def configured(kam_pm):
    kam_pm.register(Configured(), name="telecom")
    return registry_for(kam_pm)


def test_hook_kam_register_settings(configured, tmp_path):
    org = load(write(tmp_path / "org", "name: T\nplugins:\n  telecom:\n    sla_hours: 8\n"),
               registry=configured)
    settings = plugin_settings(org, TelecomSettings)
    assert isinstance(settings, TelecomSettings) and settings.sla_hours == 8
    bare = load(write(tmp_path / "bare", "name: T\n"), registry=configured)
    assert plugin_settings(bare, TelecomSettings) == TelecomSettings()


@pytest.mark.parametrize("section, line, message, hint", [
    ("plugins:\n  telecom: 7\n", 3, "plugins.telecom must be a mapping of settings, not int 7",
     "known settings: sla_hours, regions"),
    ("plugins:\n  telecom:\n    sla_hour: 8\n", 4, "plugins.telecom: unknown setting "
     "'sla_hour'", "did you mean 'sla_hours'?"),
    ("plugins:\n  telecom:\n    sla_hours: soon\n", 4, "plugins.telecom.sla_hours: Input should "
     "be a valid integer, unable to parse string as an integer", None),
    ("plugins:\n  telcom: {}\n", 3, "no plugin named 'telcom' is loaded",
     "did you mean 'telecom'?"),
])
def test_bad_plugin_settings_are_located_in_kam_yaml(configured, tmp_path, section, line,
                                                       message, hint):
    folder = write(tmp_path / "org", "name: T\n" + section)
    with pytest.raises(WorkspaceError) as info:
        load(folder, registry=configured)
    assert (info.value.location.file, info.value.location.line) == (
        str(folder / "kam.yaml"), line)
    assert info.value.message == message
    if hint:
        assert info.value.hint == hint


def test_settings_of_a_plugin_not_installed_here_are_left_alone(configured, tmp_path):
    org = load(write(tmp_path / "org", "name: T\nplugins:\n  healthcare: {x: 1}\n"),
               registry=configured)
    assert org.settings.plugins["healthcare"] == {"x": 1}


def test_hook_api_version_and_a_plugin_that_needs_a_newer_one(kam_pm):
    major, minor = (int(part) for part in HOOK_API_VERSION.split("."))
    future = type("Future", (), {"REQUIRES_HOOK_API": f"{major}.{minor + 1}",
                                 "kam_register_metrics": hookimpl(
                                     lambda self, register: register("future"))})()
    assert kam_pm.register(future, name="future") is None
    (failure,) = kam_pm.load_failures
    assert failure.plugin == "future"
    assert failure.detail == (f"needs hook API {major}.{minor + 1} or newer; this kamcore has "
                              f"{HOOK_API_VERSION}")
    present = type("Present", (), {"REQUIRES_HOOK_API": HOOK_API_VERSION})()
    assert kam_pm.register(present, name="present") == "present"


def test_deprecated_names_warn_and_still_work(kam_pm, org_builder):
    from kamcore.registry import call_each

    org = org_builder().person("P").account("A", manager="P").build()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = list(call_each(kam_pm, "kam_account_duties", [],
                                 account=org.accounts["A"], org=org))
    assert [plugin for plugin, _ in results] == ["core_duties"]
    (warning,) = caught
    assert issubclass(warning.category, KamRemovedIn2Warning)
    assert "use kamcore.hookcall.call_hook" in str(warning.message)


def test_every_deprecation_is_listed_in_the_docs():
    from pathlib import Path

    from kamcore.deprecated import DEPRECATED

    docs = (Path(__file__).resolve().parent.parent / "docs" / "plugins.md").read_text()
    for old in DEPRECATED:
        assert f"| `{old}` |" in docs, old
