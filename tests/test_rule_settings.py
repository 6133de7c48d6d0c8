"""KAM131: a code in kam.yaml's ``rules: disable:`` / ``severity:`` that names no loaded rule
is a located warning with a did-you-mean, not a setting that silently does nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kamcore import hookimpl, validate

pytest_plugins = ["kamcore.testing"]

RULES = """\
rules:
  disable: [{disable}]
  severity: {{{severity}}}
"""


class Shipping:
    """A plugin with rules of its own prefix (``SHP``)."""

    @hookimpl
    def kam_register_rules(self, register):
        register("SHP101", "ships", lambda org: iter(()), severity="warning", summary="-")


def workspace(acme_copy: Path, disable: str = "", severity: str = "") -> Path:
    config = acme_copy / "kam.yaml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("rules:\n  disable: []\n  severity: {}\n",
                                   RULES.format(disable=disable, severity=severity)),
                      encoding="utf-8")
    return acme_copy


def kam131(kam_cli, folder: Path) -> list[dict]:
    result = kam_cli.invoke("validate", str(folder), "--format", "json")
    return [f for f in json.loads(result.stdout)["findings"] if f["code"] == "KAM131"]


def test_a_misspelt_disabled_code_is_a_located_warning(kam_cli, acme_copy):
    found = kam131(kam_cli, workspace(acme_copy, disable="KAM109, KAM1O1"))
    assert [(f["severity"], f["file"], f["line"], f["message"], f["hint"]) for f in found] == [
        ("warning", str(acme_copy / "kam.yaml"), None, "rules.disable names 'KAM1O1', which is "
         "no loaded rule: nothing is disabled", "did you mean 'KAM101'?")]


def test_a_misspelt_severity_code(kam_cli, acme_copy):
    found = kam131(kam_cli, workspace(acme_copy, severity="KAM111: error, kam112: warning"))
    assert [(f["message"], f["hint"]) for f in found] == [
        ("rules.severity names 'kam112', which is no loaded rule: no severity is changed",
         "did you mean 'KAM112'?")]


@pytest.mark.parametrize(("code", "hint"), [
    ("KMA111", "did you mean 'KAM111' or 'KAM191' or 'KAM181'?"),  # prefix swapped
    ("no-such-rule", "list the codes with `kam validate --list-rules`"),  # no code's shape
    ("SHP1O1", "did you mean 'SHP101'?"),                      # a loaded plugin's prefix
])
def test_typos_are_reported(kam_cli, kam_pm, acme_copy, code, hint):
    kam_pm.register(Shipping(), name="shipping")
    found = kam131(kam_cli, workspace(acme_copy, disable=code))
    assert [f["hint"] for f in found] == [hint]


def test_codes_of_plugins_not_loaded_are_quiet(kam_cli, acme_copy):
    # SHP101 and GOV101 belong to plugins this run did not load: the same kam.yaml serves runs
    # with them, so they are not typos; a KAM code always is, whatever is loaded
    folder = workspace(acme_copy, disable="SHP101, GOV101, KAM101", severity="HC104: error")
    assert kam131(kam_cli, folder) == []


def test_plugin_failure_cannot_be_disabled(kam_cli, acme_copy):
    found = kam131(kam_cli, workspace(acme_copy, disable="KAM900"))
    assert [f["message"] for f in found] == [
        "rules.disable names 'KAM900' (plugin-failure), which is always an error: nothing is "
        "disabled"]


def test_the_python_api_reports_it_too(acme_copy):
    folder = workspace(acme_copy, disable="KAM1O9")
    assert [f.hint for f in validate(folder) if f.code == "KAM131"] == ["did you mean 'KAM109'?"]


def test_registered_codes_are_quiet(kam_pm, kam_cli, acme_copy):
    kam_pm.register(Shipping(), name="shipping")
    folder = workspace(acme_copy, disable="SHP101, KAM109", severity="KAM111: error")
    assert kam131(kam_cli, folder) == []

