"""Plan files at scale: a 10,000-line plan on a 100,000-account org, against `kam validate`.

The org is `orggen.py`'s (valid, built-in rules only). The plan (`make_plan`) hires a new
account manager beside each existing one and a new KAM for each of 50 KAMs who leave, hands 60%
of the remaining lines' regular accounts to the new AMs (`assign`), moves the other 40% under
another key account of the same national account (`move`), and ends with the 50 `leave` lines
(each book to the new KAM). Every line is valid, so the plan adds no error and `apply` writes
it.

Each command runs as a fresh `kam` process (`--no-plugins`; with `--plugins`, every installed
plugin loaded as a new user has them, validate too); the figures are the best wall time
and the best CPU time (user + system) of `--repeat` runs, and the verdict is judged on the CPU
ratio (on a shared machine wall times move by 2x between runs). Baseline in the same run:
`kam validate` on the same org. `kam plan apply` runs on a fresh copy of the org each time (it
writes), and its time includes the hand-over briefs (`--no-briefs` is measured too).

    python benchmarks/plan_bench.py                 # 100k accounts, 10k lines, best of 3
    python benchmarks/plan_bench.py --size 10000 --lines 1000 --repeat 1
    python benchmarks/plan_bench.py --plugins       # the industry plugins loaded
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

from machine import describe

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data"
KAM = [sys.executable, "-c", "from kamcore.cli.app import main; main()"]


def make_plan(folder: Path, lines: int, seed: int = 7) -> Path:
    """A valid plan of ``lines`` lines on the orggen org in ``folder`` (see the module doc)."""
    import csv

    rng = random.Random(seed)
    with open(folder / "accounts.csv", newline="") as handle:
        accounts = list(csv.DictReader(handle))
    with open(folder / "people.csv", newline="") as handle:
        people = list(csv.DictReader(handle))
    national_of: dict[str, str] = {}
    keys_of: dict[str, list[str]] = {}
    for row in accounts:
        if row["tier"] == "national":
            national_of[row["id"]] = row["id"]
        elif row["parent"] in national_of:
            national_of[row["id"]] = national_of[row["parent"]]
        if row["tier"] == "key":
            keys_of.setdefault(national_of[row["id"]], []).append(row["id"])
    regulars = [r for r in accounts if r["tier"] == "regular"]
    kams = [p for p in people if p["role"] == "kam"]
    ams = [p for p in people if p["role"] == "am"]
    n_leaves = min(len(kams), 50 if lines >= 1000 else max(1, lines // 100))
    # a new AM beside each existing one, and a new KAM for each KAM who leaves
    am_hires = {am["id"]: (f"AM-NEW-{i}", am["reports_to"]) for i, am in enumerate(ams)}
    kam_hires = {kam["id"]: (f"KAM-NEW-{i}", kam["reports_to"])
                 for i, kam in enumerate(kams[:n_leaves])}
    out = ["lines:"]
    for role, hires in (("am", am_hires), ("kam", kam_hires)):
        for pid, boss in hires.values():
            out.append(f"  - {{op: hire, id: {pid}, name: New {pid}, role: {role}, "
                       f"reports_to: {boss}, capacity: 100000}}")
    rest = lines - len(am_hires) - 2 * len(kam_hires)
    n_assign = rest * 6 // 10
    picked = rng.sample(regulars, rest)
    for row in picked[:n_assign]:  # to the new colleague of its account manager
        out.append(f"  - {{op: assign, id: {row['id']}, to: {am_hires[row['manager']][0]}}}")
    for row in picked[n_assign:]:
        # under another key account of the same national account: a regular's own
        # subtree holds only regulars, so a key account is never below it
        options = [k for k in keys_of[national_of[row["id"]]] if k != row["parent"]]
        target = rng.choice(options) if options else row["parent"]
        out.append(f"  - {{op: move, id: {row['id']}, to: {target}}}")
    for leaver, (successor, _) in kam_hires.items():
        out.append(f"  - {{op: leave, id: {leaver}, to: {successor}}}")
    path = folder.parent / f"plan-{folder.name}-{lines}.yaml"
    path.write_text("\n".join(out) + "\n")
    from kamcore.changes.planfile import read_plan, render_plan_csv

    path.with_suffix(".csv").write_text(render_plan_csv([line.spec for line in
                                                         read_plan(path)]))
    return path


def timed(cmd: list[str], *, ok: tuple[int, ...] = (0,)) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one fresh process."""
    import resource

    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in ok:
        raise SystemExit(f"{' '.join(cmd[3:])} exited {done.returncode}: {done.stderr[-2000:]}")
    cpu = (after.ru_utime - used.ru_utime) + (after.ru_stime - used.ru_stime)
    return elapsed, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--plugins", action="store_true",
                        help="load every installed plugin (default: --no-plugins)")
    args = parser.parse_args()
    kam = KAM if args.plugins else [*KAM, "--no-plugins"]
    sys.path.insert(0, str(HERE))
    from orggen import generate

    folder = DATA / f"org-{args.size}"
    if not (folder / "accounts.csv").exists():
        generate(folder, args.size)
    plan = make_plan(folder, args.lines)
    work = DATA / f"plan-work-{args.size}"
    print(f"machine: {describe('kamcore', 'pydantic', 'pyarrow')}")
    with open("/proc/loadavg") as handle:
        print(f"load average at start: {handle.read().split()[0]}")
    print(f"org: {folder} ({args.size:,} accounts); plan: {plan.name} ({args.lines:,} lines); "
          f"{'every installed plugin' if args.plugins else '--no-plugins'}")

    def best(label: str, make_cmd: object, fresh: bool = False, ok: tuple[int, ...] = (0,)
             ) -> tuple[float, float]:
        times: list[tuple[float, float]] = []
        for _ in range(args.repeat):
            target = folder
            if fresh:
                shutil.rmtree(work, ignore_errors=True)
                shutil.copytree(folder, work)
                target = work
            times.append(timed(make_cmd(target), ok=ok))  # type: ignore[operator]
        return min(t[0] for t in times), min(t[1] for t in times)

    base = best("validate", lambda ws: [*kam, "validate", str(ws)], ok=(0, 1))
    rows = [
        ("`kam validate ORG` (baseline)", base, None),
        ("`kam plan check ORG PLAN`", best("check", lambda ws: [*kam, "plan", "check", str(ws),
                                                                str(plan)]), 3.0),
        ("`kam plan check ORG PLAN.csv` (the CSV form)",
         best("csv", lambda ws: [*kam, "plan", "check", str(ws), str(plan.with_suffix(".csv"))]),
         3.0),
        ("`kam plan check ORG PLAN --format md`",
         best("md", lambda ws: [*kam, "plan", "check", str(ws), str(plan), "--format", "md"]),
         3.0),
        ("`kam plan apply ORG PLAN --no-briefs`",
         best("apply", lambda ws: [*kam, "plan", "apply", str(ws), str(plan), "--no-briefs"],
              fresh=True), 5.0),
        ("`kam plan apply ORG PLAN` (with briefs)",
         best("apply", lambda ws: [*kam, "plan", "apply", str(ws), str(plan)], fresh=True), 5.0),
    ]
    print()
    print("| command | best wall | x validate | CPU | x validate | target | on CPU |")
    print("|---|---:|---:|---:|---:|---|---|")
    for label, (seconds, cpu), target in rows:
        ratio, cpu_ratio = seconds / base[0], cpu / base[1]
        # judged on CPU: on a shared machine the wall times move by 2x between runs
        verdict = "" if target is None else ("met" if cpu_ratio <= target else "**not met**")
        shown = "" if target is None else f"<= {target:g}x"
        print(f"| {label} | {seconds:.2f} s | {ratio:.2f}x | {cpu:.2f} s | {cpu_ratio:.2f}x | "
              f"{shown} | {verdict} |")
    with open("/proc/loadavg") as handle:
        print(f"\nload average at the end: {handle.read().split()[0]}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
