"""kamcore.testing: its fixtures reach every pytest run through the pytest11 entry point (this
module has no ``pytest_plugins`` line), its plain helpers import without pytest, and OrgBuilder
takes settings, facts and FX rates."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import metadata

import pytest
from pydantic import BaseModel

from kamcore import hookimpl, plugin_settings
from kamcore.workspace import load


def test_the_fixtures_come_from_the_pytest11_entry_point(kam_pm, monkeypatch):
    import tomllib
    from pathlib import Path

    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    declared = tomllib.loads(pyproject.read_text())["project"]["entry-points"]["pytest11"]
    assert declared == {"kamcore.testing": "kamcore.pytest_plugin"}
    installed = metadata.entry_points(group="pytest11", name="kamcore.testing")
    if not installed:  # an install from before the entry point: scripts/install-dev.sh again
        pytest.skip("kamcore's pytest11 entry point is not installed in this environment")
    (ep,) = installed
    assert ep.value == "kamcore.pytest_plugin"
    assert sorted(name for name, _ in kam_pm.list_name_plugin()) == [
        "core_duties", "core_metrics", "core_rules"]
    assert not [name for name in os.environ if name.startswith("KAM_") and name != "KAM_HOME"]


def test_the_plain_helpers_import_without_pytest():
    code = ("import sys; sys.modules['pytest'] = None\n"
            "from kamcore.testing import OrgBuilder, make_plugin_manager\n"
            "org = OrgBuilder(pm=make_plugin_manager()).person('P').account('A', manager='P')"
            ".build()\n"
            "print(sorted(org.accounts))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert (done.returncode, done.stdout) == (0, "['A']\n"), done.stderr


class Sla(BaseModel):
    hours: int = 24


class SlaPlugin:
    @hookimpl
    def kam_register_settings(self, register):
        register(Sla)


def test_org_builder_takes_settings_facts_and_rates(kam_pm, org_builder, tmp_path):
    kam_pm.register(SlaPlugin(), name="sla")
    builder = (org_builder(settings={"plugins": {"sla": {"hours": 4}}, "currency": "USD"})
               .person("P").account("A", manager="P", currency="EUR")
               .fact("A", "2026-01", "revenue", 100).rate("EUR", "2026-01", 1.1))
    assert plugin_settings(builder.build(), Sla).hours == 4
    folder = builder.write(tmp_path / "org")
    assert (folder / "facts.csv").read_text() == (
        "account,period,metric,value\nA,2026-01,revenue,100\n")
    assert (folder / "fx.csv").read_text() == "currency,period,rate\nEUR,2026-01,1.1\n"
    org = load(folder, pm=kam_pm)
    assert plugin_settings(org, Sla).hours == 4 and org.settings.currency == "USD"
    assert "hook_timeout" not in (folder / "kam.yaml").read_text()


def test_the_rollup_row_keys_are_as_documented(acme_path):
    import kamcore
    from kamcore.commands import ROLLUP_KEYS

    org = kamcore.load(acme_path)
    for view, by in (("account", "account"), ("manager", "manager"), ("group", "tier")):
        fixed, per_metric = ROLLUP_KEYS[view]
        fixed = tuple(by if key == "<the field>" else key for key in fixed)
        result = kamcore.rollup(org, ["revenue", "orders"], by=by)
        assert [c.key for c in result.columns] == [
            *fixed, *(k.format(m=m) for m in ("revenue", "orders") for k in per_metric)]


class RowsCommand:
    """A plugin command written with kamcore.commands, as docs/plugins.md shows."""

    @hookimpl
    def kam_add_commands(self, cli):
        from kamcore.commands import emit, format_option, output_option, render

        @cli.command(name="rows")
        @format_option("table", "json", "csv")
        @output_option
        def rows(fmt, output):
            emit(render([{"carrier": "DHL", "accounts": 2}, {"carrier": "=1+1", "accounts": 0}],
                        fmt), output)


@pytest.mark.parametrize("fmt, expected", [
    ("csv", "carrier,accounts\nDHL,2\n'=1+1,0\n"),
    ("json", '[\n  {\n    "carrier": "DHL",\n    "accounts": 2\n  },\n  {\n    "carrier": "=1+1",'
             '\n    "accounts": 0\n  }\n]\n'),
    ("table", "carrier  accounts\n-------  --------\nDHL             2\n=1+1            0\n"),
])
def test_a_plugin_command_renders_and_emits_like_the_built_ins(kam_pm, kam_cli, tmp_path, fmt,
                                                               expected):
    kam_pm.register(RowsCommand(), name="rowsplugin")
    result = kam_cli.invoke("rows", "--format", fmt)
    assert (result.exit_code, result.stdout) == (0, expected)
    written = kam_cli.invoke("rows", "--format", fmt, "-o", str(tmp_path / "out"))
    assert (tmp_path / "out").read_text() == expected and written.stdout == ""
