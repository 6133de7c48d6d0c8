"""The Org's tree queries."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kamcore import NotFound, Org, Person
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


@settings(max_examples=150, deadline=None)
@given(bosses=st.lists(st.integers(-1, 9), min_size=1, max_size=10),
       edits=st.lists(st.tuples(st.integers(0, 12), st.integers(-1, 12)), max_size=8))
def test_reports_and_team_are_networkx_over_the_people_graph_through_any_edits(bosses, edits):
    """`reports` and `team` walk plain lists of reports (no networkx import): the same people
    in the same order as networkx over `people_graph`, with loops and missing managers, and
    in a plan's draft hiring and moving people (both kept in step, edit by edit)."""
    import networkx as nx

    from kamcore.changes.draft import Draft

    def person(i: int, boss: int) -> Person:
        return Person(id=f"P{i}", name=f"P{i}", role="kam",
                      reports_to=None if boss < 0 else f"P{boss}")

    org = Org.build(people=[person(i, b) for i, b in enumerate(bosses)])
    draft = Draft(org)
    draft.org.team("P0")  # the lists and the graph exist before the edits
    assert draft.org.people_graph is not None
    for who, boss in edits:
        draft.put_person(person(who, boss))
    for current in (org, draft.org):
        graph = current.people_graph
        for pid in current.people:
            assert current.reports(pid) == list(graph.successors(pid))
            assert current.team(pid) == [p for p in nx.dfs_preorder_nodes(graph, pid)
                                         if p != pid]
