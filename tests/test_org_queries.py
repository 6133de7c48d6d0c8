"""The Org's tree queries."""

from __future__ import annotations

import pytest

from kamcore import NotFound
from tests.orgkit import make_org


@pytest.fixture
def org():
    return make_org()


def test_account_tree_queries(org):
    assert org.roots() == ["G"]
    assert org.children("G") == ["G-DE", "G-FR"]
    assert org.parent("G-DE-BER") == "G-DE"
    assert org.ancestors("G-DE-BER-1a") == ["G-DE-BER-1", "G-DE-BER", "G-DE", "G"]
    assert org.path_to_root("G-DE") == ["G-DE", "G"]
    assert org.root_of("G-DE-BER-1a") == "G"
    assert org.subtree("G-DE") == ["G-DE", "G-DE-BER", "G-DE-BER-1", "G-DE-BER-1a"]
    assert org.descendants("G-DE-BER") == {"G-DE-BER-1", "G-DE-BER-1a"}
    assert org.depth("G-DE-BER-1a") == 4
    assert [a.id for a in org.by_tier("national")] == ["G-DE", "G-FR"]


def test_people_tree_queries(org):
    assert org.book("AM") == ["G-DE-BER-1", "G-DE-BER-1a"]
    assert org.book("VP") == []
    assert org.chain_of_command("AM") == ["KAM", "NAM-DE", "GAM", "VP"]
    assert org.reports("KAM") == ["AM", "SUP"]
    assert org.team("NAM-DE") == ["KAM", "AM", "SUP"]
    assert org.team_book("NAM-DE") == ["G-DE", "G-DE-BER", "G-DE-BER-1", "G-DE-BER-1a"]
    assert [p.id for p in org.support_staff("KAM")] == ["SUP"]
    assert org.top_people() == ["VP"]


def test_unknown_ids_suggest(org):
    with pytest.raises(NotFound) as info:
        org.account("G-DEE")
    assert "did you mean 'G-DE'" in str(info.value)
    with pytest.raises(NotFound):
        org.person("NOBODY")


def test_queries_stop_at_cycles():
    org = make_org(change={"G-DE-BER-1": {"parent": "G-DE-BER-1a"}})
    assert org.ancestors("G-DE-BER-1a") == ["G-DE-BER-1"]
