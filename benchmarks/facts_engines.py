"""Out-of-core fact totals: ``kamcore.rollup(..., engine="duckdb")`` over a Parquet fact table
far larger than the in-process engine would hold, beside DuckDB's own SQL for the same
per-account totals (the baseline, measured in the same run).

    python benchmarks/facts_engines.py --rows 200000000
    python benchmarks/facts_engines.py --rows 10000000 --accounts 100000 --sql

``--sql`` also copies the facts into a SQLite database and a DuckDB database file (table
``facts``, made once and reused) and measures ``engine="sql"`` on each beside that database's
own SQL for the same per-account totals (the baseline, in the same run).

Data: ``--accounts`` accounts in a random forest, one fact per account, month and metric (4
metrics), months from 2022-01 on, written period by period to one Parquet file with 1M-row row
groups under ``benchmarks/_data/``. Each measurement runs in a fresh child process and reports
its wall time and peak RSS (``ru_maxrss``). The rollup shows the latest month (the default
period): DuckDB lists the period and metric labels, reads and checks the rows of that month
(unknown accounts, periods, values) and totals them per account and metric; kamcore reads the
accounts, converts and rolls the totals up the tree.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
METRICS = ("revenue", "orders", "receivables", "margin")


def generate(folder: Path, rows: int, accounts: int) -> Path:
    """The workspace (written once per size; reused when present)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    facts = folder / "facts.parquet"
    if facts.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(16)
    ids = np.char.add("A", np.arange(accounts).astype(str))
    parent = np.where(rng.random(accounts) < 0.9,
                      (rng.random(accounts) * np.arange(accounts)).astype(np.int64), -1)
    parent[0] = -1
    (folder / "kam.yaml").write_text("name: engines benchmark\ncurrency: EUR\nmetrics:\n"
                                     "  margin: {unit: money, aggregation: sum}\n")
    with (folder / "accounts.csv").open("w") as out:
        out.write("id,name,tier,parent\n")
        for i in range(accounts):
            out.write(f"{ids[i]},{ids[i]},regular,{ids[parent[i]] if parent[i] >= 0 else ''}\n")
    (folder / "people.csv").write_text("id,name,role\n")
    per_period = accounts * len(METRICS)
    periods = -(-rows // per_period)
    account_col = pa.array(np.tile(ids, len(METRICS)), pa.string())
    metric_col = pa.DictionaryArray.from_arrays(
        pa.array(np.repeat(np.arange(len(METRICS), dtype=np.int32), accounts)),
        pa.array(METRICS))
    schema = pa.schema([("account", pa.string()), ("period", pa.string()),
                        ("metric", pa.dictionary(pa.int32(), pa.string())),
                        ("value", pa.float64())])
    written = 0
    tmp = facts.with_suffix(".tmp")
    with pq.ParquetWriter(tmp, schema) as writer:
        for k in range(periods):
            n = min(per_period, rows - written)
            label = f"{2022 + k // 12}-{k % 12 + 1:02d}"
            table = pa.table({
                "account": account_col.slice(0, n),
                "period": pa.array(np.full(n, label)),
                "metric": metric_col.slice(0, n),
                "value": pa.array(rng.integers(0, 10_000, n).astype(np.float64))},
                schema=schema)
            writer.write_table(table, row_group_size=1 << 20)
            written += n
    tmp.rename(facts)
    return folder


def databases(folder: Path) -> None:
    """facts.db (SQLite) and facts.duckdb beside facts.parquet, each with the table facts."""
    import sqlite3

    import duckdb
    import pyarrow.parquet as pq

    if not (folder / "facts.duckdb").exists():
        with duckdb.connect(str(folder / "facts.tmp.duckdb")) as con:
            con.execute(f"CREATE TABLE facts AS SELECT account, period, CAST(metric AS VARCHAR) "
                        f"AS metric, value FROM '{folder}/facts.parquet'")
        (folder / "facts.tmp.duckdb").rename(folder / "facts.duckdb")
    if not (folder / "facts.db").exists():
        with sqlite3.connect(folder / "facts.tmp.db") as lite:
            lite.execute("CREATE TABLE facts (account TEXT, period TEXT, metric TEXT, "
                         "value REAL)")
            for batch in pq.ParquetFile(folder / "facts.parquet").iter_batches(1 << 18):
                cols = [c.to_pylist() for c in batch.columns]
                lite.executemany("INSERT INTO facts VALUES (?, ?, ?, ?)",
                                 zip(*cols, strict=True))
        lite.close()
        (folder / "facts.tmp.db").rename(folder / "facts.db")


def child(kind: str, folder: str) -> None:
    """One measurement in this (fresh) process; prints a JSON line."""
    import resource

    start = time.perf_counter()
    if kind in ("kam-sqlite", "kam-duckdb-file"):
        import kamcore
        from kamcore.plugins import get_plugin_manager

        url = (f"sqlite:///{folder}/facts.db" if kind == "kam-sqlite"
               else f"duckdb:///{folder}/facts.duckdb")
        result = kamcore.rollup(folder, list(METRICS), engine="sql", database=url, own=False,
                                pm=get_plugin_manager(load_entrypoints=False))
        roots = result.table.filter(result.table.column("depth").to_numpy() == 0)
        check = sum(sum(v for v in roots.column(f"{m}_total").to_pylist() if v is not None)
                    for m in METRICS)
        period = result.period
    elif kind in ("sqlite", "duckdb-file"):
        import sqlite3

        import duckdb

        con: Any = (sqlite3.connect(f"{folder}/facts.db") if kind == "sqlite"
                    else duckdb.connect(f"{folder}/facts.duckdb", read_only=True))
        period = con.execute("SELECT max(period) FROM facts").fetchall()[0][0]
        rows = con.execute("SELECT account, metric, sum(value) AS total FROM facts "
                           "WHERE period = ? GROUP BY account, metric", [period]).fetchall()
        check = sum(r[2] for r in rows if r[2] is not None)
    elif kind == "kam":
        import kamcore
        from kamcore.plugins import get_plugin_manager

        result = kamcore.rollup(folder, list(METRICS), engine="duckdb", own=False,
                                pm=get_plugin_manager(load_entrypoints=False))
        roots = result.table.filter(result.table.column("depth").to_numpy() == 0)
        check = sum(sum(v for v in roots.column(f"{m}_total").to_pylist() if v is not None)
                    for m in METRICS)
        period = result.period
    else:
        import duckdb

        con = duckdb.connect(config={"memory_limit": "2GB"})
        source = f"{folder}/facts.parquet"
        period = con.execute(f"SELECT max(period) FROM '{source}'").fetchall()[0][0]
        totals = con.sql(f"SELECT account, metric, sum(value) AS total FROM '{source}' "
                         f"WHERE period = '{period}' GROUP BY ALL").to_arrow_table()
        check = sum(v for v in totals.column("total").to_pylist() if v is not None)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"kind": kind, "seconds": seconds, "peak": peak, "check": check,
                      "period": period}))


def measure(kind: str, folder: Path) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--child", kind, str(folder)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000_000)
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--sql", action="store_true",
                        help="also the sql engine on SQLite and a DuckDB file, beside each "
                             "database's own SQL")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    sys.path.insert(0, str(HERE))
    from machine import describe

    print(describe("duckdb", "pyarrow"))
    folder = HERE / "_data" / f"facts-{args.rows}-{args.accounts}"
    start = time.perf_counter()
    generate(folder, args.rows, args.accounts)
    size = (folder / "facts.parquet").stat().st_size
    print(f"data: {args.rows:,} fact rows, {args.accounts:,} accounts, "
          f"{size / 2**30:.2f} GiB Parquet ({time.perf_counter() - start:.0f} s to make or "
          "find)")
    base = measure("duckdb", folder)
    kam = measure("kam", folder)
    same = abs(base["check"] - kam["check"]) <= 1e-9 * abs(base["check"])
    print("| run | period | wall | peak RSS |\n|---|---|---:|---:|")
    for name, m in (("DuckDB SQL alone: per-account totals of the month", base),
                    ("kam rollup --engine duckdb: accounts, checks, totals, tree", kam)):
        print(f"| {name} | {m['period']} | {m['seconds']:.1f} s | {m['peak'] / 2**20:,.0f} MB |")
    print(f"ratio kam / DuckDB SQL: {kam['seconds'] / base['seconds']:.1f}x; "
          f"grand totals equal: {same}")
    if args.sql:
        start = time.perf_counter()
        databases(folder)
        print(f"databases made or found in {time.perf_counter() - start:.0f} s")
        print("| run | period | wall | peak RSS |\n|---|---|---:|---:|")
        for own, kam_kind, label in (("sqlite", "kam-sqlite", "SQLite"),
                                     ("duckdb-file", "kam-duckdb-file", "DuckDB file")):
            base, kam = measure(own, folder), measure(kam_kind, folder)
            same = abs(base["check"] - kam["check"]) <= 1e-9 * abs(base["check"])
            for name, m in ((f"{label}'s own SQL: per-account totals of the month", base),
                            (f"kam rollup --engine sql on {label}", kam)):
                print(f"| {name} | {m['period']} | {m['seconds']:.1f} s | "
                      f"{m['peak'] / 2**20:,.0f} MB |")
            print(f"ratio on {label}: {kam['seconds'] / base['seconds']:.1f}x; grand totals "
                  f"equal: {same}")


if __name__ == "__main__":
    main()
