"""Time benchmark: trees as of a day and as-was rollups over 8 quarters, with 1M history rows.

Run from the repository root::

    .venv/bin/python benchmarks/history.py                 # 100k accounts, 1M history rows
    .venv/bin/python benchmarks/history.py --accounts 10000 --rows 100000

The org comes from ``benchmarks/orggen.py`` (valid under every core rule) with facts for 8
quarters (2025Q1..2026Q4, revenue) and a history.csv in which every regular account changes
parent (among the key accounts of its national account, so no loops) and every account changes
manager, in consecutive non-overlapping rows from 2024 to 2026. The baseline, measured in the
same run on the same org without history.csv: today's rollup of the same 8 quarters (one
column per quarter, ``kamcore.rollup(..., by_period=True)``). Every figure is the best of
``--repeat`` rounds in this process (each round runs every job once), wall time and
CPU time (all threads) apart.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from machine import describe
from orggen import generate

ROOT = Path(__file__).resolve().parent
DATA = ROOT / "_data"
QUARTERS = [f"{y}Q{q}" for y in (2025, 2026) for q in (1, 2, 3, 4)]
PERIODS = "2025Q1..2026Q4"


def write_org(n: int, rows: int) -> tuple[Path, Path]:
    """Two copies of one org: with and without history.csv (written once, reused)."""
    base = DATA / f"history_{n}_{rows}"
    plain, dated = base / "plain", base / "dated"
    if (dated / "history.csv").exists():
        return plain, dated
    for folder in (plain, dated):
        generate(folder, n)
        (folder / "fx.csv").write_text("currency,period,rate\n" + "".join(
            f"{c},*,{r}\n" for c, r in (("USD", 0.9), ("GBP", 1.15), ("JPY", 0.006),
                                         ("BRL", 0.17), ("CAD", 0.67))))
    ids, tiers, parents, managers = [], [], [], []
    for line in (plain / "accounts.csv").read_text().splitlines()[1:]:
        cells = line.split(",")
        ids.append(cells[0])
        tiers.append(cells[2])
        parents.append(cells[3])
        managers.append(cells[4])
    rng = np.random.default_rng(13)
    facts = ["account,period,metric,value"]
    values = rng.integers(0, 100000, size=(len(ids), len(QUARTERS)))
    for q, quarter in enumerate(QUARTERS):
        facts += [f"{a},{quarter},revenue,{v}" for a, v in zip(ids, values[:, q], strict=True)]
    text = "\n".join(facts) + "\n"
    for folder in (plain, dated):
        (folder / "facts.csv").write_text(text)
    (dated / "history.csv").write_text(_history(ids, tiers, parents, managers, rows, rng))
    return plain, dated


def _history(ids: list[str], tiers: list[str], parents: list[str], managers: list[str],
             rows: int, rng: np.random.Generator) -> str:
    """About ``rows`` rows: parent changes of regular accounts, manager changes of all."""
    keys_of: dict[str, list[str]] = {}
    for aid, tier, parent in zip(ids, tiers, parents, strict=True):
        if tier == "key":
            keys_of.setdefault(parent, []).append(aid)
    national_of = {aid: parent for aid, tier, parent in zip(ids, tiers, parents, strict=True)
                   if tier == "key"}
    people = sorted(set(managers))
    regular = [i for i, t in enumerate(tiers) if t == "regular"]
    per_pair = max(2, rows // (len(ids) + len(regular)))
    days = np.arange(np.datetime64("2024-01-01"), np.datetime64("2026-12-31"))
    out = ["record,field,value,valid_from,valid_to,entry"]

    def spans() -> list[tuple[str, str]]:
        cuts = np.sort(rng.choice(len(days), size=per_pair - 1, replace=False))
        edges = [""] + [str(days[c]) for c in cuts] + [""]
        return list(itertools.pairwise(edges))

    parent_of = dict(zip(ids, parents, strict=True))
    for i in regular:
        key = parents[i]
        while key not in national_of:  # nested regular accounts: up to their key account
            key = parent_of[key]
        pool = keys_of[national_of[key]]
        for start, end in spans():
            out.append(f"{ids[i]},parent,{pool[rng.integers(len(pool))]},{start},{end},")
    for aid in ids:
        for start, end in spans():
            out.append(f"{aid},manager,{people[rng.integers(len(people))]},{start},{end},")
    return "\n".join(out) + "\n"


def best(jobs: list[Callable[[], object]], repeat: int) -> list[tuple[float, float]]:
    """Per job, the best wall time and the best CPU time (every thread of the process) of
    ``repeat`` rounds. Each round runs every job once, so a burst of load from other jobs on
    the machine falls on all of them alike; CPU time moves less than wall time under load."""
    walls = [[0.0] * repeat for _ in jobs]
    cpus = [[0.0] * repeat for _ in jobs]
    for round_ in range(repeat):
        for j, fn in enumerate(jobs):
            start, cpu = time.perf_counter(), time.process_time()
            fn()
            walls[j][round_] = time.perf_counter() - start
            cpus[j][round_] = time.process_time() - cpu
    return [(min(w), min(c)) for w, c in zip(walls, cpus, strict=True)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT.parent / "src"))
    import kamcore
    from kamcore.plugins import get_plugin_manager
    from kamcore.registry import registry_for
    from kamcore.structure import account_index
    from kamcore.workspace.tables import read_workspace

    plain, dated = write_org(args.accounts, args.rows)
    history_rows = sum(1 for _ in (dated / "history.csv").open()) - 1
    registry = registry_for(get_plugin_manager(load_entrypoints=False))

    def today(folder: Path) -> object:
        return kamcore.rollup(folder, ["revenue"], period=PERIODS, by_period=True,
                              registry=registry)

    def as_of_tree() -> object:
        tables = read_workspace(dated, registry=registry, as_of="2025-06-30")
        return account_index(tables).parent  # the tree of that day, linked

    def as_was() -> object:
        return kamcore.rollup(dated, ["revenue"], period=PERIODS, hierarchy="as-was",
                              registry=registry)

    load_before = os.getloadavg()[0]
    # the answers first: as-was differs from today's tree where accounts moved
    restated = today(dated)
    was = as_was()
    assert restated.table.num_rows == was.table.num_rows
    labels = ["today's rollup, 8 quarters (baseline, no history.csv)",
              "today's rollup, 8 quarters, history.csv applied as of today",
              "as-of tree (read, history applied as of 2025-06-30, linked)",
              "as-was rollup, 8 quarters (each on the tree at its end)"]
    figures = list(zip(labels, best([lambda: today(plain), lambda: today(dated), as_of_tree,
                                     as_was], args.repeat), strict=True))
    baseline = figures[0][1]
    print(f"{args.accounts:,} accounts, {history_rows:,} history rows, "
          f"{args.accounts * len(QUARTERS):,} fact rows; best of {args.repeat}; load average "
          f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after")
    print(describe("pyarrow", "numpy"))
    print()
    print("| job | wall | x baseline | CPU | x baseline |")
    print("|---|---:|---:|---:|---:|")
    for label, (wall, cpu) in figures:
        print(f"| {label} | {wall:.2f} s | {wall / baseline[0]:.2f}x | {cpu:.2f} s | "
              f"{cpu / baseline[1]:.2f}x |")


if __name__ == "__main__":
    main()
