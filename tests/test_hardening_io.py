"""Full disks and read-only folders (issue 10): every write kam makes fails with a located
message and exit 2, never exit 70 or a traceback, and the old files survive intact.

Tests run as root, which ignores permissions, so a refusing system is simulated by making
``os.fsync`` / ``os.replace`` / ``tempfile.mkstemp`` raise the errno a real one would; the real
read-only case runs too when the tests do not run as root.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from kamcore import hookimpl
from kamcore.changes.txn import TXN_DIR
from kamcore.cli.app import make_cli
from kamcore.plugins import get_plugin_manager
from kamcore.settings import JOURNAL_FILE
from tests.test_changes_support import save_small


def kam(*args: str, pm=None):
    pm = pm or get_plugin_manager(load_entrypoints=False)
    return CliRunner().invoke(make_cli(pm), list(args))


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return save_small(tmp_path / "org")


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != ".kam.lock"}


def refuse(monkeypatch, name: str, code: int, when: Callable[..., bool] = lambda *a, **k: True):
    """Make ``os.<name>`` (or ``tempfile.mkstemp``) raise ``code`` when ``when(*args)``."""
    owner = tempfile if name == "mkstemp" else os
    real = getattr(owner, name)

    def fake(*args, **kwargs):
        if when(*args, **kwargs):
            raise OSError(code, os.strerror(code))
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, fake)


def assert_user_error(result, *words: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "bug in kamcore" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    for word in words:
        assert word in result.output, result.output


FAILURES = [("fsync", errno.ENOSPC, "No space left"), ("replace", errno.EROFS, "Read-only"),
            ("mkstemp", errno.EACCES, "Permission denied")]


def _output_commands(ws: Path, out: Path, tmp_path: Path) -> dict[str, list[str]]:
    source = tmp_path / "Account.csv"
    source.write_text("Id,Name,OwnerId\n001DnAbC0000001,Acme,005Dn00000Ux001IAB\n")
    return {
        "rollup": ["rollup", str(ws), "--format", "csv", "-o", str(out)],
        "export": ["export", str(ws), "--format", "csv", "-o", str(out)],
        "chart": ["chart", str(ws), "-o", str(out)],
        "duties": ["duties", str(ws), "--format", "json", "-o", str(out)],
    }


@pytest.mark.parametrize(("name", "code", "words"), FAILURES)
@pytest.mark.parametrize("command", ["rollup", "export", "chart", "duties"])
def test_output_files_on_a_full_disk_or_read_only_folder(ws, tmp_path, monkeypatch, command,
                                                         name, code, words):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "result.txt"
    out.write_text("old result\n")
    args = _output_commands(ws, out, tmp_path)[command]
    refuse(monkeypatch, name, code)
    result = kam(*args)
    assert_user_error(result, "KAM-W003", str(out), words, "hint:")
    assert out.read_text() == "old result\n"
    assert [p.name for p in out_dir.iterdir()] == ["result.txt"]  # no temporary file left


@pytest.mark.parametrize(("name", "code", "words"), FAILURES)
def test_import_and_init_on_a_full_disk(tmp_path, monkeypatch, name, code, words):
    source = tmp_path / "Account.csv"
    source.write_text("Id,Name,OwnerId\n001DnAbC0000001,Acme,005Dn00000Ux001IAB\n")
    refuse(monkeypatch, name, code)
    assert_user_error(kam("import", "salesforce", str(source), "-o", str(tmp_path / "a")),
                      "KAM-W003", words)
    assert_user_error(kam("init", str(tmp_path / "b")), "KAM-W003", words)


@pytest.mark.parametrize(("name", "code", "words"), FAILURES)
def test_an_apply_on_a_full_disk_changes_nothing(ws, monkeypatch, name, code, words):
    kam("assign", str(ws), "K2", "--manager", "KAM3", "--apply")  # a journal to keep intact
    before = snapshot(ws)
    refuse(monkeypatch, name, code)
    result = kam("assign", str(ws), "K2", "--manager", "KAM2", "--apply")
    assert_user_error(result, "KAM-W003", str(ws), "nothing was changed", words)
    monkeypatch.undo()
    assert snapshot(ws) == before
    assert not (ws / TXN_DIR).exists()


def test_an_apply_refused_at_the_rename_rolls_back(ws, monkeypatch):
    before = snapshot(ws)
    refuse(monkeypatch, "replace", errno.ENOSPC,
           lambda src, dst, *a, **k: str(src).endswith("accounts.csv.new"))
    result = kam("assign", str(ws), "K2", "--manager", "KAM3", "--apply")
    assert_user_error(result, "No space left", "nothing was changed")
    monkeypatch.undo()
    assert snapshot(ws) == before


def test_a_journal_that_cannot_be_appended_rolls_back(ws, monkeypatch):
    before = snapshot(ws)
    real_open = os.open

    def fake_open(path, flags, *args, **kwargs):
        if str(path).endswith(JOURNAL_FILE) and flags & os.O_APPEND:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", fake_open)
    result = kam("assign", str(ws), "K2", "--manager", "KAM3", "--apply")
    assert_user_error(result, "Read-only", JOURNAL_FILE, "nothing was changed")
    monkeypatch.undo()
    assert snapshot(ws) == before


def test_briefs_that_cannot_be_written_exit_2_after_the_change(ws, tmp_path, monkeypatch):
    briefs = tmp_path / "briefs"
    refuse(monkeypatch, "mkstemp", errno.ENOSPC,
           lambda *a, **k: str(k.get("dir", "")).startswith(str(briefs)))
    result = kam("handover", str(ws), "--from", "KAM1", "--to", "KAM3", "--briefs", str(briefs),
                 "--apply")
    assert_user_error(result, "the change was applied", str(briefs), "No space left")
    assert "Applied:" in result.output
    assert (ws / JOURNAL_FILE).read_text().count("\n") == 1


def test_a_system_error_anywhere_is_a_user_problem_not_a_bug(tmp_path):
    class Plugin:
        @hookimpl
        def kam_add_commands(self, cli):
            @cli.command("fill")
            def fill() -> None:
                raise OSError(errno.ENOSPC, "No space left on device", "/data/x.bin")

    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(Plugin(), name="filler")
    assert_user_error(kam("fill", pm=pm), "/data/x.bin", "No space left", "hint:")


def test_other_os_errors_are_still_bugs(tmp_path):
    class Plugin:
        @hookimpl
        def kam_add_commands(self, cli):
            @cli.command("odd")
            def odd() -> None:
                raise OSError(errno.EBADF, "Bad file descriptor")

    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(Plugin(), name="odd")
    assert kam("odd", pm=pm).exit_code == 70


def test_a_real_read_only_folder(ws, tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root ignores permissions; the cases above simulate them")
    out_dir = tmp_path / "ro"
    out_dir.mkdir()
    out = out_dir / "rollup.csv"
    out.write_text("old\n")
    before = snapshot(ws)
    out_dir.chmod(0o555)
    ws.chmod(0o555)
    try:
        assert_user_error(kam("rollup", str(ws), "--format", "csv", "-o", str(out)),
                          str(out), "Permission denied")
        assert_user_error(kam("assign", str(ws), "K2", "--manager", "KAM3", "--apply"),
                          "KAM-W003")
    finally:
        out_dir.chmod(0o755)
        ws.chmod(0o755)
    assert out.read_text() == "old\n"
    assert snapshot(ws) == before
