"""Every core rule fires on a minimal breakage and stays quiet on the valid base org."""

from __future__ import annotations

import pytest

from kamcore import validate
from kamcore.builtin.core_rules import CORE_RULES
from tests.orgkit import make_org


def codes(org) -> list[str]:
    return [f.code for f in validate(org)]


def test_base_org_is_clean():
    assert validate(make_org()) == []


BREAKAGES = {
    "KAM101": dict(add_accounts=[dict(id="G-FR", name="Dup", tier="regular", parent="G-FR",
                                      country="FR")]),
    "KAM102": dict(change={"G-DE-BER-1a": {"parent": "NOPE"}}),
    "KAM103": dict(change={"G-DE-BER-1": {"parent": "G-DE-BER-1a"}}),
    "KAM104": dict(change={"G-FR": {"tier": "key", "manager": "KAM"},
                           "G-DE-BER": {"tier": "national", "manager": "NAM-DE"}}),
    "KAM105": dict(change={"G-FR": {"manager": None}}),
    "KAM106": dict(change={"G-DE-BER-1": {"manager": "GHOST"}}),
    "KAM107": dict(change={"G-DE-BER": {"manager": "AM"}}),
    "KAM108": dict(change={"G-DE-BER-1a": {"country": "AT"}}),
    "KAM109": dict(change={"G-FR": {"country": "DE"}}),
    "KAM110": dict(change={"NAM-FR": {"reports_to": "VP"}}),
    "KAM111": dict(change={"AM": {"capacity": 1}}),
    "KAM112": dict(change={"G-DE-BER-1": {"manager": "SUP"}}),
    "KAM113": dict(change={"AM": {"active": False}}),
    "KAM121": dict(change={"SUP": {"reports_to": "NOBODY"}}),
    "KAM122": dict(change={"VP": {"reports_to": "AM"}}),
    "KAM130": dict(change={"G-DE-BER-1": {"ext": {"nosuchplugin": {"x": "1"}}}}),
}


@pytest.mark.parametrize("code", sorted(BREAKAGES))
def test_rule_fires(code):
    found = codes(make_org(**BREAKAGES[code]))
    assert code in found, found


@pytest.mark.parametrize("code", sorted(BREAKAGES))
def test_rule_quiet_on_base_org(code):
    assert code not in codes(make_org())


def test_every_core_rule_has_a_breakage():
    # KAM140 (plugin fields) is tested with a plugin in tests/test_plugin_fields_core.py, the
    # rules over facts and FX (KAM15x) with workspaces in tests/test_fact_rules.py, KAM154
    # (totals past float64) in tests/hostile/test_numbers.py, KAM131 (kam.yaml's rule codes)
    # in tests/test_rule_settings.py
    assert {c for c, *_ in CORE_RULES} - set(BREAKAGES) == {
        "KAM131", "KAM140", "KAM150", "KAM151", "KAM152", "KAM153", "KAM154"}


def test_regular_may_nest_but_key_may_not():
    assert "KAM104" not in codes(make_org())  # G-DE-BER-1a is regular under regular
    org = make_org(add_accounts=[dict(id="K2", name="k2", tier="key", parent="G-DE-BER",
                                      manager="KAM", country="DE")])
    assert "KAM104" in codes(org)


def test_cycle_is_reported_once_with_its_path():
    org = make_org(change={"G-DE-BER-1": {"parent": "G-DE-BER-1a"}})
    cycles = [f for f in validate(org) if f.code == "KAM103"]
    assert len(cycles) == 1
    assert "G-DE-BER-1 -> G-DE-BER-1a -> G-DE-BER-1" in cycles[0].message


def test_unknown_parent_suggests_close_id():
    org = make_org(change={"G-DE-BER-1a": {"parent": "G-DE-BER-2"}})
    finding = next(f for f in validate(org) if f.code == "KAM102")
    assert finding.subject == "G-DE-BER-1a"
    assert "did you mean" in (finding.hint or "")


def test_settings_disable_and_override_severity():
    org = make_org(change={"AM": {"capacity": 1}})
    assert [f.severity.value for f in validate(org) if f.code == "KAM111"] == ["warning"]
    org.settings.rules.severity["KAM111"] = "error"
    assert [f.severity.value for f in validate(org) if f.code == "KAM111"] == ["error"]
    org.settings.rules.disable.append("KAM111")
    assert "KAM111" not in codes(org)


def test_select_limits_rules():
    org = make_org(change={"AM": {"capacity": 1}, "G-FR": {"manager": None}})
    assert {f.code for f in validate(org, select=["KAM111"])} == {"KAM111"}


def test_findings_are_sorted_errors_first():
    org = make_org(change={"AM": {"capacity": 1}, "G-FR": {"manager": None}})
    severities = [f.severity.value for f in validate(org)]
    assert severities == sorted(severities, key=["error", "warning", "info"].index)


def _core_rule(code: str):
    from kamcore.plugins import get_plugin_manager
    from kamcore.registry import registry_for

    return registry_for(get_plugin_manager(load_entrypoints=False)).rules[code]


def test_findings_built_without_validation_equal_validated_ones():
    from kamcore.declarations import Violation
    from kamcore.errors import Location
    from kamcore.models import Finding, Severity
    from kamcore.validation import _to_finding

    rule = _core_rule("KAM102")
    plain = Violation("ACC-1", "it is wrong", "fix it", column="parent",
                      location=Location("accounts.csv", 7, "parent"))
    built = _to_finding(None, rule, Severity.ERROR, plain)
    fields = built.model_dump()
    assert built == Finding(**fields)
    assert Finding.model_validate(fields).model_dump() == fields
    assert (built.subject, built.file, built.line, built.column) == (
        "ACC-1", "accounts.csv", 7, "parent")


def test_a_violation_of_the_wrong_types_is_still_validated():
    from pydantic import ValidationError

    from kamcore.declarations import Violation
    from kamcore.models import Severity
    from kamcore.validation import _to_finding

    rule = _core_rule("KAM102")
    with pytest.raises(ValidationError):
        _to_finding(None, rule, Severity.ERROR, Violation(42, "a number as subject"))  # type: ignore[arg-type]
