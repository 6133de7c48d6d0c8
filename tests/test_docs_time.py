"""docs/time.md: every ``$ kam ...`` line runs, in order, and prints what the page shows."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from kamcore.cli.app import make_cli
from kamcore.plugins import get_plugin_manager

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "time.md"
_ID = re.compile(r"\b[0-9a-f]{12}\b")
_TIME = re.compile(r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def console_steps(text: str) -> list[tuple[str, list[str]]]:
    """``(command, expected output lines)`` for every ``$`` line of the console blocks."""
    steps: list[tuple[str, list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            else:
                steps[-1][1].append(line)
    return steps


def matches(expected: list[str], actual: list[str]) -> bool:
    """Line by line; a ``...`` line stands for the rest of the output."""
    for i, line in enumerate(expected):
        if line == "...":
            return True
        if i >= len(actual) or actual[i] != line:
            return False
    return len(actual) == len(expected)


def normalise(text: str) -> list[str]:
    return [_TIME.sub("{time}", _ID.sub("{id}", line)).rstrip() for line in text.splitlines()]


def test_every_command_of_the_time_page_runs_as_shown(tmp_path, monkeypatch):
    shutil.copytree(ROOT / "examples" / "acme", tmp_path / "my-acme")  # as the page's first block
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KAM_TODAY", "2026-06-15")
    monkeypatch.setenv("KAM_ACTOR", "ana")
    steps = console_steps(PAGE.read_text(encoding="utf-8"))
    assert len(steps) >= 6
    for command, expected in steps:
        args = shlex.split(command)
        assert args[0] == "kam"
        result = CliRunner().invoke(make_cli(get_plugin_manager()), args[1:])
        assert result.exit_code == 0, (command, result.output)
        actual = normalise(result.output)
        assert matches(expected, actual), (command, "\n".join(actual))


@pytest.mark.parametrize("block", ["```python\nimport kamcore\n"])
def test_the_python_example_runs(tmp_path, monkeypatch, block):
    text = PAGE.read_text(encoding="utf-8")
    start = text.index(block) + len("```python\n")
    code = text[start:text.index("```", start)]
    shutil.copytree(ROOT / "examples" / "acme", tmp_path / "my-acme")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KAM_TODAY", "2026-06-15")
    CliRunner().invoke(make_cli(get_plugin_manager()), [
        "move", "my-acme", "ACME-DE-BER-01", "--to", "ACME-DE-MUN", "--effective",
        "2026-09-01", "--yes"])
    namespace: dict[str, object] = {}
    exec(compile(code, str(PAGE), "exec"), namespace)
    import kamcore

    org = kamcore.load("my-acme", as_of="2026-09-01")
    assert org.parent("ACME-DE-BER-01") == "ACME-DE-MUN"
    assert kamcore.load("my-acme").parent("ACME-DE-BER-01") == "ACME-DE-BER"
