"""A plugin that prints (issue 10): what it writes to stdout, at import or in any hook, goes to
stderr while a built-in command runs, so `--format json` and CSV on stdout stay parseable; a
plugin's own command keeps stdout."""

from __future__ import annotations

import csv
import io
import json
import sys
import uuid
from importlib import metadata
from pathlib import Path

import pytest
from click.testing import CliRunner

from kamcore.cli.app import make_cli
from tests.test_changes_support import save_small

NOISY = '''
import click
from kamcore import hookimpl

print("hello from import")


class Plugin:
    @hookimpl
    def kam_register_fields(self, register):
        print("noise in fields")

    @hookimpl
    def kam_register_metrics(self, register):
        click.echo("click noise in metrics")

    @hookimpl
    def kam_register_rules(self, register):
        import sys
        sys.stdout.write("raw noise in rules\\n")

    @hookimpl
    def kam_account_duties(self, account, org):
        print("noise in duties")
        return []

    @hookimpl
    def kam_add_commands(self, cli):
        @cli.command("noisy-hello")
        def hello():
            print("plugin command output")
            click.echo("and via click")


plugin = Plugin()
'''


@pytest.fixture
def noisy(monkeypatch, tmp_path: Path) -> None:
    module = f"kam_noisy_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{module}.py").write_text(NOISY)
    monkeypatch.syspath_prepend(str(tmp_path))
    installed = [metadata.EntryPoint(name="noisy", value=f"{module}:plugin", group="kamcore")]
    monkeypatch.setattr("kamcore.plugins.installed_entry_points",
                        lambda group="kamcore": installed)
    yield
    sys.modules.pop(module, None)


def run(*args: str):
    result = CliRunner().invoke(make_cli(), list(args))
    assert result.exit_code in (0, 1), result.output
    return result


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return save_small(tmp_path / "org")


@pytest.mark.parametrize("command", [
    ["validate", "{ws}", "--format", "json"], ["rollup", "{ws}", "--format", "json"],
    ["duties", "{ws}", "--format", "json"], ["export", "{ws}", "--format", "json"],
    ["plugins", "--format", "json"]])
def test_plugin_prints_never_reach_json_on_stdout(noisy, ws, command):
    result = run(*[part.format(ws=ws) for part in command])
    json.loads(result.stdout)
    assert "noise" in result.stderr or "hello from import" in result.stderr


def test_plugin_prints_never_reach_csv_on_stdout(noisy, ws):
    result = run("export", str(ws), "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows and "noise" not in result.stdout and "hello" not in result.stdout


def test_a_plugin_command_keeps_its_stdout(noisy):
    result = run("noisy-hello")
    assert result.stdout == "plugin command output\nand via click\n"


def test_without_plugins_stdout_is_untouched(ws):
    result = run("rollup", str(ws), "--format", "json")
    json.loads(result.stdout)
    assert sys.stdout is not None and type(sys.stdout).__name__ != "_PluginStdoutGuard"
