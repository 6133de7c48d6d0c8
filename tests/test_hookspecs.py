"""The hook API is a contract: every spec documented, typed, in docs/hooks.md, and tested."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from kamcore import hookspecs

ROOT = Path(__file__).resolve().parent.parent
SPECS = hookspecs.all_spec_names()
DOCS = (ROOT / "docs" / "hooks.md").read_text(encoding="utf-8")


def _test_sources() -> str:
    files = [*ROOT.glob("tests/test_*.py"), *ROOT.glob("plugins/*/tests/test_*.py"),
             *ROOT.glob("examples/*/tests/test_*.py")]
    return "\n".join(path.read_text(encoding="utf-8") for path in files)


def test_there_are_specs():
    assert SPECS[:5] == ["kam_register_settings", "kam_register_industries",
                         "kam_register_fields", "kam_register_metrics", "kam_register_rules"]
    assert {"kam_account_duties", "kam_add_commands"} <= set(SPECS)


@pytest.mark.parametrize("name", SPECS)
def test_spec_has_a_full_docstring(name):
    spec = getattr(hookspecs, name)
    doc = inspect.getdoc(spec) or ""
    assert doc.split("\n")[0].endswith("."), f"{name}: no one-line summary"
    for param in inspect.signature(spec).parameters:
        assert f":param {param}:" in doc, f"{name}: :param {param}: missing"
    assert ":returns:" in doc, f"{name}: :returns: missing"
    assert ".. versionadded::" in doc, f"{name}: versionadded missing"
    options = getattr(spec, f"{hookspecs.PROJECT}_spec")
    phrase = "Stops at first non-None result" if options["firstresult"] else "not firstresult"
    assert phrase in doc, f"{name}: the docstring must say how results combine ({phrase!r})"
    assert "Example::" in doc, f"{name}: no example"


@pytest.mark.parametrize("name", SPECS)
def test_spec_is_fully_typed(name):
    signature = inspect.signature(getattr(hookspecs, name))
    for param in signature.parameters.values():
        assert param.annotation is not inspect.Parameter.empty, f"{name}({param.name}) untyped"
    assert signature.return_annotation is not inspect.Signature.empty, f"{name}: no return type"


@pytest.mark.parametrize("name", SPECS)
def test_spec_is_documented_with_its_signature(name):
    match = re.search(rf"^### {name}\((.*)\)$", DOCS, re.MULTILINE)
    assert match, f"docs/hooks.md has no '### {name}(...)' section"
    documented = [arg.strip() for arg in match.group(1).split(",") if arg.strip()]
    assert documented == list(inspect.signature(getattr(hookspecs, name)).parameters)


def test_docs_list_no_hook_that_does_not_exist():
    documented = re.findall(r"^### (kam_\w+)\(", DOCS, re.MULTILINE)
    assert sorted(documented) == sorted(SPECS)


@pytest.mark.parametrize("name", SPECS)
def test_spec_has_a_test(name):
    assert f"def test_hook_{name}" in _test_sources(), f"no test_hook_{name} test"


def test_hookimpl_is_public():
    import kamcore

    assert kamcore.hookimpl is hookspecs.hookimpl
