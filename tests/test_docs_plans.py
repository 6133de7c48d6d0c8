"""The output shown in docs/plans.md is what the commands print (tests/test_docs_cli.py runs
every command of the docs; this checks the text shown beside them, word for word)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from kamcore.cli.app import make_cli
from kamcore.plugins import get_plugin_manager

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "plans.md"


def console_blocks() -> list[tuple[str, str]]:
    """(command, expected output) for each ``$ kam ...`` line of a console block."""
    out = []
    for block in re.findall(r"```console\n(.*?)```", DOC.read_text(), flags=re.S):
        command, expected = None, []
        for line in block.splitlines():
            if line.startswith("$ "):
                if command:
                    out.append((command, "\n".join(expected)))
                command, expected = line[2:], []
            else:
                expected.append(line)
        if command:
            out.append((command, "\n".join(expected)))
    return out


@pytest.mark.parametrize(("command", "expected"), [b for b in console_blocks() if b[1]])
def test_plans_doc_command_runs_as_shown(tmp_path, command, expected):
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    args = shlex.split(command)
    assert args[0] == "kam"
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        result = CliRunner().invoke(make_cli(get_plugin_manager(load_entrypoints=False)),
                                    args[1:])
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.output
    assert result.stdout.rstrip("\n") == expected
