"""docs/python.md and README.md's Python run as a reader types them: every Python block of a
page, in order, in one session, in a folder holding a copy of examples/; the examples are left
as they were (changes go to a copy the page makes)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


@pytest.mark.parametrize(("page", "least"), [("docs/python.md", 6), ("README.md", 1)])
def test_every_python_block_of_the_page_runs_in_order(page, least, tmp_path, monkeypatch):
    shutil.copytree(ROOT / "examples", tmp_path / "examples",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    before = _files(tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    text = (ROOT / page).read_text(encoding="utf-8")
    blocks = [(text.count("\n", 0, m.start()) + 2, m.group(1))
              for m in re.finditer(r"^```python\n(.*?)^```", text, re.M | re.S)]
    assert len(blocks) >= least
    session: dict[str, object] = {}
    for line, code in blocks:
        exec(compile(code, f"{page}:{line}", "exec"), session)
    assert _files(tmp_path / "examples") == before



def test_the_changes_module_example_changes_a_copy(tmp_path, monkeypatch):
    """``help(kamcore.changes)`` shows a leave applied and undone: run on a copy, not the
    bundled example (its ``>>>`` lines are skipped by doctest: they write)."""
    from kamcore import changes

    shutil.copytree(ROOT / "examples", tmp_path / "examples",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    before = _files(tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    lines = [line[4:].split("# doctest")[0] for line in (changes.__doc__ or "").splitlines()
             if line.startswith(">>> ")]
    assert any("apply" in line for line in lines)
    exec(compile("\n".join(lines), "kamcore.changes", "exec"), {})
    assert _files(tmp_path / "examples") == before

def test_the_readme_says_what_validating_the_example_finds(tmp_path, monkeypatch):
    import kamcore

    monkeypatch.chdir(ROOT)
    found = [(f.code, f.severity.value) for f in kamcore.validate("examples/acme")]
    assert found == [("KAM152", "info")]
    assert "# no errors here, one info (KAM152)" in (ROOT / "README.md").read_text("utf-8")
