"""Every hostile case against every reading command (issue 10): a user problem exits 0, 1 or 2
with a message; never exit 70, never a traceback, never a write outside the workspace or the
named output, and machine-readable output parses whenever the command succeeds."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from kamcore.cli.app import make_cli
from kamcore.plugins import get_plugin_manager
from tests.hostile.cases import CASES
from tests.test_changes_support import save_small

#: argv after the workspace path; ``{out}`` is a named output file in the test's tmp folder.
COMMANDS: dict[str, list[str]] = {
    "validate": ["validate", "{ws}", "--format", "json"],
    "tree": ["tree", "{ws}"],
    "tree as of a date": ["tree", "{ws}", "--as-of", "2026-02-15"],
    "rollup json": ["rollup", "{ws}", "--format", "json"],
    "rollup by manager csv": ["rollup", "{ws}", "--by", "manager", "--format", "csv"],
    "rollup by country": ["rollup", "{ws}", "--by", "country"],
    "duties json": ["duties", "{ws}", "--format", "json"],
    "coverage json": ["coverage", "{ws}", "--format", "json"],
    "chart": ["chart", "{ws}", "-o", "{out}"],
    "export csv": ["export", "{ws}", "--format", "csv"],
    "export json": ["export", "{ws}", "--format", "json"],
    "log": ["log", "{ws}"],
    "undo (dry run)": ["undo", "{ws}"],
    "move (plan)": ["move", "{ws}", "R1", "--to", "K2"],
    "assign (plan)": ["assign", "{ws}", "K1", "--manager", "KAM2"],
    "handover (plan)": ["handover", "{ws}", "--from", "KAM1", "--spread"],
}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_small(tmp_path_factory.mktemp("pristine") / "org")


def _snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (links as their target text), to prove nothing else moved."""
    out: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        if path.is_symlink():
            out[str(path)] = b"-> " + str(path.readlink()).encode()
        elif path.is_file():
            out[str(path)] = path.read_bytes()
    return out


def _parses(command: str, stdout: str) -> None:
    if "json" in command:
        json.loads(stdout, parse_constant=lambda c: pytest.fail(f"{c} is not strict JSON"))
    elif "csv" in command:
        csv.field_size_limit(2**31 - 1)  # kam writes any cell it reads; csv stops at 128 KiB
        rows = list(csv.reader(io.StringIO(stdout)))
        assert rows and len({len(r) for r in rows}) == 1, "ragged CSV on stdout"


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("case", list(CASES))
def test_a_hostile_case_is_a_user_problem_never_a_crash(tmp_path: Path, pristine: Path,
                                                        case: str, command: str) -> None:
    ws = tmp_path / "org"
    shutil.copytree(pristine, ws)
    CASES[case](ws)
    out = tmp_path / "out" / "chart.html"
    out.parent.mkdir()
    argv = [a.format(ws=ws, out=out) for a in COMMANDS[command]]
    before = _snapshot(tmp_path)
    result = CliRunner().invoke(make_cli(get_plugin_manager(load_entrypoints=False)), argv)
    text = result.output
    assert result.exit_code in (0, 1, 2), f"exit {result.exit_code}: {text[-2000:]}"
    assert result.exception is None or isinstance(result.exception, SystemExit), text
    assert "Traceback" not in text and "bug in kamcore" not in text, text[-2000:]
    after = _snapshot(tmp_path)
    changed = {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
    allowed = {str(out)}
    assert changed <= allowed, f"wrote outside the named output: {sorted(changed - allowed)}"
    if result.exit_code == 0:
        _parses(command, result.stdout)
    # no plugin is loaded: a plugin failure (KAM900) here could only be a core rule crashing
    assert "KAM900" not in text, text[-2000:]
