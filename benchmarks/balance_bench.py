"""`kam plan balance`'s solver against the obvious greedy heuristic, same problem, same run.

The org is `orggen.py`'s, made lopsided: every national team gets a new KAM and a new AM with
empty books (and capacity 1,000,000), the way a team looks after hiring. Each contender solves
the problem `kamcore.changes.balance` builds (same classes, capacities, national teams):

* **min-cost flow** (networkx network simplex): the solver `kam plan balance` uses, optimal for
  its objective;
* **greedy** (the baseline): repeatedly move one account from the most loaded person to the
  least loaded person allowed to take it, preferring someone already in its global account,
  while that lowers the sum of squares.

Both are scored by the same function (objective = sum of squared book sizes + 1 per account to
someone new to its global account + 0.01 per move). Times are wall clock of the solve alone,
best of `--repeat`, plus the whole `balance()` call (problem build + solve + scoring) for the flow.

    python benchmarks/balance_bench.py                  # 10k and 100k accounts, roles kam, am
    python benchmarks/balance_bench.py --sizes 10000 --roles kam
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from machine import describe

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data"


def lopsided(size: int) -> Path:
    """orggen's org of ``size`` accounts plus an idle KAM and AM in every national team."""
    import csv

    from orggen import generate

    folder = DATA / f"lopsided-{size}"
    if (folder / "accounts.csv").exists():
        return folder
    generate(folder, size)
    with open(folder / "people.csv", newline="") as handle:
        people = list(csv.DictReader(handle))
    extra = []
    for person in people:
        if person["role"] == "nam":
            extra.append(f"KAM-IDLE-{person['id']},Idle KAM,kam,{person['id']},1000000,,true")
        if person["role"] == "kam":
            extra.append(f"AM-IDLE-{person['id']},Idle AM,am,{person['id']},1000000,,true")
    with open(folder / "people.csv", "a") as handle:
        handle.write("\n".join(extra) + "\n")
    return folder


def greedy(problem):  # type: ignore[no-untyped-def]
    """Move one account at a time from the most loaded to the least loaded allowed person."""
    from kamcore.changes.balance import Move

    loads = dict(problem.load)
    pools = {key: list(accounts) for key, accounts in problem.classes.items()}
    by_holder: dict[str, list[tuple]] = {}
    for key in pools:
        by_holder.setdefault(key[0], []).append(key)
    moves = []
    while True:
        best = None
        for holder in sorted(by_holder, key=lambda p: -loads[p]):
            for key in by_holder[holder]:
                if not pools[key]:
                    continue
                _, others, top = key
                known = problem.in_global.get(top, set())
                fits = [q for q in others if loads[q] < problem.cap[q]
                        and loads[q] + 1 < loads[holder]]
                if fits:
                    target = min(fits, key=lambda q: (loads[q], q not in known, q))
                    best = (key, target)
                    break
            if best:
                break
        if best is None:
            return moves
        key, target = best
        account = pools[key].pop()
        loads[key[0]] -= 1
        loads[target] += 1
        moves.append(Move(account, key[0], target))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--roles", default="kam,am")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    import kamcore
    from kamcore.changes import balance as solver
    from kamcore.plugins import get_plugin_manager
    from kamcore.registry import registry_for

    registry = registry_for(get_plugin_manager(load_entrypoints=False))
    print(f"machine: {describe('kamcore', 'networkx', 'numpy')}")
    with open("/proc/loadavg") as handle:
        print(f"load average at start: {handle.read().split()[0]}")
    print()
    print("| accounts | role | people | movable classes | contender | solve | objective "
          "before -> after | moves | books min..max |")
    print("|---:|---|---:|---:|---|---:|---|---:|---|")
    for size in (int(s) for s in args.sizes.split(",")):
        org = kamcore.load(lopsided(size), registry=registry)
        for role in args.roles.split(","):
            start = time.perf_counter()
            proposal = solver.balance(org, role=role)
            whole = time.perf_counter() - start
            problem = solver._problem(org, solver.Role(role), None)
            timings = {"flow": [], "greedy": []}
            answers = {}
            for _ in range(args.repeat):
                start = time.perf_counter()
                flows = solver._flow(problem, solver.EPSILON)
                timings["flow"].append(time.perf_counter() - start)
                answers["flow"] = solver._moves(problem, flows)
                start = time.perf_counter()
                answers["greedy"] = greedy(problem)
                timings["greedy"].append(time.perf_counter() - start)
            before = solver._score(org, problem, [])
            for name in ("flow", "greedy"):
                after = solver._score(org, problem, answers[name])
                loads = after.loads.values()
                label = "min-cost flow (networkx)" if name == "flow" else "greedy (baseline)"
                print(f"| {size:,} | {role} | {len(problem.people)} | {len(problem.classes)} | "
                      f"{label} | {min(timings[name]):.3f} s | {before.value:,.2f} -> "
                      f"{after.value:,.2f} | {after.moves:,} | {min(loads)}..{max(loads)} |")
            print(f"| | | | | whole `balance()` (build, solve, score) | {whole:.2f} s | | "
                  f"{len(proposal.moves):,} | |")
    with open("/proc/loadavg") as handle:
        print(f"\nload average at the end: {handle.read().split()[0]}")


if __name__ == "__main__":
    main()
