"""Every Python snippet in docs/plugins.md and docs/hooks.md runs as written: each is a module
of its own (its imports included); one that implements hooks is registered as a plugin next to
the built-ins, and its declarations and duties are used on a small org without a problem."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest
from click.testing import CliRunner

from kamcore.cli.app import make_cli
from kamcore.duties import roster
from kamcore.registry import registry_for
from kamcore.testing import OrgBuilder, make_plugin_manager
from kamcore.validation import validate

DOCS = Path(__file__).resolve().parent.parent / "docs"
SNIPPET = re.compile(r"^```python\n(.*?)^```", re.M | re.S)


def _snippets() -> list[tuple[str, str]]:
    found = []
    for name in ("plugins.md", "hooks.md"):
        text = (DOCS / name).read_text(encoding="utf-8")
        for number, match in enumerate(SNIPPET.finditer(text), 1):
            line = text.count("\n", 0, match.start()) + 2
            found.append((f"{name}:{line} (snippet {number})", match.group(1)))
    return found


SNIPPETS = _snippets()


def test_there_are_snippets():
    assert len(SNIPPETS) >= 18


@pytest.mark.parametrize(("where", "code"), SNIPPETS, ids=[w for w, _ in SNIPPETS])
def test_snippet_runs(where, code, monkeypatch):
    module = types.ModuleType(f"kam_doc_snippet_{abs(hash(where))}")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    exec(compile(code, where, "exec"), module.__dict__)
    hooks = [name for name in vars(module) if name.startswith("kam_")]
    if not hooks:
        return
    pm = make_plugin_manager()
    assert pm.register(module, name="snippet") == "snippet", pm.load_failures
    registry = registry_for(pm)
    assert registry.problems == []
    org = (OrgBuilder(pm=pm).person("P1", role="kam")
           .account("A1", tier="key", manager="P1", industry="logistics").build())
    assert [f for f in validate(org) if f.code == "KAM900"] == []
    assert roster(org, pm).problems == []
    if "kam_add_commands" in hooks:
        result = CliRunner().invoke(make_cli(pm), ["--help"])
        assert result.exit_code == 0 and "warning" not in result.stderr, result.output
