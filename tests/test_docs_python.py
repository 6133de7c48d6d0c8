"""docs/python.md runs as a reader types it: every Python block, in order, in one session, in
a folder holding a copy of examples/; the examples are left as they were (changes go to a
copy the page makes)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "python.md"


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def test_every_python_block_of_the_page_runs_in_order(tmp_path, monkeypatch):
    shutil.copytree(ROOT / "examples", tmp_path / "examples",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    before = _files(tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    text = PAGE.read_text(encoding="utf-8")
    blocks = [(text.count("\n", 0, m.start()) + 2, m.group(1))
              for m in re.finditer(r"^```python\n(.*?)^```", text, re.M | re.S)]
    assert len(blocks) >= 6
    session: dict[str, object] = {}
    for line, code in blocks:
        exec(compile(code, f"docs/python.md:{line}", "exec"), session)
    assert _files(tmp_path / "examples") == before
