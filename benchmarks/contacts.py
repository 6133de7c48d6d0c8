"""Contacts at scale: validate and coverage of an org with 3 contacts per account, against the
same org without contacts.csv (the baseline, measured in the same run).

The org comes from ``orggen.py`` (valid under every core rule); contacts.csv gets a primary
decision-maker, a champion and a user per account, owned by the account's manager (valid under
every contact rule). A third side holds the same contacts as contacts.parquet (its columnar
form, docs/contacts.md): each form's ratio is reported on its own line. Each size and each
side runs in a fresh child process, so peak memory is its own. What is timed is what ``kam
validate`` and ``kam coverage`` run: the one reader (``read_workspace``) and then the
table-form rules; or coverage's read (the contacts without the columns coverage does not look
at) and the coverage over those tables. Then each side runs ``kam validate ORG`` and ``kam
coverage ORG`` as a user does, each in a process of its own (start-up, imports, the printed
report and exit included; built-in rules only, ``KAM_LOAD_PLUGINS=""``, as in the child), and
those wall and CPU times are reported with their own ratios.

    python benchmarks/contacts.py                      # 100k and 1M accounts
    python benchmarks/contacts.py --sizes 100000       # one size
    python benchmarks/contacts.py --sizes 1000000 --repeat 3   # medians of 3 alternating runs
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from machine import describe

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data"

CHILD = r"""
import json, os, resource, sys, time
from kamcore.changes.coverage import coverage
from kamcore.contacts import COVERAGE_COLUMNS
from kamcore.plugins import get_plugin_manager
from kamcore.registry import registry_for
from kamcore.validation import validate_tables
from kamcore.workspace.tables import read_workspace

registry = registry_for(get_plugin_manager(load_entrypoints=False))
import numpy, pyarrow.compute  # imported before timing: both sides pay them once, untimed


system = {}


def timed(job, name):
    wall, cpu, kernel = time.perf_counter(), time.process_time(), os.times().system
    result = job()
    system[name] = os.times().system - kernel  # page faults mostly: the VM's share
    return result, time.perf_counter() - wall, time.process_time() - cpu


tables, t_read, c_read = timed(lambda: read_workspace(sys.argv[1], registry=registry), "read")
tables.require_readable()
findings, t_validate, c_validate = timed(lambda: validate_tables(tables), "validate")
del tables


def read_and_cover():
    covered = read_workspace(sys.argv[1], registry=registry, contact_columns=COVERAGE_COLUMNS)
    covered.require_readable()
    return covered, coverage(covered)


(tables, gaps), t_coverage, c_coverage = timed(read_and_cover, "coverage")
print(json.dumps({"accounts": len(tables.accounts),
                  "contacts": len(tables.contacts) if tables.contacts is not None else 0,
                  "read": t_read, "validate": t_validate, "coverage": t_coverage,
                  "cpu_read": c_read, "cpu_validate": c_validate, "cpu_coverage": c_coverage,
                  **{"sys_" + name: value for name, value in system.items()},
                  "findings": len(findings), "gaps": gaps.gaps,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def write_contacts(folder: Path, per_account: int = 3) -> int:
    """contacts.csv for the org in ``folder``: ``per_account`` contacts per account, built
    column by column with pyarrow (3M rows in seconds)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    from pyarrow import csv as pacsv

    accounts = pacsv.read_csv(folder / "accounts.csv", convert_options=pacsv.ConvertOptions(
        include_columns=["id", "manager"], column_types={"id": pa.string(),
                                                         "manager": pa.string()}))
    ids, managers = accounts.column("id"), accounts.column("manager")
    roles = ["decision-maker", "champion", "user", "influencer", "billing", "procurement"]
    titles = ["Chief Procurement Officer", "Head of Operations", "Buyer", "Engineer",
              "Finance Manager", "Purchasing Lead"]
    parts = []
    for k in range(per_account):
        contact_id = pc.binary_join_element_wise("C", ids, f"-{k}", "")
        boss = (pa.nulls(len(ids), pa.string()) if k == 0
                else pc.binary_join_element_wise("C", ids, "-0", ""))
        parts.append(pa.table({
            "id": contact_id, "account": ids,
            "name": pc.binary_join_element_wise("Contact ", contact_id, ""),
            "title": pa.array(np.full(len(ids), titles[k % len(titles)]), pa.string()),
            "role": pa.array(np.full(len(ids), roles[k % len(roles)]), pa.string()),
            "reports_to": boss,
            "email": pc.binary_join_element_wise(contact_id, "@customer.example", ""),
            "phone": pa.array(np.full(len(ids), "+49 30 555000"), pa.string()),
            "primary": pa.array(np.full(len(ids), "true" if k == 0 else "false"), pa.string()),
            "owner": managers,
            "last_contact": pa.nulls(len(ids), pa.string())}))
    table = pa.concat_tables(parts)
    pacsv.write_csv(table, folder / "contacts.csv",
                    write_options=pacsv.WriteOptions(quoting_style="needed"))
    return int(table.num_rows)


def write_parquet(source: Path, target: Path) -> None:
    """``target``/contacts.parquet: ``source``/contacts.csv's cells as written (every column
    text), as docs/contacts.md converts it (pyarrow's default Parquet: snappy)."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from pyarrow import csv as pacsv

    names = (source / "contacts.csv").open(encoding="utf-8").readline().strip().split(",")
    table = pacsv.read_csv(source / "contacts.csv", convert_options=pacsv.ConvertOptions(
        column_types=dict.fromkeys((n.strip('"') for n in names), pa.string())))
    pq.write_table(table, target / "contacts.parquet")


def twin(source: Path, target: Path) -> None:
    """``target``: the same workspace files as ``source`` (hard links), and contacts.csv."""
    target.mkdir(parents=True, exist_ok=True)
    for name in ("kam.yaml", "accounts.csv", "people.csv"):
        link = target / name
        if not link.exists():
            os.link(source / name, link)


#: ``kam`` as its console script runs it, with this interpreter and its ``sys.path`` (so the
#: code measured is the code the child above imports)
KAM = "import sys; sys.argv[0] = 'kam'; from kamcore.cli.app import main; main()"


def run(folder: Path) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", CHILD, str(folder)], check=True,
                         capture_output=True, text=True).stdout
    result: dict[str, float] = json.loads(out)
    for name in ("validate", "coverage"):
        (result[f"kam_{name}"], result[f"cpu_kam_{name}"],
         result[f"sys_kam_{name}"]) = command(name, folder)
    for key in [key for key in result if key.startswith("sys_")]:
        # user CPU: the code's own work; the system part is mostly page faults, whose cost
        # on this VM varies between runs of the same command by as much as 10x
        result["user_" + key[4:]] = result["cpu_" + key[4:]] - result[key]
    return result


def command(name: str, folder: Path) -> tuple[float, float, float]:
    """Wall, CPU (user + system, its threads included) and system time of ``kam NAME
    FOLDER`` in a process of its own; exit 0 or 1 (findings) is a run, anything else stops
    the benchmark."""
    import resource
    import time

    env = {**os.environ, "KAM_LOAD_PLUGINS": ""}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", KAM, name, str(folder)], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise SystemExit(f"kam {name} {folder} exited {done.returncode}: {done.stderr[-2000:]}")
    kernel = after.ru_stime - before.ru_stime
    return wall, after.ru_utime - before.ru_utime + kernel, kernel


def median_of(results: list[dict[str, float]]) -> dict[str, float]:
    """Each figure's median over the runs of one side."""
    import statistics

    counts = ("accounts", "contacts", "findings", "gaps")  # the same in every run
    return {key: results[0][key] if key in counts else statistics.median(r[key] for r in results)
            for key in results[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run each side this many times, alternating, and report the "
                             "median of each figure (a shared machine's load drifts)")
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    from orggen import generate

    print(f"machine: {describe('kamcore', 'pyarrow')}")
    print("times: wall (CPU in brackets: the CPU time of the process, its threads included; "
          "on a shared machine the CPU time is the steadier figure)")
    print(f"{'accounts':>10} {'contacts':>10} {'side':>8} {'read':>14} {'rules':>14} "
          f"{'read+rules':>14} {'coverage':>14} {'peak RSS':>9}")
    for size in (int(s) for s in args.sizes.split(",")):
        plain = DATA / f"org-{size}"
        if not (plain / "accounts.csv").exists():
            generate(plain, size)
        with_contacts = DATA / f"org-{size}-contacts"
        twin(plain, with_contacts)
        if not (with_contacts / "contacts.csv").exists():
            write_contacts(with_contacts)
        with_parquet = DATA / f"org-{size}-contacts-parquet"  # the same contacts, columnar
        twin(plain, with_parquet)
        if not (with_parquet / "contacts.parquet").exists():
            write_parquet(with_contacts, with_parquet)
        folders = {"without": plain, "csv": with_contacts, "parquet": with_parquet}
        runs: dict[str, list[dict[str, float]]] = {side: [] for side in folders}
        for _ in range(args.repeat):  # alternating, so every side sees the same drift
            for side, folder in folders.items():
                runs[side].append(run(folder))
        sides = {side: median_of(results) for side, results in runs.items()}
        for side, r in sides.items():
            def cell(wall: float, cpu: float) -> str:
                return f"{wall:5.1f}s ({cpu:4.1f}s)"

            print(f"{r['accounts']:>10,} {r['contacts']:>10,} {side:>8} "
                  f"{cell(r['read'], r['cpu_read']):>14} "
                  f"{cell(r['validate'], r['cpu_validate']):>14} "
                  f"{cell(r['read'] + r['validate'], r['cpu_read'] + r['cpu_validate']):>14} "
                  f"{cell(r['coverage'], r['cpu_coverage']):>14} {r['peak_rss_mb']:>7.0f} MB")
            if r["findings"] or r["gaps"]:
                print(f"  note: {r['findings']} findings, {r['gaps']} coverage gaps")
            print(f"  system CPU: read + rules {r['sys_read'] + r['sys_validate']:.2f}s, "
                  f"coverage {r['sys_coverage']:.2f}s")
        base = sides["without"]
        for form in ("csv", "parquet"):
            contacts = sides[form]
            for clock, prefix in (("wall", ""), ("CPU", "cpu_"), ("user CPU", "user_")):
                validate = ((contacts[prefix + "read"] + contacts[prefix + "validate"])
                            / (base[prefix + "read"] + base[prefix + "validate"]))
                cover = contacts[prefix + "coverage"] / base[prefix + "coverage"]
                print(f"  ratio contacts.{form}/without ({clock}): validate (read + rules) "
                      f"{validate:.2f}x, coverage (read + gaps) {cover:.2f}x  "
                      "(target: within 2x)")
        print("\n  the commands as a user runs them (a process each, start-up to exit), wall "
              "(CPU):")
        for side, r in sides.items():
            print(f"  {side:>8}: kam validate {r['kam_validate']:5.2f}s "
                  f"({r['cpu_kam_validate']:4.2f}s, system {r['sys_kam_validate']:4.2f}s), "
                  f"kam coverage {r['kam_coverage']:5.2f}s ({r['cpu_kam_coverage']:4.2f}s, "
                  f"system {r['sys_kam_coverage']:4.2f}s)")
        for form in ("csv", "parquet"):
            ratios = ", ".join(
                f"{name} {sides[form][prefix + name] / base[prefix + name]:.2f}x {clock}"
                for name in ("kam_validate", "kam_coverage")
                for clock, prefix in (("wall", ""), ("CPU", "cpu_"), ("user CPU", "user_")))
            print(f"  ratio contacts.{form}/without: {ratios.replace('kam_', 'kam ')}")

if __name__ == "__main__":
    main()
