"""Rollup benchmark: the engine beside networkx, DuckDB, bincount and a numpy copy; then
``kam rollup`` end to end against DuckDB doing the same job from the same CSV.

Run from the repository root (DuckDB is a benchmark-only dependency, ``pip install .[bench]``)::

    .venv/bin/python benchmarks/rollup.py                     # 10k, 100k, 1M accounts
    .venv/bin/python benchmarks/rollup.py --sizes 10000 --no-networkx

Synthetic orgs (a few global accounts, depth up to 8, 5 metrics) are written under
``benchmarks/_data/`` (gitignored) and reused. Every figure is the best of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from machine import describe

ROOT = Path(__file__).resolve().parent
DATA = ROOT / "_data"
METRICS = ("revenue", "orders", "receivables", "cost", "visits")
TIERS = ("global", "national", "key", "regular")

KAM_YAML = """name: Synthetic {n} accounts
currency: EUR
metrics:
  cost: {{unit: money, aggregation: sum}}
  visits: {{aggregation: sum}}
"""


def make_forest(n: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Parent index per account (random file order) and its depth: few roots, depth <= 8."""
    rng = np.random.default_rng(seed)
    roots = max(3, n // 20000)
    growth = (n / roots) ** (1 / 7.5)
    sizes = [roots]
    while sum(sizes) < n and len(sizes) < 8:
        sizes.append(min(n - sum(sizes), max(1, round(sizes[-1] * growth))))
    sizes[-1] += n - sum(sizes)
    parent = np.full(n, -1, dtype=np.int64)
    depth = np.zeros(n, dtype=np.int64)
    start = 0
    for d, size in enumerate(sizes):
        if d:
            prev = start - sizes[d - 1]
            parent[start:start + size] = prev + rng.integers(0, sizes[d - 1], size)
        depth[start:start + size] = d
        start += size
    perm = rng.permutation(n)  # file order is not tree order
    inverse = np.empty(n, dtype=np.int64)
    inverse[perm] = np.arange(n)
    new_parent = np.where(parent >= 0, inverse[np.maximum(parent, 0)], -1)[perm]
    return new_parent, depth[perm]


def write_workspace(n: int) -> Path:
    """A workspace with accounts.csv (5 metrics), people.csv and kam.yaml (cached)."""
    import pyarrow as pa
    from pyarrow import csv as pacsv

    folder = DATA / f"org_{n}"
    if (folder / "accounts.csv").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    parent, depth = make_forest(n)
    rng = np.random.default_rng(11)
    ids = np.char.add("A", np.arange(n).astype(str))
    par = np.where(parent >= 0, ids[np.maximum(parent, 0)], "")
    people = max(5, n // 200)
    table = pa.table({
        "id": ids, "name": np.char.add("Account ", np.arange(n).astype(str)),
        "tier": np.array(TIERS)[np.minimum(depth, 3)],
        "parent": pa.array(par).cast(pa.string()),
        "manager": np.char.add("P", rng.integers(0, people, n).astype(str)),
        "country": np.array(["DE", "US", "FR", "GB", "JP"])[rng.integers(0, 5, n)],
        "industry": np.array(["retail", "manufacturing", "healthcare"])[rng.integers(0, 3, n)],
        "currency": np.full(n, "EUR"),
        "revenue": np.round(rng.gamma(2.0, 50000, n), 2),
        "orders": rng.integers(0, 200, n).astype(np.float64),
        "receivables": np.round(rng.gamma(2.0, 8000, n), 2),
        "cost": np.round(rng.gamma(2.0, 30000, n), 2),
        "visits": rng.integers(0, 50, n).astype(np.float64)})
    pacsv.write_csv(table, folder / "accounts.csv",
                    pacsv.WriteOptions(quoting_style="needed"))
    pids = [f"P{i}" for i in range(people)]
    lines = ["id,name,role,reports_to,capacity,email,active,specialty"]
    lines += [f"{p},Person {p},am,{'' if i == 0 else 'P0'},,,true," for i, p in enumerate(pids)]
    (folder / "people.csv").write_text("\n".join(lines) + "\n")
    (folder / "kam.yaml").write_text(KAM_YAML.format(n=n))
    return folder


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def engine_rows(n: int, repeat: int, networkx: bool) -> list[tuple[str, float, str]]:
    """In-process timings on the same arrays: (name, seconds, note)."""
    import duckdb
    import pyarrow as pa

    from kamcore.rollup.compile import compile_tree
    from kamcore.rollup.engine import rollup_sums

    parent, _ = make_forest(n)
    rng = np.random.default_rng(3)
    values = np.ascontiguousarray(rng.gamma(2.0, 1000, (len(METRICS), n)))
    rows: list[tuple[str, float, str]] = []
    t_compile = best(lambda: compile_tree(parent), max(1, repeat // 2))
    tree = compile_tree(parent)
    level_values = tree.to_level(values)
    rows.append(("numpy copy of (5, N) metrics (floor)", best(values.copy, repeat), ""))
    rows.append(("engine: per level, tree compiled",
                 best(lambda: rollup_sums(tree, level_values), repeat),
                 f"{len(tree.levels)} levels"))
    rows.append(("engine incl. reorder in/out of level order",
                 best(lambda: tree.to_original(rollup_sums(tree, tree.to_level(values),
                                                           inplace=True)), repeat), ""))
    rows.append(("compile tree (once per load)", t_compile, ""))

    def bincount_levels() -> np.ndarray:
        out = level_values.copy()
        for lvl in reversed(tree.levels[1:]):
            parents = tree.parent_pos[lvl.lo:lvl.hi]
            for row in range(out.shape[0]):
                out[row] += np.bincount(parents, weights=out[row, lvl.lo:lvl.hi],
                                        minlength=n)
        return out

    rows.append(("level-by-level np.bincount", best(bincount_levels, repeat), ""))
    reference = tree.to_original(rollup_sums(tree, level_values))
    con = duckdb.connect()
    arrow = pa.table({"id": np.arange(n), "parent": pa.array(
        np.where(parent >= 0, parent, 0), mask=parent < 0),
        **{m: values[i] for i, m in enumerate(METRICS)}})
    con.register("arrow_a", arrow)
    con.sql("CREATE TABLE a AS SELECT * FROM arrow_a")
    sums = ", ".join(f"sum(a.{m}) AS {m}" for m in METRICS)
    cte = f"""
        WITH RECURSIVE anc(id, anc) AS (
            SELECT id, id FROM a
            UNION ALL
            SELECT anc.id, a.parent FROM anc JOIN a ON a.id = anc.anc
            WHERE a.parent IS NOT NULL)
        SELECT anc.anc AS id, {sums} FROM anc JOIN a ON a.id = anc.id GROUP BY anc.anc"""
    got = con.sql(cte + " ORDER BY 1").fetchnumpy()
    assert np.allclose(got["revenue"], reference[0], rtol=1e-9), "DuckDB disagrees"
    threads = con.sql("SELECT current_setting('threads')").fetchall()[0][0]
    rows.append(("DuckDB recursive CTE (in memory)",
                 best(lambda: con.sql(cte).to_arrow_table(), max(1, repeat // 2)),
                 f"{threads} threads"))
    if networkx:
        import networkx as nx

        t0 = time.perf_counter()
        graph = nx.DiGraph()
        graph.add_nodes_from(range(n))
        graph.add_edges_from((int(p), i) for i, p in enumerate(parent.tolist()) if p >= 0)
        build = time.perf_counter() - t0
        cols = [values[i].tolist() for i in range(len(METRICS))]

        def post_order() -> list[list[float]]:
            out = [list(c) for c in cols]
            for node in nx.dfs_postorder_nodes(graph):
                for kid in graph.successors(node):
                    for row in out:
                        row[node] += row[kid]
            return out

        rows.append(("networkx post-order pass", best(post_order, 1),
                     f"graph build {build:.2f}s not included"))
    return rows


def measure(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of a child process, via /usr/bin/time -v."""
    t0 = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    rss = next(int(line.split(":")[1]) for line in proc.stderr.splitlines()
               if "Maximum resident set size" in line)
    return wall, rss / 1024


DUCKDB_E2E = """
COPY (
  WITH RECURSIVE a AS (SELECT * FROM read_csv('{folder}/accounts.csv', header=true)),
  anc(id, anc) AS (
    SELECT id, id FROM a
    UNION ALL
    SELECT anc.id, a.parent FROM anc JOIN a ON a.id = anc.anc WHERE a.parent IS NOT NULL),
  t AS (SELECT anc.anc AS id, {sums} FROM anc JOIN a d ON d.id = anc.id GROUP BY anc.anc)
  SELECT a.id, a.name, a.tier, a.parent, a.manager, {own}, {totals}
  FROM a JOIN t USING (id)
) TO '{folder}/duckdb_out.csv' (HEADER)"""


def end_to_end(n: int, repeat: int) -> list[tuple[str, float, float]]:
    folder = write_workspace(n)
    kam = str(Path(sys.executable).with_name("kam"))
    sql = DUCKDB_E2E.format(folder=folder, own=", ".join(f"a.{m}" for m in METRICS),
                            sums=", ".join(f"sum(d.{m}) AS {m}_total" for m in METRICS),
                            totals=", ".join(f"t.{m}_total" for m in METRICS))
    runs = {
        "kam rollup --format csv -o out.csv": [kam, "--no-plugins", "rollup", str(folder),
                                               "--format", "csv", "-o",
                                               str(folder / "kam_out.csv")],
        "DuckDB: read_csv + recursive CTE + COPY": [
            sys.executable, "-c", "import duckdb, sys; duckdb.execute(sys.argv[1])", sql],
        "python -c 'import duckdb' (startup share)": [sys.executable, "-c", "import duckdb"],
    }
    out = []
    for name, cmd in runs.items():
        results = [measure(cmd) for _ in range(repeat)]
        out.append((name, min(r[0] for r in results), max(r[1] for r in results)))
    return out


def write_facts_workspace(n: int) -> Path:
    """The n-account workspace plus facts.csv: 4 quarters x revenue, orders (8n rows)."""
    import shutil

    import pyarrow as pa
    from pyarrow import csv as pacsv

    src = write_workspace(n)
    folder = DATA / f"facts_{n}"
    if (folder / "facts.csv").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("kam.yaml", "accounts.csv", "people.csv"):
        shutil.copy(src / name, folder / name)
    ids = np.char.add("A", np.arange(n).astype(str))
    rng = np.random.default_rng(5)
    parts = [pa.table({"account": ids, "period": np.full(n, quarter),
                       "metric": np.full(n, metric),
                       "value": np.round(rng.gamma(2.0, 1000, n), 2)})
             for quarter in ("2026Q1", "2026Q2", "2026Q3", "2026Q4")
             for metric in ("revenue", "orders")]
    pacsv.write_csv(pa.concat_tables(parts), folder / "facts.csv",
                    pacsv.WriteOptions(quoting_style="none"))
    return folder


def help_time(repeat: int) -> float:
    kam = str(Path(sys.executable).with_name("kam"))
    return min(measure([kam, "--help"])[0] for _ in range(repeat))




def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-networkx", action="store_true",
                        help="skip the (slow) networkx pass")
    parser.add_argument("--e2e-size", type=int, default=None,
                        help="accounts for the end-to-end run (default: largest size)")
    parser.add_argument("--facts-size", type=int, default=0,
                        help="also time kam rollup over facts.csv for this many accounts "
                             "(8 fact rows each)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"machine: {describe('numpy', 'pyarrow', 'duckdb')}\n")
    floor: dict[int, float] = {}
    for n in sizes:
        print(f"## engine, {n:,} accounts x {len(METRICS)} metrics (best of {args.repeat})")
        rows = engine_rows(n, args.repeat, not args.no_networkx)
        floor[n] = rows[0][1]
        engine = rows[1][1]
        print(f"{'':44} {'ms':>10} {'x engine':>9} {'x copy':>8}  note")
        for name, secs, note in rows:
            print(f"{name:44} {secs * 1e3:10.1f} {secs / engine:9.1f} "
                  f"{secs / floor[n]:8.1f}  {note}")
        print()
    n = args.e2e_size or max(sizes)
    print(f"## end to end, {n:,} accounts, CSV in -> CSV out (best of 3 wall, max RSS)")
    for name, wall, rss in end_to_end(n, 3):
        print(f"{name:44} {wall:8.2f} s {rss:8.0f} MiB")
    if args.facts_size:
        folder = write_facts_workspace(args.facts_size)
        kam = str(Path(sys.executable).with_name("kam"))
        wall, rss = min(measure([kam, "--no-plugins", "rollup", str(folder), "--period", "2026",
                                 "--format", "csv", "-o", str(folder / "kam_out.csv")])
                        for _ in range(3))
        print(f"\n## facts: {args.facts_size:,} accounts, {8 * args.facts_size:,} fact rows, "
              f"--period 2026\nkam rollup --format csv -o out.csv {wall:8.2f} s {rss:8.0f} MiB")
    print(f"\nkam --help: {help_time(5) * 1e3:.0f} ms")


if __name__ == "__main__":
    main()
