"""Fault isolation: a broken plugin is named (plugin, hook, account); everything else works."""

from __future__ import annotations

import json

import click
import pytest
from pydantic import BaseModel, field_validator

from kamcore import Duty, Violation, hookimpl, registry_for, serves, validate
from kamcore.duties import roster

pytest_plugins = ["kamcore.testing"]


class Good:
    """A healthy plugin that must keep working next to the broken ones."""

    @hookimpl
    def kam_register_industries(self, register):
        register("widgets")

    @hookimpl
    def kam_register_metrics(self, register):
        register("widgets_sold", aggregation="sum")

    @hookimpl
    def kam_register_rules(self, register):
        def check(org):
            yield from (Violation(a.id, "widget account") for a in org.accounts.values()
                        if serves(org, a, "widgets"))

        register("WID101", "widget", check, severity="info")

    @hookimpl
    def kam_account_duties(self, account, org):
        return [Duty(id="good.duty", title="Good duty", source="good")]


def raising(hook):
    """A plugin whose ``hook`` raises."""
    def impl(self, register):
        raise RuntimeError(f"boom in {hook}")

    return type(f"Raise_{hook}", (), {hook: hookimpl(impl)})()


DECLARATION_HOOKS = ["kam_register_industries", "kam_register_fields", "kam_register_metrics",
                     "kam_register_rules"]


@pytest.fixture
def pm(kam_pm):
    kam_pm.register(Good(), name="good")
    return kam_pm


@pytest.fixture
def org_for(org_builder):
    def make():
        return (org_builder().person("AM1")
                .account("W1", manager="AM1", industry="widgets", widgets_sold=3)
                .account("K1", tier="key")  # no manager: core rule KAM105 must still fire
                .build())
    return make


@pytest.mark.parametrize("hook", DECLARATION_HOOKS)
def test_a_declaration_hook_that_raises_is_named_and_the_rest_works(pm, org_for, hook):
    pm.register(raising(hook), name="broken")
    reg = registry_for(pm)
    (problem,) = reg.problems
    assert (problem.plugin, problem.hook) == ("broken", hook)
    assert problem.message == f"plugin 'broken' in hook {hook}: RuntimeError: boom in {hook}"
    findings = validate(org_for())
    codes = {f.code for f in findings}
    assert {"KAM900", "KAM105", "WID101"} <= codes
    (failure,) = [f for f in findings if f.code == "KAM900"]
    assert failure.plugin == "broken" and "KAM_DISABLE_PLUGINS=broken" in failure.hint
    assert reg.metrics["widgets_sold"].plugin == "good"


class Garbage:
    """Registers things kamcore cannot use, each hook in its own way."""

    def __init__(self, hook, call):
        setattr(self, hook, hookimpl(lambda register: call(register)))


@pytest.mark.parametrize(("hook", "call", "message"), [
    ("kam_register_fields", lambda r: r("junk", account=dict),
     "fields for 'junk' must be a pydantic model class, got <class 'dict'>"),
    ("kam_register_fields", lambda r: r("Bad Name", account=None),
     "namespace 'Bad Name' must be lower_snake_case"),
    ("kam_register_metrics", lambda r: r("junk", aggregation="median"),
     "metric 'junk' is invalid"),
    ("kam_register_rules", lambda r: r("JUNK1", "junk", print),
     "rule 'JUNK1': the code must look like ABC123"),
    ("kam_register_rules", lambda r: r("JNK101", "junk", "not callable"),
     "rule 'JNK101': the code must look like ABC123 and check must be callable"),
    ("kam_register_industries", lambda r: r(42),
     "AttributeError"),
])
def test_registering_garbage_is_named(pm, hook, call, message):
    pm.register(Garbage(hook, call), name="garbage")
    (problem,) = registry_for(pm).problems
    assert (problem.plugin, problem.hook) == ("garbage", hook)
    assert message in problem.message


def test_a_plugin_that_fails_half_way_leaves_nothing_behind(pm):
    class HalfWay:
        @hookimpl
        def kam_register_metrics(self, register):
            register("first_metric")
            raise ValueError("second one failed")

    pm.register(HalfWay(), name="halfway")
    reg = registry_for(pm)
    assert "first_metric" not in reg.metrics and "widgets_sold" in reg.metrics


def test_conflicts_name_both_plugins(pm):
    class Copycat:
        @hookimpl
        def kam_register_metrics(self, register):
            register("widgets_sold")

    pm.register(Copycat(), name="copycat")
    reg = registry_for(pm)
    (problem,) = reg.problems
    assert problem.plugin == "copycat,good"
    assert "metric 'widgets_sold' is declared by plugins 'copycat' and 'good'" in problem.message
    assert "widgets_sold" not in reg.metrics and "WID101" in reg.rules  # the rest still works


class BadDuties:
    def __init__(self, result):
        self.result = result

    @hookimpl
    def kam_account_duties(self, account, org):
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


@pytest.mark.parametrize(("result", "message"), [
    (KeyError("ext"), "account 'W1': KeyError: 'ext'"),
    ("a string", "account 'W1': returned str, expected a list of kamcore.Duty"),
    ([{"id": "x"}], "account 'W1': returned 1 item that is not kamcore.Duty "
                    "(first: dict); none of its duties are kept"),
])
def test_bad_duties_are_named_with_the_account(pm, org_for, result, message):
    pm.register(BadDuties(result), name="bad")
    built = roster(org_for(), pm, account="W1")
    (problem,) = built.problems
    assert (problem.plugin, problem.hook) == ("bad", "kam_account_duties")
    assert problem.message == f"plugin 'bad' in hook kam_account_duties: {message}"
    sources = {row.source for row in built.rows}
    assert sources == {"core", "good"}


def test_kam_duties_warns_and_still_lists_the_others(pm, org_builder, kam_cli, tmp_path):
    pm.register(BadDuties(RuntimeError("nope")), name="bad")
    org_builder().person("AM1").account("W1", manager="AM1").write(tmp_path)
    result = kam_cli.invoke("duties", str(tmp_path), "--format", "json")
    assert result.exit_code == 0
    assert result.stderr == ("warning: plugin 'bad' in hook kam_account_duties: account 'W1': "
                             "RuntimeError: nope\n")
    data = json.loads(result.stdout)
    assert data["problems"] == [{"plugin": "bad", "hook": "kam_account_duties",
                                 "error": "plugin 'bad' in hook kam_account_duties: account "
                                          "'W1': RuntimeError: nope"}]
    duties = data["people"][0]["accounts"][0]["duties"]
    assert {d["source"] for d in duties} == {"core", "good"}


@pytest.mark.parametrize(("check", "error"), [
    (lambda org: iter([1 / 0]), "ZeroDivisionError"),
    (lambda org: iter(["not a violation"]), "TypeError: yielded str, expected kamcore.Violation"),
])
def test_a_rule_that_fails_is_kam900_and_other_rules_run(pm, org_for, check, error):
    class BadRule:
        @hookimpl
        def kam_register_rules(self, register):
            register("BAD101", "bad", check)

    pm.register(BadRule(), name="badrule")
    findings = validate(org_for())
    (failure,) = [f for f in findings if f.code == "KAM900"]
    assert failure.plugin == "badrule" and "rule BAD101 (bad) of plugin 'badrule'" in (
        failure.message)
    assert error in failure.message
    assert {"KAM105", "WID101"} <= {f.code for f in findings}


def test_a_field_model_that_crashes_is_named_and_other_fields_still_checked(pm, org_builder):
    class Crashing(BaseModel):
        x: str | None = None

        @field_validator("x")
        @classmethod
        def _boom(cls, value):
            raise LookupError("model bug")

    class Strict(BaseModel):
        n: int

    class Fields:
        @hookimpl
        def kam_register_fields(self, register):
            register("crashy", account=Crashing)
            register("strict", account=Strict)

    pm.register(Fields(), name="fields")
    org = (org_builder().account("A", crashy={"x": "1"}, strict={"n": "many"}).build())
    findings = {f.column: f for f in validate(org) if f.code == "KAM140"}
    assert "plugin 'fields' failed on 'crashy.*': LookupError: model bug" in (
        findings["crashy"].message)
    assert "strict.n" in findings


def test_kam_plugins_reports_problems(pm, kam_cli):
    pm.register(raising("kam_register_metrics"), name="broken")
    result = kam_cli.invoke("plugins", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["problems"] == [{
        "plugin": "broken", "hook": "kam_register_metrics",
        "error": "plugin 'broken' in hook kam_register_metrics: RuntimeError: boom in "
                 "kam_register_metrics",
        "hint": "report it to the plugin's authors, or set KAM_DISABLE_PLUGINS=broken"}]
    assert result.stderr == ("problem: plugin 'broken' in hook kam_register_metrics: "
                             "RuntimeError: boom in kam_register_metrics\n  hint: report it "
                             "to the plugin's authors, or set KAM_DISABLE_PLUGINS=broken\n")


@pytest.mark.parametrize("command", [("rollup", "--format", "json"), ("tree",),
                                     ("export", "--format", "json"), ("duties",)])
def test_every_command_names_a_plugin_whose_declarations_failed(pm, kam_cli, org_builder,
                                                                 tmp_path, command):
    folder = org_builder().person("P").account("A", manager="P").write(tmp_path / "org")
    pm.register(raising("kam_register_metrics"), name="broken")
    result = kam_cli.invoke(command[0], str(folder), *command[1:])
    assert result.exit_code == 0, result.output
    assert result.stderr.endswith(
        "warning: plugin 'broken' in hook kam_register_metrics: RuntimeError: boom in "
        "kam_register_metrics\n  hint: report it to the plugin's authors, or set "
        "KAM_DISABLE_PLUGINS=broken\n")
    if "json" in command:
        json.loads(result.stdout)


def test_a_conflict_kam_yaml_settles_is_no_warning(pm, kam_cli, org_builder, tmp_path):
    class Rival:
        @hookimpl
        def kam_register_metrics(self, register):
            register("widgets_sold", aggregation="max")

    pm.register(Rival(), name="rival")
    builder = org_builder(settings={"conflicts": {"metrics": {"widgets_sold": "rival"}}})
    folder = builder.person("P").account("A", manager="P", widgets_sold=3).write(
        tmp_path / "org")
    result = kam_cli.invoke("rollup", str(folder), "--format", "json")
    assert result.exit_code == 0 and result.stderr == "", result.output
    (tmp_path / "org" / "kam.yaml").write_text("name: T\n")
    unsettled = kam_cli.invoke("rollup", str(folder), "--format", "json")
    assert ("warning: plugin 'good,rival': metric 'widgets_sold' is declared by plugins 'good' "
            "and 'rival'") in unsettled.stderr


def test_a_command_hook_that_raises_is_a_warning_and_other_commands_work(pm, kam_cli):
    class BadCommands:
        @hookimpl
        def kam_add_commands(self, cli):
            raise ImportError("no module named 'fancy_ui'")

    class GoodCommands:
        @hookimpl
        def kam_add_commands(self, cli):
            @cli.command(name="hello")
            def hello():
                """Say hello."""
                click.echo("hello")

    pm.register(BadCommands(), name="badcmd")
    pm.register(GoodCommands(), name="goodcmd")
    result = kam_cli.invoke("hello")
    assert (result.exit_code, result.stdout) == (0, "hello\n")
    assert result.stderr == ("warning: plugin 'badcmd' in hook kam_add_commands: ImportError: "
                             "no module named 'fancy_ui'\n  hint: report it to the plugin's "
                             "authors, or set KAM_DISABLE_PLUGINS=badcmd\n")
