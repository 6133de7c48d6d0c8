"""What ``kam import`` wrote for a set of exports, kept so a rewrite can prove it writes the same.

Each case runs ``kam import`` in a scratch folder with its inputs copied under fixed names (the
paths in the report and crm.yaml are then the same on every machine) and collects every file
of the workspace, the report in both formats, the summary on stderr and the exit code. The
outputs of the importer as it was before the columnar rewrite (main at d12cea7) are stored in
``tests/data/import_golden/``; a large case is stored as SHA-256 digests.

    PYTHONPATH=<old checkout>/src python tests/import_golden.py --write    # record them
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "data" / "import_golden"
CRM = ROOT / "tests" / "data" / "crm"
EXAMPLES = ROOT / "examples" / "crm"

#: (case name, {name in the scratch folder: source file}, import arguments after ``kam import``)
Case = tuple[str, dict[str, Path], list[str]]


def cases() -> Iterator[Case]:
    sf, ex = CRM / "salesforce", EXAMPLES / "salesforce"
    yield ("sf-accounts", {"Account.csv": sf / "Account.csv"},
           ["salesforce", "Account.csv"])
    yield ("sf-users-team", {"Account.csv": sf / "Account.csv", "User.csv": sf / "User.csv",
                             "Team.csv": sf / "AccountTeamMember.csv"},
           ["salesforce", "Account.csv", "--users", "User.csv", "--team", "Team.csv"])
    yield ("sf-tier-from", {"Account.csv": sf / "Account.csv", "User.csv": sf / "User.csv"},
           ["salesforce", "Account.csv", "--users", "User.csv", "--tier-from", "Type",
            "--tier-map", "Customer - Direct=key", "--country", "Phillippines=PH",
            "--currency", "EUR", "--key-revenue", "1000000"])
    yield ("sf-excel-de", {"Account.csv": sf / "Account-excel-de.csv"},
           ["salesforce", "Account.csv"])
    yield ("sf-example", {"Account.csv": ex / "Account.csv", "User.csv": ex / "User.csv",
                          "Team.csv": ex / "AccountTeamMember.csv"},
           ["salesforce", "Account.csv", "--users", "User.csv", "--team", "Team.csv"])
    yield ("hubspot", {"companies.csv": CRM / "hubspot" / "companies.csv",
                       "owners.csv": CRM / "hubspot" / "owners.csv"},
           ["hubspot", "companies.csv", "--owners", "owners.csv"])
    yield ("generic", {"accounts.csv": CRM / "generic" / "accounts.csv",
                       "people.csv": CRM / "generic" / "people.csv",
                       "map.yaml": CRM / "generic" / "map.yaml"},
           ["csv", "accounts.csv", "--people", "people.csv", "--map", "map.yaml"])
    team = EXAMPLES / "sales-team"
    yield ("sales-team", {"accounts.csv": team / "accounts.csv",
                          "people.csv": team / "sales_teams.csv", "map.yaml": team / "map.yaml"},
           ["csv", "accounts.csv", "--people", "people.csv", "--map", "map.yaml"])


def run_case(case: Case, scratch: Path, *, extra: list[str] | None = None) -> dict[str, str]:
    """Every output of one import, by name (file contents, ``stderr``, ``exit``)."""
    from click.testing import CliRunner

    from kamcore.cli.app import make_cli
    from kamcore.plugins import get_plugin_manager

    _name, files, args = case
    scratch.mkdir(parents=True, exist_ok=True)
    for target, source in files.items():
        shutil.copyfile(source, scratch / target)
    out: dict[str, str] = {}
    here = os.getcwd()
    os.chdir(scratch)
    try:
        for fmt in ("md", "json"):
            done = CliRunner().invoke(make_cli(get_plugin_manager(load_entrypoints=False)),
                                      ["import", *args, "-o", f"ws-{fmt}", "--report", fmt,
                                       *(extra or [])])
            out[f"exit-{fmt}"] = str(done.exit_code)
            out[f"stderr-{fmt}"] = done.output
            folder = scratch / f"ws-{fmt}"
            for path in sorted(folder.glob("*")) if folder.exists() else []:
                text = path.read_text(encoding="utf-8")
                if path.name == "kam.yaml":  # the stamp says when
                    text = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", "STAMP", text)
                out[f"{fmt}/{path.name}"] = text
    finally:
        os.chdir(here)
    return out


def digests(outputs: dict[str, str]) -> dict[str, str]:
    return {k: hashlib.sha256(v.encode("utf-8")).hexdigest() for k, v in outputs.items()}


def big_case(size: int, folder: Path) -> Case:
    """A generated Salesforce export (``benchmarks/import_bench.py``'s shape) of ``size``."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from import_bench import generate

    generate(folder, size)
    return (f"generated-{size}", {"Account.csv": folder / "Account.csv",
                                  "User.csv": folder / "User.csv"},
            ["salesforce", "Account.csv", "--users", "User.csv"])


def write() -> None:
    import tempfile

    GOLDEN.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for case in cases():
            outputs = run_case(case, Path(tmp) / case[0])
            (GOLDEN / f"{case[0]}.json").write_text(
                json.dumps(outputs, indent=1, ensure_ascii=False, sort_keys=True) + "\n",
                encoding="utf-8")
        case = big_case(10_000, Path(tmp) / "gen")
        outputs = run_case(case, Path(tmp) / case[0])
        (GOLDEN / f"{case[0]}.json").write_text(
            json.dumps(digests(outputs), indent=1, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write()
