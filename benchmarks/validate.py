"""Load + validate benchmark: synthetic orgs of 10k, 100k and 1M accounts.

Each size runs in a fresh child process so that its peak RSS is its own. The baseline in the
same run is reading the same accounts.csv with the standard csv module alone (the floor of any
pure-Python loader).

    python benchmarks/validate.py                 # 10k, 100k, 1M
    python benchmarks/validate.py --sizes 10000   # just one size
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from machine import describe

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data"

CHILD = r"""
import csv, json, resource, sys, time
from pathlib import Path
folder = Path(sys.argv[1])
t0 = time.perf_counter()
with open(folder / "accounts.csv", newline="") as f:
    rows = sum(1 for _ in csv.reader(f))
t_csv = time.perf_counter() - t0
import kamcore
from kamcore.plugins import get_plugin_manager
from kamcore.registry import registry_for

registry = registry_for(get_plugin_manager(load_entrypoints=False))
t0 = time.perf_counter()
org = kamcore.load(folder, registry=registry)
t_load = time.perf_counter() - t0
t0 = time.perf_counter()
findings = kamcore.validate(org)
t_validate = time.perf_counter() - t0
print(json.dumps({"accounts": len(org.accounts), "people": len(org.people),
                  "csv_floor": t_csv, "load": t_load, "validate": t_validate,
                  "findings": len(findings),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""




def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    from orggen import generate

    print(f"machine: {describe('kamcore', 'pydantic')}")
    print(f"{'accounts':>10} {'csv floor':>10} {'load':>8} {'validate':>9} {'total':>8} "
          f"{'x floor':>8} {'peak RSS':>10}")
    for size in (int(s) for s in args.sizes.split(",")):
        folder = DATA / f"org-{size}"
        if not (folder / "accounts.csv").exists():
            generate(folder, size)
        out = subprocess.run([sys.executable, "-c", CHILD, str(folder)], check=True,
                             capture_output=True, text=True).stdout
        r = json.loads(out)
        total = r["load"] + r["validate"]
        print(f"{r['accounts']:>10,} {r['csv_floor']:>9.2f}s {r['load']:>7.2f}s "
              f"{r['validate']:>8.2f}s {total:>7.2f}s {total / r['csv_floor']:>7.1f}x "
              f"{r['peak_rss_mb']:>8.0f} MB")
        if r["findings"]:
            print(f"  note: {r['findings']} findings (the generator should make a valid org)")


if __name__ == "__main__":
    main()
