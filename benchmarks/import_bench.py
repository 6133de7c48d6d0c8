"""Import benchmark: a synthetic Salesforce export (Account.csv + User.csv) of 10k and 100k
accounts, imported with ``kam import salesforce``.

Each size runs in a fresh child process (its own peak RSS). The baseline in the same run is
reading the same Account.csv with the standard csv module alone (the floor of any pure-Python
importer). Generated files go to benchmarks/_data/ (gitignored).

    python benchmarks/import_bench.py                  # 10k and 100k
    python benchmarks/import_bench.py --sizes 100000   # one size
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import subprocess
import sys
from pathlib import Path

from machine import describe

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data"
sys.path.insert(0, str(HERE.parent / "src"))

COUNTRIES = ["Germany", "DE", "France", "United Kingdom", "UK", "USA", "United States", "Japan",
             "Holland", "Spain", "Italy", "Brasil", "Canada", "India", "Australia"]
INDUSTRIES = ["Manufacturing", "manufacturing", "Health Care", "Healthcare", "Retail",
              "RETAIL", "Technology", "Food & Beverage", "Marketing & Advertising", "Banking"]
TITLES = ["Global Account Manager", "National Account Manager", "Key Account Manager",
          "Account Manager", "Account Executive", "Billing Specialist"]

CHILD = r"""
import csv, json, resource, sys, time
from pathlib import Path
folder, out = Path(sys.argv[1]), Path(sys.argv[2])
t0 = time.perf_counter()
with open(folder / "Account.csv", newline="", encoding="utf-8") as f:
    rows = sum(1 for _ in csv.reader(f))
t_csv = time.perf_counter() - t0
from kamcore.importers import ImportOptions, import_salesforce, write_import
from kamcore.plugins import get_plugin_manager
from kamcore.registry import registry_for

registry = registry_for(get_plugin_manager(load_entrypoints=False))
validate = sys.argv[3] == "validate"
t0 = time.perf_counter()
result = import_salesforce(str(folder / "Account.csv"), users=str(folder / "User.csv"),
                           options=ImportOptions(validate=validate), registry=registry)
t_build = time.perf_counter() - t0
t0 = time.perf_counter()
write_import(result, out, force=True)
t_write = time.perf_counter() - t0
print(json.dumps({"accounts": result.report.accounts, "people": result.report.people,
                  "csv_floor": t_csv, "build": t_build, "write": t_write,
                  "inferred": len(result.report.tiers),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def id18(id15: str) -> str:
    from kamcore.importers.salesforce import id18 as compute

    return compute(id15)


def generate(folder: Path, n_accounts: int, *, seed: int = 7) -> Path:
    """Account.csv and User.csv shaped like a Data Loader export: global trees over countries,
    national and key accounts, regular ones; 18-char Ids, half the ParentIds in 15-char form."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    n_users = max(20, n_accounts // 50)
    users = [f"005{i:012d}" for i in range(n_users)]
    with (folder / "User.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Id", "FirstName", "LastName", "Email", "Title", "ManagerId",
                         "IsActive"])
        for i, uid in enumerate(users):
            boss = "" if i == 0 else users[rng.randrange(0, max(1, i // 10 + 1))]
            writer.writerow([id18(uid), f"First{i}", f"Last{i}", f"user{i}@example.com",
                             "VP Sales" if i == 0 else rng.choice(TITLES), boss, "true"])
    made = 0
    with (folder / "Account.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Id", "Name", "Type", "ParentId", "OwnerId", "Industry",
                         "AnnualRevenue", "NumberOfEmployees", "BillingCity", "BillingCountry",
                         "Phone", "Website", "CurrencyIsoCode", "Description"])

        def row(parent: str | None, country: str, industry: str) -> str:
            nonlocal made
            made += 1
            aid = f"001{made:012d}"
            parent_cell = "" if parent is None else (parent if made % 2 else id18(parent))
            writer.writerow([id18(aid), f"Account {made}", "Customer - Direct", parent_cell,
                             id18(rng.choice(users)), industry,
                             rng.randrange(10_000, 50_000_000), rng.randrange(1, 5000),
                             f"City {made % 997}", country, f"+1 555 {made % 10000:04d}",
                             f"www.account{made}.example", "USD",
                             "" if made % 3 else "Renewal due; see notes, call first"])
            return aid

        while made < n_accounts:
            industry = rng.choice(INDUSTRIES)
            root = row(None, rng.choice(COUNTRIES), industry)
            for _ in range(rng.randrange(2, 6)):
                country = rng.choice(COUNTRIES)
                national = row(root, country, industry)
                for _ in range(rng.randrange(2, 8)):
                    key = row(national, country, industry)
                    for _ in range(rng.randrange(3, 25)):
                        if made >= n_accounts:
                            break
                        row(key, country, industry)
    return folder




def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    print(f"machine: {describe('kamcore')}")
    print(f"{'accounts':>9} {'csv floor':>10} {'build':>8} {'build+rules':>12} {'write':>7} "
          f"{'total':>7} {'peak RSS':>9}")
    for size in args.sizes:
        folder = DATA / f"sf-{size}"
        if not (folder / "Account.csv").exists():
            generate(folder, size)
        runs = {}
        for mode in ("plain", "validate"):
            done = subprocess.run([sys.executable, "-c", CHILD, str(folder),
                                   str(DATA / f"sf-{size}-org"), mode],
                                  capture_output=True, text=True, check=True)
            runs[mode] = json.loads(done.stdout)
        plain, full = runs["plain"], runs["validate"]
        print(f"{size:>9,} {plain['csv_floor']:>9.2f}s {plain['build']:>7.2f}s "
              f"{full['build']:>11.2f}s {plain['write']:>6.2f}s "
              f"{plain['build'] + plain['write']:>6.2f}s {plain['peak_rss_mb']:>7.0f}MB")


if __name__ == "__main__":
    main()
