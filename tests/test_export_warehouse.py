"""kam export --format closure|levels|edges: against networkx, in CSV and Parquet, and the
dbt models of docs/warehouse.md run in DuckDB against kam rollup."""

from __future__ import annotations

import csv
import io
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
    assert out.output == "child,parent\n'@SUM(A1),'=HYPERLINK(1)\n"
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
    assert len(models) == 2
    subtree_sql, global_sql = (re.sub(r"\{\{ ref\('(\w+)'\) \}\}", r"\1", m) for m in models)
    got = {(a, p): v for a, p, v in con.execute(subtree_sql).fetchall()}
    kam = json.loads(run("rollup", str(ROOT / "examples" / "acme"), "-m", "orders",
                         "--period", "2026Q2", "--format", "json").stdout)
    for row in kam["rows"]:
        assert got.get((row["id"], "2026Q2")) == row["orders_total"], row["id"]
    by_global = dict(((g, p), v) for g, p, v in con.execute(global_sql).fetchall())
    for row in kam["rows"]:
        if row["depth"] == 0 and row["orders_total"] is not None:
            assert by_global[(row["id"], "2026Q2")] == row["orders_total"]
