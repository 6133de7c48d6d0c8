"""Discovery: the ``kamcore`` entry-point group and KAM_LOAD/DISABLE/TRACE_PLUGINS."""

from __future__ import annotations

import json
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from click.testing import CliRunner

from kamcore import Duty, hookimpl
from kamcore.cli.app import make_cli
from kamcore.plugins import get_plugin_manager, list_plugins
from kamcore.registry import registry_for

pytest_plugins = ["kamcore.testing"]
ROOT = Path(__file__).resolve().parent.parent


class Fake:
    @hookimpl
    def kam_register_industries(self, register):
        register("fakery")

    @hookimpl
    def kam_account_duties(self, account, org):
        return [Duty(id="fake.duty", title="Fake duty", source="fake")]


class Misspelt:
    @hookimpl
    def kam_register_feilds(self, register):
        """A typo: no such hook."""


FAKE = Fake()
MISSPELT = Misspelt()


def entry_point(name, target):
    return metadata.EntryPoint(name=name, value=f"{__name__}:{target}", group="kamcore")


@pytest.fixture
def entry_points(monkeypatch):
    """Pretend these plugins are installed (and no others)."""
    installed = [entry_point("fake", "FAKE"),
                 metadata.EntryPoint(name="ghost", value="kam_no_such_module:plugin",
                                     group="kamcore")]

    def fake_entry_points(group="kamcore"):
        assert group == "kamcore"
        return installed

    monkeypatch.setattr("kamcore.plugins.installed_entry_points", fake_entry_points)
    return installed


def names(pm):
    return sorted(name for name, plugin in pm.list_name_plugin() if plugin is not None)


BUILTINS = ["core_duties", "core_metrics", "core_rules"]


def test_entry_points_load_and_a_broken_one_is_reported(entry_points):
    pm = get_plugin_manager()
    assert names(pm) == [*BUILTINS, "fake"]
    (failure,) = pm.load_failures
    assert failure.plugin == "ghost"
    assert "cannot be imported: ModuleNotFoundError" in failure.message
    assert failure.hint == "reinstall it, or set KAM_DISABLE_PLUGINS=ghost"
    assert registry_for(pm).industries["fakery"].plugin == "fake"


def test_empty_kam_load_plugins_loads_none(entry_points, monkeypatch):
    monkeypatch.setenv("KAM_LOAD_PLUGINS", "")
    pm = get_plugin_manager()
    assert names(pm) == BUILTINS
    assert pm.load_failures == []


def test_kam_load_plugins_limits_what_loads(entry_points, monkeypatch):
    monkeypatch.setenv("KAM_LOAD_PLUGINS", "fake, other")
    pm = get_plugin_manager()
    assert names(pm) == [*BUILTINS, "fake"]
    assert pm.load_failures == []  # ghost was never imported


def test_kam_disable_plugins_blocks_named_ones(entry_points, monkeypatch):
    monkeypatch.setenv("KAM_DISABLE_PLUGINS", "fake,ghost,core_duties,core_rules")
    pm = get_plugin_manager()
    assert names(pm) == ["core_metrics", "core_rules"]  # core_rules is essential
    assert pm.load_failures == []


def test_no_plugins_flag(entry_points):
    result = CliRunner().invoke(make_cli(), ["--no-plugins", "plugins", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"plugins": [], "problems": []}


def test_kam_plugins_json_lists_name_version_hooks_industries_source(entry_points):
    result = CliRunner().invoke(make_cli(), ["plugins", "--format", "json"])
    data = json.loads(result.stdout)
    assert data["plugins"] == [{
        "name": "fake", "version": None, "hooks": ["kam_account_duties",
                                                   "kam_register_industries"],
        "source": "registered", "distribution": None, "industries": ["fakery"]}]
    assert data["problems"][0]["plugin"] == "ghost"


def test_kam_plugins_all_and_hook_filter(entry_points):
    result = CliRunner().invoke(make_cli(), ["plugins", "--all", "--hook", "kam_register_rules",
                                             "--format", "json"])
    assert [p["name"] for p in json.loads(result.stdout)["plugins"]] == ["core_rules"]


def test_trace_prints_hook_calls(entry_points, monkeypatch, capsys):
    monkeypatch.setenv("KAM_TRACE_PLUGINS", "1")
    pm = get_plugin_manager()
    registry_for(pm)
    from kamcore.duties import roster
    from kamcore.testing import OrgBuilder

    org = OrgBuilder(pm=pm).person("P1").account("A1", manager="P1").build()
    roster(org, pm)
    lines = capsys.readouterr().err.splitlines()
    assert "[kam trace] kam_register_industries -> fake" in lines
    assert "[kam trace] kam_register_rules -> core_rules" in lines
    assert "[kam trace] kam_account_duties -> fake" in lines


def test_trace_leaves_pluggy_tracing_alone(monkeypatch, capsys):
    # kamcore's flag once overwrote pluggy's own ``trace`` attribute: enable_tracing() broke.
    monkeypatch.setenv("KAM_TRACE_PLUGINS", "1")
    pm = get_plugin_manager(load_entrypoints=False)
    pm.enable_tracing()()
    registry_for(pm)
    assert "[kam trace] kam_register_rules -> core_rules" in capsys.readouterr().err.splitlines()
    registry_for(get_plugin_manager(load_entrypoints=False))
    monkeypatch.delenv("KAM_TRACE_PLUGINS")
    registry_for(get_plugin_manager(load_entrypoints=False))
    assert capsys.readouterr().err.count("kam_register_rules -> core_rules") == 1


@pytest.mark.parametrize("hook, suggestion", [
    ("kam_register_feilds", "kam_register_fields"), ("kam_register_rule", "kam_register_rules")])
def test_a_misspelt_hook_disables_that_plugin_only(monkeypatch, hook, suggestion):
    typo = type("Typo", (), {hook: hookimpl(lambda self, register: None)})()
    monkeypatch.setattr(sys.modules[__name__], "TYPO", typo, raising=False)
    monkeypatch.setattr("kamcore.plugins.installed_entry_points",
                        lambda group="kamcore": [entry_point("typo", "TYPO"),
                                                 entry_point("fake", "FAKE")])
    pm = get_plugin_manager()
    (failure,) = pm.load_failures
    assert (failure.plugin, failure.hook) == ("typo", hook)
    assert f"{hook} (did you mean {suggestion}?)" in failure.message
    assert "docs/" not in (failure.hint or "") and suggestion in (failure.hint or "")
    assert not pm.has_plugin("typo") and pm.has_plugin("fake")
    result = CliRunner().invoke(make_cli(), ["plugins", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert [p["name"] for p in json.loads(result.stdout)["plugins"]] == ["fake"]
    assert f"did you mean {suggestion}?" in result.stderr
    assert CliRunner().invoke(make_cli(), ["duties", "examples/acme", "--account",
                                           "NOVA-US-CHI"]).exit_code == 0


def test_a_hook_with_wrong_arguments_disables_that_plugin_only(monkeypatch):
    wrong = type("Wrong", (), {"kam_account_duties": hookimpl(
        lambda self, account, orgg: [])})()
    pm = get_plugin_manager(load_entrypoints=False)
    assert pm.register(wrong, name="wrong") is None
    (failure,) = pm.load_failures
    assert failure.plugin == "wrong" and "orgg" in failure.message
    assert not pm.has_plugin("wrong") and registry_for(pm).problems == [failure]


def test_list_plugins_marks_builtins(kam_pm):
    infos = list_plugins(kam_pm, include_builtin=True)
    assert [(i.name, i.source) for i in infos] == [(b, "builtin") for b in BUILTINS]


# -- the real distributions in plugins/ and examples/ -------------------------------------


def distributions():
    for pyproject in sorted([*ROOT.glob("plugins/*/pyproject.toml"),
                             *ROOT.glob("examples/*/pyproject.toml")]):
        project = tomllib.loads(pyproject.read_text())["project"]
        for name, target in project["entry-points"]["kamcore"].items():
            yield pytest.param(project["name"], name, target, id=project["name"])


@pytest.mark.parametrize(("dist", "name", "target"), list(distributions()))
def test_every_repo_plugin_declares_and_resolves_its_entry_point(dist, name, target):
    assert dist == "kamcore-" + name.replace("_", "-")
    assert target == f"kamcore_{name}.plugin"
    try:
        installed = metadata.distribution(dist)
    except metadata.PackageNotFoundError:
        pytest.skip(f"{dist} is not installed (scripts/install-dev.sh installs it)")
    (ep,) = [ep for ep in installed.entry_points if ep.group == "kamcore"]
    assert (ep.name, ep.value) == (name, target)
    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(ep.load(), name=name)
    reg = registry_for(pm)
    assert reg.problems == []
    assert any(industry.plugin == name for industry in reg.industries.values())
