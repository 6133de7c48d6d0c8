"""kam export --format closure|levels|edges: against networkx, in CSV and Parquet, and the
dbt models of docs/warehouse.md run in DuckDB against kam rollup."""

from __future__ import annotations

import csv
import io
import itertools
import re
from pathlib import Path

import networkx as nx
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from kamcore.cli.app import make_cli
from kamcore.plugins import get_plugin_manager

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "warehouse.md"


def run(*args: str):
    return CliRunner().invoke(make_cli(get_plugin_manager(load_entrypoints=False)), list(args))


def write_org(folder: Path, parents: list[int | None], ids: list[str] | None = None) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    ids = ids or [f"A{i}" for i in range(len(parents))]
    (folder / "kam.yaml").write_text("name: t\ncurrency: EUR\n")
    lines = ["id,name,tier,parent"] + [
        f"{a},{a},regular,{'' if p is None else ids[p]}" for a, p in zip(ids, parents, strict=True)]
    (folder / "accounts.csv").write_text("\n".join(lines) + "\n")
    (folder / "people.csv").write_text("id,name,role\n")
    return ids


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


forests = st.integers(min_value=1, max_value=40).flatmap(
    lambda n: st.tuples(*[st.none() if i == 0 else st.one_of(
        st.none(), st.integers(min_value=0, max_value=i - 1)) for i in range(n)]))


@settings(max_examples=25, deadline=None)
@given(parents=forests)
def test_closure_levels_edges_match_networkx(tmp_path_factory: pytest.TempPathFactory,
                                             parents: tuple[int | None, ...]):
    folder = tmp_path_factory.mktemp("org")
    ids = write_org(folder, list(parents))
    graph = nx.DiGraph()
    graph.add_nodes_from(ids)
    graph.add_edges_from((ids[p], ids[i]) for i, p in enumerate(parents) if p is not None)
    closure = rows(run("export", str(folder), "--format", "closure").output)
    expected = {(a, a, "0") for a in ids} | {
        (anc, d, str(nx.shortest_path_length(graph, anc, d)))
        for d in ids for anc in nx.ancestors(graph, d)}
    assert {(r["ancestor"], r["descendant"], r["depth"]) for r in closure} == expected
    assert len(closure) == len(expected)
    for r in rows(run("export", str(folder), "--format", "levels").output):
        path = [*reversed(sorted(nx.ancestors(graph, r["id"]),
                                 key=lambda a: nx.shortest_path_length(graph, a, r["id"]))),
                r["id"]]
        levels = [r[k] for k in r if k.startswith("level_")]
        assert levels[:len(path)] == path and not any(levels[len(path):])
        assert int(r["depth"]) == len(path) - 1
    edges = rows(run("export", str(folder), "--format", "edges").output)
    assert {(r["child"], r["parent"]) for r in edges} == {(c, p) for p, c in graph.edges}


def test_parquet_and_hostile_ids(tmp_path: Path):
    ids = write_org(tmp_path / "org", [None, 0], ["=HYPERLINK(1)", "@SUM(A1)"])
    out = run("export", str(tmp_path / "org"), "--format", "edges")
    assert out.output == "child,parent,valid_from,valid_to\n'@SUM(A1),'=HYPERLINK(1),,\n"
    target = tmp_path / "closure.parquet"
    result = run("export", str(tmp_path / "org"), "--format", "closure", "-o", str(target))
    assert result.exit_code == 0, result.output
    table = pq.read_table(target).to_pylist()
    assert {"ancestor": ids[0], "descendant": ids[1], "depth": 1} in table  # verbatim in Parquet


def test_cycle_is_a_located_error_and_nothing_is_written(tmp_path: Path):
    write_org(tmp_path / "org", [None, 2, 1])
    target = tmp_path / "closure.csv"
    result = run("export", str(tmp_path / "org"), "--format", "closure", "-o", str(target))
    assert result.exit_code == 2
    assert "accounts.csv:3" in result.output and "own ancestor" in result.output
    assert not target.exists()
    assert run("export", str(tmp_path / "org"), "--format", "csv", "--parquet").exit_code == 2


def test_dbt_models_of_the_docs(tmp_path: Path):
    """docs/warehouse.md's two dbt models, with ref() replaced by the exported tables, give
    kam rollup's orders per account in DuckDB (its shell lines run in tests/test_docs_cli.py).
    """
    import json

    import duckdb

    text = DOC.read_text()
    acme = str(ROOT / "examples" / "acme")
    assert run("export", acme, "--format", "closure", "-o",
               str(tmp_path / "seeds" / "kam_closure.csv")).exit_code == 0
    assert run("export", acme, "--format", "levels", "-o",
               str(tmp_path / "kam_levels.parquet")).exit_code == 0
    con = duckdb.connect()
    con.execute(f"create view kam_closure as select * from read_csv_auto('"
                f"{tmp_path / 'seeds' / 'kam_closure.csv'}', all_varchar=true)")
    con.execute(f"create view kam_levels as select * from '{tmp_path / 'kam_levels.parquet'}'")
    con.execute(f"create view facts as select * from read_csv_auto('"
                f"{ROOT / 'examples' / 'acme' / 'facts.csv'}')")
    models = re.findall(r"```sql\n(.*?)```", text, re.S)
    assert len(models) == 3
    subtree_sql, global_sql = (re.sub(r"\{\{ ref\('(\w+)'\) \}\}", r"\1", m)
                               for m in models[:2])
    got = {(a, p): v for a, p, v in con.execute(subtree_sql).fetchall()}
    kam = json.loads(run("rollup", str(ROOT / "examples" / "acme"), "-m", "orders",
                         "--period", "2026Q2", "--format", "json").stdout)
    for row in kam["rows"]:
        assert got.get((row["id"], "2026Q2")) == row["orders_total"], row["id"]
    by_global = dict(((g, p), v) for g, p, v in con.execute(global_sql).fetchall())
    for row in kam["rows"]:
        if row["depth"] == 0 and row["orders_total"] is not None:
            assert by_global[(row["id"], "2026Q2")] == row["orders_total"]


# -- edges with validity (history.csv) ---------------------------------------------------------

DAYS = ["2025-01-01", "2025-04-01", "2025-07-01", "2025-10-01", "2026-01-01"]
PROBES = ["2024-06-30", "2025-01-01", "2025-03-31", "2025-05-15", "2025-07-01", "2025-12-31",
          "2026-01-01", "2027-01-01"]


@st.composite
def dated_forests(draw: st.DrawFn) -> tuple[list[int | None], list[str]]:
    """A forest and history rows: parents change to an earlier account (no day has a loop);
    the last two accounts, never anyone's parent, may exist only from a day on."""
    n = draw(st.integers(min_value=3, max_value=12))
    parents: list[int | None] = [None] + [
        draw(st.one_of(st.none(), st.integers(0, min(i, n - 2) - 1))) for i in range(1, n)]
    rows = []
    for i in range(1, n):
        cuts = sorted(draw(st.sets(st.sampled_from(DAYS), max_size=3)))
        if not cuts and not draw(st.booleans()):
            continue
        edges = ["", *cuts, ""]
        for start, end in itertools.pairwise(edges):
            if draw(st.booleans()):  # a gap: the file's parent holds there
                continue
            value = draw(st.one_of(st.none(), st.integers(0, min(i, n - 2) - 1)))
            rows.append(f"A{i},parent,{'' if value is None else f'A{value}'},{start},{end},")
    for i in (n - 2, n - 1):
        if i > 0 and draw(st.booleans()):
            rows.append(f"A{i},exists,true,{draw(st.sampled_from(DAYS))},,")
    return parents, rows


@settings(max_examples=40, deadline=None)
@given(case=dated_forests())
def test_dated_edges_give_every_days_tree(tmp_path_factory: pytest.TempPathFactory,
                                          case: tuple[list[int | None], list[str]]):
    """The edges valid on a day are exactly the tree read as of that day; a child has one
    parent at a time, and neighbouring rows of one link are joined."""
    from kamcore.workspace.tables import read_workspace

    parents, history = case
    folder = tmp_path_factory.mktemp("org")
    write_org(folder, parents)
    (folder / "history.csv").write_text(
        "record,field,value,valid_from,valid_to,entry\n" + "".join(r + "\n" for r in history))
    result = run("export", str(folder), "--format", "edges")
    assert result.exit_code == 0, result.output
    edges = rows(result.output)
    for day in PROBES:
        tables = read_workspace(folder, as_of=day)
        ids = tables.accounts.ids.to_pylist()
        tree = {(c, p) for c, p in zip(ids, tables.accounts.text("parent").to_pylist(),
                                       strict=True) if p}
        valid = {(e["child"], e["parent"]) for e in edges
                 if (not e["valid_from"] or e["valid_from"] <= day)
                 and (not e["valid_to"] or day < e["valid_to"])}
        assert valid == tree, day
        as_of = rows(run("export", str(folder), "--format", "edges", "--as-of", day).output)
        assert {(e["child"], e["parent"]) for e in as_of} == tree
        assert all(e in edges for e in as_of)  # each with its whole validity
    by_child: dict[str, list[dict[str, str]]] = {}
    for e in edges:
        by_child.setdefault(e["child"], []).append(e)
    for links in by_child.values():
        for before, after in itertools.pairwise(links):
            assert before["valid_to"] and before["valid_to"] <= after["valid_from"]
            assert not (before["valid_to"] == after["valid_from"]
                        and before["parent"] == after["parent"])


def test_edges_without_history_are_open_and_a_bad_history_parent_is_located(tmp_path: Path):
    write_org(tmp_path / "org", [None, 0, 1])
    assert run("export", str(tmp_path / "org"), "--format", "edges").output == (
        "child,parent,valid_from,valid_to\nA1,A0,,\nA2,A1,,\n")
    (tmp_path / "org" / "history.csv").write_text(
        "record,field,value,valid_from,valid_to,entry\n"
        "A2,parent,A0,,2025-01-01,\n"
        "A2,parent,A9,2025-01-01,2025-06-01,\n")
    target = tmp_path / "edges.csv"
    result = run("export", str(tmp_path / "org"), "--format", "edges", "-o", str(target))
    assert result.exit_code == 2, result.output
    assert "history.csv:3" in result.output and "'A9' is no account" in result.output
    assert not target.exists()
    (tmp_path / "org" / "history.csv").write_text(
        "record,field,value,valid_from,valid_to,entry\n"
        "A2,parent,A0,,2025-01-01,\n")
    result = run("export", str(tmp_path / "org"), "--format", "edges", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert rows(target.read_text()) == [
        {"child": "A1", "parent": "A0", "valid_from": "", "valid_to": ""},
        {"child": "A2", "parent": "A0", "valid_from": "", "valid_to": "2025-01-01"},
        {"child": "A2", "parent": "A1", "valid_from": "2025-01-01", "valid_to": ""}]
    (tmp_path / "org" / "history.csv").write_text(  # overlapping rows: the later start wins
        "record,field,value,valid_from,valid_to,entry\n"
        "A2,parent,A0,,2025-06-01,\n"
        "A2,parent,,2025-01-01,,\n")
    result = run("export", str(tmp_path / "org"), "--format", "edges")
    assert rows(result.output)[1:] == [
        {"child": "A2", "parent": "A0", "valid_from": "", "valid_to": "2025-01-01"}]
    parquet = tmp_path / "edges.parquet"
    assert run("export", str(tmp_path / "org"), "--format", "edges", "-o",
               str(parquet)).exit_code == 0
    import datetime

    assert pq.read_table(parquet).to_pylist()[1] == {
        "child": "A2", "parent": "A0", "valid_from": None,
        "valid_to": datetime.date(2025, 1, 1)}


def test_dbt_tree_as_of_model_of_the_docs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """docs/warehouse.md's as-of model over the dated edges of an org that moved an account
    twice gives, on every probed day, the tree kam reads as of that day."""
    import shutil

    import duckdb

    from kamcore.workspace.tables import read_workspace

    monkeypatch.setenv("KAM_TODAY", "2026-06-15")
    org = tmp_path / "acme"
    shutil.copytree(ROOT / "examples" / "acme", org)
    for to, day in (("ACME-DE-MUN", "2026-09-01"), ("ACME-DE-BER", "2027-01-01")):
        moved = run("move", str(org), "ACME-DE-BER-01", "--to", to, "--effective", day, "--yes")
        assert moved.exit_code == 0, moved.output
    edges = tmp_path / "kam_edges.parquet"
    assert run("export", str(org), "--format", "edges", "-o", str(edges)).exit_code == 0
    model = re.findall(r"```sql\n(.*?)```", DOC.read_text(), re.S)[2]
    con = duckdb.connect()
    con.execute(f"create view kam_edges as select * from '{edges}'")
    for day in ("2026-06-15", "2026-09-01", "2026-12-31", "2027-01-01"):
        sql = re.sub(r"\{\{ ref\('(\w+)'\) \}\}", r"\1", model).replace(
            '{{ var("as_of") }}', day)
        got = set(con.execute(sql).fetchall())
        tables = read_workspace(org, as_of=day)
        want = {(c, p) for c, p in zip(tables.accounts.ids.to_pylist(),
                                       tables.accounts.text("parent").to_pylist(), strict=True)
                if p}
        assert got == want, day
        assert ("ACME-DE-BER-01", "ACME-DE-MUN" if "2026-09-01" <= day < "2027-01-01"
                else "ACME-DE-BER") in got
