"""One truth at scale (issue 9): every kam command on a Salesforce-shaped org of 1M accounts,
beside DuckDB doing the core structural checks and the nine-column rollup on the same files.

Run from the repository root (DuckDB is a benchmark-only dependency, ``pip install -e .[bench]``)::

    .venv/bin/python benchmarks/scale.py                        # 1,000,000 accounts
    .venv/bin/python benchmarks/scale.py --sizes 100000,1000000
    .venv/bin/python benchmarks/scale.py --plugins              # load every installed plugin
    .venv/bin/python benchmarks/scale.py --commit 563c272 --reimport   # a fixed commit

Per size: ``benchmarks/import_bench.py``'s generator writes a Salesforce Data Loader export
(Account.csv, User.csv; 18-character Ids) to ``benchmarks/_data/sf-N/`` (gitignored, reused), and
``kam import salesforce`` (timed, with its report) turns it into the workspace under test,
``benchmarks/_data/scale-N/ws`` (kept; ``--reimport`` replaces it with this run's import). Every
command then runs as a fresh process; wall time is taken around the process, peak RSS from
``/usr/bin/time`` (else ``getrusage(RUSAGE_CHILDREN)`` of a fresh wrapper per run). A command
over ``--timeout`` seconds or ``--limit-gb`` of resident memory (whole process tree, polled) is
killed and recorded as such. Each measurement is the best wall (largest RSS) of ``--repeat``
runs; a run over 30 s is not repeated.

Baselines in the same run, each a fresh ``python -c`` with embedded DuckDB reading the
workspace's own accounts.csv and people.csv:

* structural checks: duplicate ids, parents and managers that do not exist, missing managers,
  tier order, manager role fits tier (and support staff as manager), accounts not reachable
  from a root (cycles), as counts;
* the nine-column rollup: id, name, tier, manager, manager_name, parent, depth, revenue,
  revenue_total (recursive CTE over the ancestor closure), written to CSV.

Then, untimed: DuckDB's counts are compared with ``kam validate``'s findings per code, DuckDB's
rollup with ``kam rollup``'s row by row, and the roots' revenue_total with the total revenue;
the checks also run on a small valid org from ``orggen.py``, where every count must be zero.

The big commands run with ``KAM_LOAD_PLUGINS=""`` (built-in rules only) unless ``--plugins``;
``kam --help`` and ``kam validate examples/acme`` run as a new user runs them (plugins loaded).
``--commit REV`` measures a ``git archive`` snapshot of REV (first on PYTHONPATH) instead of
the working tree, so edits to the tree during a long run cannot change what is measured.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from machine import describe

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DATA = HERE / "_data"
KAM = str(Path(sys.executable).with_name("kam"))
TIME = "/usr/bin/time" if Path("/usr/bin/time").exists() else None
NO_REPEAT_AFTER = 30.0  # seconds: one run of a command this slow is enough

# ---------------------------------------------------------------------------------------------
# DuckDB baselines (each runs in a fresh ``python -c``; argv: accounts.csv, people.csv, out)

CHILD = """
import json, sys, duckdb
acc, ppl, out = sys.argv[1:4]
con = duckdb.connect()
"""
# Each job reads only the columns it uses (DuckDB's reader skips the rest).
READ_CHECKS = CHILD + """
con.execute(f"CREATE TABLE a AS SELECT id, tier, parent, manager FROM read_csv('{acc}', "
            f"header=true, all_varchar=true)")
con.execute(f"CREATE TABLE p AS SELECT id, role FROM read_csv('{ppl}', header=true, "
            f"all_varchar=true)")
"""
READ_ROLLUP = CHILD + """
con.execute(f"CREATE TABLE a AS SELECT id, name, tier, parent, manager, "
            f"TRY_CAST(revenue AS DOUBLE) AS revenue FROM read_csv('{acc}', header=true, "
            f"all_varchar=true)")
con.execute(f"CREATE TABLE p AS SELECT id, name FROM read_csv('{ppl}', header=true, "
            f"all_varchar=true)")
"""

CHECKS_SQL = """
WITH RECURSIVE
ranked AS (
  SELECT id, parent, CASE tier WHEN 'global' THEN 0 WHEN 'national' THEN 1 WHEN 'key' THEN 2
                               WHEN 'regular' THEN 3 END AS rank FROM a),
reach(id) AS (
  SELECT a.id FROM a ANTI JOIN a b ON a.parent = b.id
  UNION ALL
  SELECT a.id FROM a JOIN reach ON a.parent = reach.id)
SELECT
  (SELECT count(*) FROM a) AS accounts,
  (SELECT count(*) FROM p) AS people,
  (SELECT count(*) - count(DISTINCT id) FROM a) AS duplicate_account_ids,
  (SELECT count(*) - count(DISTINCT id) FROM p) AS duplicate_person_ids,
  (SELECT count(*) FROM a ANTI JOIN a b ON a.parent = b.id
   WHERE a.parent IS NOT NULL) AS unknown_parent,
  (SELECT count(*) FROM a WHERE manager IS NULL AND tier <> 'regular') AS missing_manager,
  (SELECT count(*) FROM a ANTI JOIN p ON a.manager = p.id
   WHERE a.manager IS NOT NULL) AS unknown_manager,
  (SELECT count(*) FROM ranked c JOIN ranked q ON c.parent = q.id
   WHERE c.rank <= q.rank AND NOT (c.rank = 3 AND q.rank = 3)) AS tier_order,
  (SELECT count(*) FROM a JOIN p ON a.manager = p.id
   WHERE p.role <> 'support' AND NOT (
     (a.tier = 'global' AND p.role = 'gam')
     OR (a.tier = 'national' AND p.role IN ('vp', 'director', 'gam', 'nam'))
     OR (a.tier = 'key' AND p.role IN ('vp', 'director', 'gam', 'nam', 'kam'))
     OR a.tier = 'regular')) AS role_fits_tier,
  (SELECT count(*) FROM a JOIN p ON a.manager = p.id
   WHERE p.role = 'support') AS support_as_manager,
  (SELECT count(*) FROM a) - (SELECT count(*) FROM reach) AS not_reachable_from_a_root
"""

CHECKS_CHILD = READ_CHECKS + f"""
names = [d[0] for d in con.execute('''{CHECKS_SQL}''').description]
row = con.fetchone()
json.dump(dict(zip(names, row)), open(out, "w"))
"""

# Subtree totals over the ancestor closure, depth top-down from the roots (of the variants
# tried, the fastest: one closure for the totals, depth by a second, narrow recursion).
ROLLUP_SQL = """
COPY (
  WITH RECURSIVE
  anc(id, anc) AS (
    SELECT id, id FROM a
    UNION ALL
    SELECT anc.id, a.parent FROM anc JOIN a ON a.id = anc.anc WHERE a.parent IS NOT NULL),
  total AS (
    SELECT anc.anc AS id, sum(a.revenue) AS revenue_total FROM anc JOIN a USING (id)
    GROUP BY anc.anc),
  down(id, depth) AS (
    SELECT id, 0 FROM a WHERE parent IS NULL
    UNION ALL
    SELECT a.id, down.depth + 1 FROM a JOIN down ON a.parent = down.id)
  SELECT a.id, a.name, a.tier, a.manager, p.name AS manager_name, a.parent, down.depth,
         a.revenue, total.revenue_total
  FROM a JOIN down USING (id) JOIN total USING (id) LEFT JOIN p ON p.id = a.manager
) TO '{out}' (HEADER)
"""

ROLLUP_CHILD = READ_ROLLUP + """
con.execute('''""" + ROLLUP_SQL + """'''.replace("{out}", out))
"""

NINE = ["id", "name", "tier", "manager", "manager_name", "parent", "depth", "revenue",
        "revenue_total"]

# ---------------------------------------------------------------------------------------------
# Measuring a fresh process


@dataclass
class Run:
    label: str
    wall: float | None = None  # best of the runs (seconds)
    rss_mb: float | None = None  # largest peak RSS of the runs (MB = 10^6 bytes)
    cpu: float | None = None  # user + system CPU of the fastest run (seconds, all threads)
    status: str = "ok"  # ok | exit N: ... | timeout | memory limit
    finished: bool = False  # the process ran to the end with an accepted exit code
    runs: int = 0
    note: str = ""


def _tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants (kB)."""
    total, stack = 0, [pid]
    while stack:
        proc = stack.pop()
        try:
            status = Path(f"/proc/{proc}/status").read_text()
            total += next((int(line.split()[1]) for line in status.splitlines()
                           if line.startswith("VmRSS:")), 0)
            for task in os.listdir(f"/proc/{proc}/task"):
                children = Path(f"/proc/{proc}/task/{task}/children").read_text().split()
                stack.extend(int(child) for child in children)
        except (OSError, ValueError):
            continue
    return total


RUSAGE_WRAPPER = """
import resource, subprocess, sys
code = subprocess.run(sys.argv[2:]).returncode
with open(sys.argv[1], "w") as out:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    out.write(f"0 {usage.ru_utime} {usage.ru_stime} {usage.ru_maxrss}")
sys.exit(code)
"""


@dataclass
class Once:
    wall: float
    rss_mb: float | None
    returncode: int | None  # None: killed
    killed: str = ""  # "timeout" | "memory limit"
    stderr: str = ""
    cpu: float | None = None


def run_once(cmd: list[str], *, env: dict[str, str], stdout: Path | None, kill_after: float,
             limit_kb: int) -> Once:
    """One fresh run of ``cmd``, killed (its whole session) after ``kill_after`` seconds or
    above ``limit_kb`` of resident memory."""
    with tempfile.NamedTemporaryFile("r", suffix=".time", dir=DATA, delete=False) as handle:
        time_file = Path(handle.name)
    if TIME:
        wrapped = [TIME, "-f", "%e %U %S %M", "-o", str(time_file), *cmd]
    else:
        wrapped = [sys.executable, "-c", RUSAGE_WRAPPER, str(time_file), *cmd]
    killed, peak_seen = "", 0
    with (stdout.open("wb") if stdout else open(os.devnull, "wb")) as out, \
            tempfile.TemporaryFile(dir=DATA) as err_file:
        t0 = time.perf_counter()
        proc = subprocess.Popen(wrapped, env=env, stdout=out, stderr=err_file,
                                start_new_session=True, cwd=REPO)
        while True:
            try:
                proc.wait(timeout=0.25)
                break
            except subprocess.TimeoutExpired:
                pass
            peak_seen = max(peak_seen, _tree_rss_kb(proc.pid))
            if time.perf_counter() - t0 > kill_after:
                killed = "timeout"
            elif peak_seen > limit_kb:
                killed = "memory limit"
            else:
                continue
            os.killpg(proc.pid, signal.SIGKILL)  # the session started above, and only it
            proc.wait()
            break
        wall = time.perf_counter() - t0
        err_file.seek(0)
        err = err_file.read().decode(errors="replace")
    rss_mb = cpu = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        # the last line: GNU time writes "Command exited with non-zero status N" before it
        fields = time_file.read_text().strip().splitlines()[-1].split()
        rss_mb = int(fields[-1]) * 1024 / 1e6
        cpu = float(fields[-3]) + float(fields[-2])
    time_file.unlink(missing_ok=True)
    if killed:
        return Once(wall, max(rss_mb or 0, peak_seen * 1024 / 1e6), None, killed, err)
    return Once(wall, rss_mb, proc.returncode, "", err, cpu)


def measure(label: str, cmd: list[str], *, env: dict[str, str], repeat: int, timeout: float,
            limit_kb: int, stdout: Path | None = None, ok_codes: tuple[int, ...] = (0,),
            kill_after: float | None = None) -> Run:
    """Best wall and largest peak RSS of up to ``repeat`` fresh runs of ``cmd``.

    A run over ``timeout`` is recorded as a timeout; it is killed then, or only after
    ``kill_after`` seconds when that is larger (to finish work that later steps need)."""
    result = Run(label)
    for _ in range(repeat):
        once = run_once(cmd, env=env, stdout=stdout, kill_after=max(timeout, kill_after or 0),
                        limit_kb=limit_kb)
        result.runs += 1
        result.rss_mb = max(result.rss_mb or 0, once.rss_mb or 0) or None
        if once.returncode is None:
            result.status, result.wall = once.killed, once.wall
            result.note = f"killed after {once.wall:.0f} s"
            break
        if once.returncode not in ok_codes:
            tail = [line for line in once.stderr.splitlines() if line.strip()
                    and not line.startswith("Command exited")][-3:]
            result.status = f"exit {once.returncode}" + (
                ": " + " / ".join(tail)[:300] if tail else "")
            result.wall = once.wall
            break
        result.finished = True
        if once.returncode:
            result.note = f"exit {once.returncode}"
        if once.wall > timeout:
            result.status, result.wall = "timeout", once.wall
            result.note = f"finished in {once.wall:.0f} s"
            break
        if result.wall is None or once.wall < result.wall:
            result.wall, result.cpu = once.wall, once.cpu
        if once.wall > NO_REPEAT_AFTER:
            break
    shown = f"{result.wall:.2f} s" if result.wall is not None else "-"
    rss_shown = f"{result.rss_mb:,.0f} MB" if result.rss_mb else "-"
    cpu_shown = f"{result.cpu:.2f} s cpu" if result.cpu is not None else "-"
    print(f"  {label:52} {shown:>10} {cpu_shown:>12} {rss_shown:>10}  {result.status}"
          f"{'  (' + result.note + ')' if result.note else ''}  [{result.runs} run(s)]",
          flush=True)
    return result


# ---------------------------------------------------------------------------------------------
# Data


def code_under_test(rev: str | None) -> tuple[dict[str, str], str, Path]:
    """Environment additions, a description and the examples folder of the code measured.

    Without ``rev``: the working tree (the editable install). With it: ``git archive`` of that
    commit (src, plugins, examples) under _data/code-SHA, put first on PYTHONPATH, so others'
    edits to the working tree during a long run do not change what is measured."""
    def git(*argv: str) -> str:
        return subprocess.run(["git", "-C", str(REPO), *argv], check=True, text=True,
                              capture_output=True).stdout.strip()

    if rev is None:
        head = git("rev-parse", "--short=12", "HEAD")
        dirty = git("status", "--porcelain", "--", "src", "plugins")
        return {}, (f"working tree at {head}"
                    + (" plus uncommitted changes under src/ or plugins/" if dirty else "")), \
            REPO / "examples"
    sha = git("rev-parse", "--verify", f"{rev}^{{commit}}")
    dest = DATA / f"code-{sha[:12]}"
    if not (dest / ".complete").exists():
        shutil.rmtree(dest, ignore_errors=True)
        dest.mkdir(parents=True)
        archive = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", sha,
                                  "src", "plugins", "examples"], check=True,
                                 capture_output=True).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(dest, filter="data")
        (dest / ".complete").touch()
    paths = [dest / "src", *sorted(dest.glob("plugins/*/src")),
             *sorted(dest.glob("examples/*/src"))]
    return ({"PYTHONPATH": os.pathsep.join(str(path) for path in paths)},
            f"commit {sha[:12]} ({git('log', '-1', '--format=%s', sha)[:70]}), snapshot in "
            f"{dest.relative_to(REPO)}", dest / "examples")


def salesforce_export(size: int) -> Path:
    """Account.csv + User.csv from import_bench's generator (cached, shared with it)."""
    from import_bench import generate

    folder = DATA / f"sf-{size}"
    if not (folder / "Account.csv").exists() or not (folder / "User.csv").exists():
        print(f"generating a Salesforce export of {size:,} accounts in {folder} ...", flush=True)
        t0 = time.perf_counter()
        generate(folder, size)
        print(f"  generated in {time.perf_counter() - t0:.0f} s", flush=True)
    return folder


def self_test(env: dict[str, str]) -> None:
    """The DuckDB baselines on a small org that is valid under every core rule: zero counts,
    and the roots' revenue_total sums to the total revenue."""
    from orggen import generate

    folder = DATA / "scale-selftest"
    if not (folder / "accounts.csv").exists():
        generate(folder, 5000)
    counts = duckdb_checks(folder, env)
    bad = {k: v for k, v in counts.items() if k not in ("accounts", "people") and v}
    if bad:
        raise SystemExit(f"self-test: DuckDB checks find violations in a valid org: {bad}")
    out = folder / "duckdb_rollup.csv"
    subprocess.run([sys.executable, "-c", ROLLUP_CHILD, str(folder / "accounts.csv"),
                    str(folder / "people.csv"), str(out)], check=True, env=env)
    problem = rollup_sanity(folder / "accounts.csv", out)
    if problem:
        raise SystemExit(f"self-test: DuckDB rollup: {problem}")
    print(f"self-test on a valid {counts['accounts']:,}-account org: DuckDB checks all zero, "
          "rollup totals add up", flush=True)


def duckdb_checks(folder: Path, env: dict[str, str]) -> dict[str, int]:
    out = DATA / "duckdb_checks.json"
    subprocess.run([sys.executable, "-c", CHECKS_CHILD, str(folder / "accounts.csv"),
                    str(folder / "people.csv"), str(out)], check=True, env=env)
    return json.loads(out.read_text())


def rollup_sanity(accounts: Path, rolled: Path, kam_rolled: Path | None = None) -> str:
    """'' when a nine-column rollup is sane (and agrees with kam's, if given), else why not."""
    import duckdb

    con = duckdb.connect()
    con.execute(f"CREATE TABLE r AS SELECT * FROM read_csv('{rolled}', header=true, "
                "all_varchar=true)")
    columns = [row[0] for row in con.execute("DESCRIBE r").fetchall()]
    if columns != NINE:
        return f"columns {columns}, not the nine {NINE}"
    rows, roots_total = con.execute(
        "SELECT count(*), sum(TRY_CAST(revenue_total AS DOUBLE)) FILTER (WHERE parent IS NULL)"
        " FROM r").fetchone()
    accounts_n, revenue = con.execute(
        f"SELECT count(*), sum(TRY_CAST(revenue AS DOUBLE)) FROM read_csv('{accounts}', "
        "header=true, all_varchar=true)").fetchone()
    problems = []
    if rows != accounts_n:
        problems.append(f"{rows:,} rows for {accounts_n:,} accounts")
    if abs((roots_total or 0) - (revenue or 0)) > 1e-9 * abs(revenue or 1):
        problems.append(f"roots' revenue_total {roots_total} != total revenue {revenue}")
    if kam_rolled is not None:
        con.execute(f"CREATE TABLE k AS SELECT * FROM read_csv('{kam_rolled}', header=true, "
                    "all_varchar=true)")
        missing, differ = con.execute("""
            SELECT count(*) FILTER (WHERE k.id IS NULL OR r.id IS NULL),
                   count(*) FILTER (WHERE k.id IS NOT NULL AND r.id IS NOT NULL AND (
                     k.depth::INT <> r.depth::INT
                     OR k.manager_name IS DISTINCT FROM r.manager_name
                     OR k.parent IS DISTINCT FROM r.parent
                     OR abs(coalesce(TRY_CAST(k.revenue_total AS DOUBLE), 0)
                            - coalesce(TRY_CAST(r.revenue_total AS DOUBLE), 0))
                        > 1e-9 * abs(coalesce(TRY_CAST(r.revenue_total AS DOUBLE), 1))))
            FROM k FULL JOIN r USING (id)""").fetchone()
        if missing or differ:
            problems.append(f"kam rollup and DuckDB disagree: {missing:,} ids in one only, "
                            f"{differ:,} rows differ in depth, manager_name, parent or "
                            "revenue_total")
    return "; ".join(problems)


# Which kam finding codes the DuckDB counts correspond to.
CODE_OF = {"duplicate_account_ids": "KAM101", "duplicate_person_ids": "KAM101",
           "unknown_parent": "KAM102", "not_reachable_from_a_root": "KAM103",
           "tier_order": "KAM104", "missing_manager": "KAM105", "unknown_manager": "KAM106",
           "role_fits_tier": "KAM107", "support_as_manager": "KAM112"}


def compare_findings(counts: dict[str, int], validate_out: Path) -> str:
    """DuckDB's counts beside kam validate's findings per code (from its text output)."""
    found: dict[str, int] = {}
    with validate_out.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            match = re.search(r"\b(KAM\d{3}) +(?:error|warning|info)\b", line)
            if match:
                found[match.group(1)] = found.get(match.group(1), 0) + 1
    duck: dict[str, int] = {}
    for name, code in CODE_OF.items():
        duck[code] = duck.get(code, 0) + counts[name]
    parts, agree = [], True
    for code in sorted(duck):
        kam_n = found.get(code, 0)
        # KAM103 counts loops; DuckDB counts accounts no root reaches: both zero, or both not.
        same = (kam_n > 0) == (duck[code] > 0) if code == "KAM103" else kam_n == duck[code]
        agree &= same
        parts.append(f"{code} kam {kam_n:,} / DuckDB {duck[code]:,}{'' if same else ' (!)'}")
    return ("agree: " if agree else "DISAGREE: ") + ", ".join(parts)


# ---------------------------------------------------------------------------------------------
# The run


@dataclass
class Row:
    command: str
    run: Run
    baseline: str  # "checks" | "rollup" | ""
    max_ratio: float | None = None
    max_mb: float | None = None
    max_seconds: float | None = None
    target: str = ""


def verdict(row: Row, base: dict[str, Run]) -> tuple[str, str]:
    """(ratio cell, met cell)."""
    run = row.run
    ratio_cell, met = "-", run.status == "ok"
    if row.baseline and run.finished and run.wall is not None:
        ref = base[row.baseline]
        if ref.status == "ok" and ref.wall:
            ratio = run.wall / ref.wall
            ratio_cell = (f"{ratio:.1f}x" if ratio >= 0.95 else f"{ratio:.2f}x") + (
                " checks" if row.baseline == "checks" else " rollup")
            if row.max_ratio is not None:
                met &= ratio <= row.max_ratio
        else:
            ratio_cell = "(no baseline)"
    if row.max_mb is not None:
        met &= (run.rss_mb or 0) < row.max_mb
    if row.max_seconds is not None and run.wall is not None:
        met &= run.wall < row.max_seconds
    if run.status != "ok":
        return ratio_cell, f"**not met** ({run.status.split(':')[0]})"
    return ratio_cell, "met" if met else "**not met**"


def time_cell(run: Run, timeout: float) -> str:
    if run.status == "ok" and run.wall is not None:
        cpu = f" ({run.cpu:.2f} s CPU)" if run.cpu is not None else ""
        return f"{run.wall:.2f} s{cpu}"
    if run.status == "timeout":
        return (f"> {timeout:.0f} s (finished in {run.wall:.0f} s)" if run.finished
                else f"> {timeout:.0f} s (killed)")
    if run.status == "memory limit":
        return f"killed at {run.wall:.0f} s (memory)"
    return run.status.split(":")[0]


def fmt_mb(mb: float | None) -> str:
    if not mb:
        return "-"
    return f"{mb / 1000:.2f} GB" if mb >= 1000 else f"{mb:.0f} MB"


def run_size(size: int, args: argparse.Namespace, big_env: dict[str, str],
             code: str) -> tuple[list[Row], dict[str, Run], list[str]]:
    sf = salesforce_export(size)
    home = DATA / f"scale-{size}"
    ws, fresh, out = home / "ws", home / "import", home / "out"
    made_by = home / "ws-made-by.txt"
    out.mkdir(parents=True, exist_ok=True)
    limit_kb = int(args.limit_gb * 1e6)
    opts = {"repeat": args.repeat, "timeout": args.timeout, "limit_kb": limit_kb}
    rows: list[Row] = []
    notes: list[str] = []
    print(f"\n## {size:,} accounts (workspace {ws.relative_to(REPO)})", flush=True)

    replace = args.reimport or not (ws / "accounts.csv").exists()
    if replace or not args.no_import:
        # When this import makes the workspace, let it finish (up to 30 min) even past the
        # timeout: it is still recorded as a timeout.
        imp = measure("kam import salesforce (with its report)",
                      [KAM, "import", "salesforce", str(sf / "Account.csv"), "--users",
                       str(sf / "User.csv"), "-o", str(fresh), "--force"],
                      env=big_env, stdout=home / "import-stdout.txt",
                      kill_after=1800 if replace else None, **opts)
        rows.append(Row("`kam import salesforce Account.csv --users User.csv -o WS`", imp,
                        "checks", max_ratio=8, target="<= 8x checks"))
        if replace and imp.finished and (fresh / "accounts.csv").exists():
            if ws.exists():
                shutil.rmtree(ws)
            fresh.rename(ws)
            made_by.write_text(code + "\n")
    if not (ws / "accounts.csv").exists():
        raise SystemExit(f"no workspace at {ws}: the import failed and none is cached")
    if made_by.exists():
        notes.append(f"workspace made by `kam import salesforce` of {made_by.read_text().strip()}")
    accounts, people = ws / "accounts.csv", ws / "people.csv"
    for path in (accounts, people):  # warm the page cache: every contender reads warm files
        with path.open("rb") as handle:
            while handle.read(1 << 24):
                pass

    base = {
        "checks": measure("DuckDB structural checks (baseline)",
                          [sys.executable, "-c", CHECKS_CHILD, str(accounts), str(people),
                           str(out / "duckdb_checks.json")], env=big_env, **opts),
    }
    if args.import_only:
        return rows, base, notes
    base["rollup"] = measure("DuckDB nine-column rollup to CSV (baseline)",
                             [sys.executable, "-c", ROLLUP_CHILD, str(accounts), str(people),
                              str(out / "duckdb_rollup.csv")], env=big_env, **opts)
    validate_out = out / "validate.txt"
    commands = [
        (Row("`kam validate WS`", Run(""), "checks", max_ratio=2, max_mb=1500,
             target="<= 2x checks, < 1.5 GB"),
         [KAM, "validate", str(ws)], validate_out, (0, 1)),
        (Row("`kam tree WS --depth 1`", Run(""), "checks", max_ratio=4, target="<= 4x checks"),
         [KAM, "tree", str(ws), "--depth", "1"], None, (0,)),
        *[(Row(f"`kam export WS --format {fmt} -o FILE`", Run(""), "checks", max_ratio=4,
               target="<= 4x checks"),
           [KAM, "export", str(ws), "--format", fmt, "-o", str(out / f"export.{fmt}")],
           None, (0,)) for fmt in ("salesforce", "csv", "json")],
        (Row("`kam chart WS -o FILE.html`", Run(""), "checks", max_ratio=4,
             target="<= 4x checks"),
         [KAM, "chart", str(ws), "-o", str(out / "chart.html")], None, (0,)),
        (Row("`kam rollup WS -m revenue --format csv -o FILE`", Run(""), "rollup",
             max_ratio=0.5, max_mb=1000, target="<= 0.5x DuckDB rollup, < 1 GB"),
         [KAM, "rollup", str(ws), "-m", "revenue", "--format", "csv", "-o",
          str(out / "kam_rollup.csv")], None, (0,)),
    ]
    for path in (validate_out, out / "kam_rollup.csv"):
        path.unlink(missing_ok=True)
    for row, cmd, stdout, ok_codes in commands:
        row.run = measure(row.command.strip("`"), cmd, env=big_env, stdout=stdout,
                          ok_codes=ok_codes, **opts)
        rows.append(row)

    # Untimed: are the baselines sane, and do they agree with kam?
    if base["checks"].status == "ok":
        counts = json.loads((out / "duckdb_checks.json").read_text())
        notes.append("DuckDB structural checks: " + ", ".join(
            f"{k} {v:,}" for k, v in counts.items()))
        validate = next(r.run for r in rows if r.command == "`kam validate WS`")
        if validate.finished:
            notes.append("per code, " + compare_findings(counts, validate_out))
    if base["rollup"].status == "ok":
        kam_csv = out / "kam_rollup.csv"
        kam_ok = next(r.run for r in rows if r.baseline == "rollup").finished
        problem = rollup_sanity(accounts, out / "duckdb_rollup.csv",
                                kam_csv if kam_ok and kam_csv.exists() else None)
        notes.append("nine-column rollup: " + (problem or (
            "DuckDB's rows = accounts, roots' revenue_total = total revenue"
            + (", and kam rollup agrees on every row's depth, parent, manager_name and "
               "revenue_total" if kam_ok else ""))))
    if not args.keep_outputs:
        for name in ("export.salesforce", "export.csv", "export.json", "chart.html"):
            (out / name).unlink(missing_ok=True)
    return rows, base, notes


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000", help="comma-separated account counts")
    parser.add_argument("--plugins", action="store_true",
                        help="load every installed plugin for the big runs (default: "
                             "KAM_LOAD_PLUGINS='', built-in rules only)")
    parser.add_argument("--commit", metavar="REV",
                        help="measure this commit (a git archive snapshot first on "
                             "PYTHONPATH) instead of the working tree")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs per command, best wall kept (a run over 30 s is enough)")
    parser.add_argument("--timeout", type=float, default=240.0,
                        help="seconds before a command is killed and recorded as a timeout")
    parser.add_argument("--limit-gb", type=float, default=8.0,
                        help="resident memory (GB) at which a command is killed")
    parser.add_argument("--no-import", action="store_true",
                        help="do not time kam import again when the workspace is cached")
    parser.add_argument("--reimport", action="store_true",
                        help="replace the cached workspace with this run's import")
    parser.add_argument("--import-only", action="store_true",
                        help="time kam import (a fresh one: implies --reimport) and the DuckDB "
                             "checks it is compared with, nothing else")
    parser.add_argument("--keep-outputs", action="store_true",
                        help="keep the exports and the chart under _data/scale-N/out")
    args = parser.parse_args()
    args.reimport = args.reimport or args.import_only
    DATA.mkdir(exist_ok=True)

    extra_env, code, examples = code_under_test(args.commit)
    user_env = {**os.environ, **extra_env}
    # a user's install has compiled bytecode (pip writes it, or the first run does): a
    # PYTHONDONTWRITEBYTECODE from the developer's shell would time the compiler on every run
    user_env.pop("PYTHONDONTWRITEBYTECODE", None)
    big_env = dict(user_env)
    if args.plugins:
        big_env.pop("KAM_LOAD_PLUGINS", None)
    else:
        big_env["KAM_LOAD_PLUGINS"] = ""
    imported_from = subprocess.run(
        [sys.executable, "-c", "import kamcore; print(kamcore.__file__)"], env=user_env,
        capture_output=True, text=True, check=True).stdout.strip()
    plugins = ("every installed plugin loaded" if args.plugins
               else 'KAM_LOAD_PLUGINS="" (built-in rules only)')
    measurer = ("/usr/bin/time -f '%e %U %S %M' (CPU: user + system, all threads; peak RSS)"
                if TIME else "getrusage(RUSAGE_CHILDREN) of a fresh wrapper (CPU, peak RSS)")
    print(f"machine: {describe('duckdb', 'pyarrow')}")
    print(f"code: {code}; kamcore imported from {imported_from}")
    print(f"load average before: {loadavg()} (the cores are shared with other jobs)")
    print(f"big runs: {plugins}; wall time around each fresh process, {measurer}; "
          f"best of {args.repeat} (one run when over {NO_REPEAT_AFTER:.0f} s); timeout "
          f"{args.timeout:.0f} s, memory limit {args.limit_gb:g} GB", flush=True)
    self_test(big_env)

    small_opts = {"repeat": 5, "timeout": args.timeout, "limit_kb": int(args.limit_gb * 1e6)}
    small = [] if args.import_only else [
        Row("`kam --help`", measure("kam --help", [KAM, "--help"], env=user_env,
                                    **small_opts), "", max_seconds=0.2, target="< 0.2 s"),
        Row("`kam validate examples/acme`",
            measure("kam validate examples/acme", [KAM, "validate", str(examples / "acme")],
                    env=user_env, ok_codes=(0,), **small_opts), "", max_seconds=0.5,
            target="< 0.5 s"),
    ]
    for size in (int(s) for s in args.sizes.split(",")):
        rows, base, notes = run_size(size, args, big_env, code)
        print(f"\n### {size:,} accounts\n\nCode: {code}. Big runs: {plugins}. Load average "
              f"at the end: {loadavg()}.\n")
        print("| command | time | x baseline | peak RSS | target | |")
        print("|---|---:|---:|---:|---|---|")
        for name, run in (("DuckDB structural checks (baseline)", base.get("checks")),
                          ("DuckDB nine-column rollup to CSV (baseline)", base.get("rollup"))):
            if run is None:
                continue
            print(f"| {name} | {time_cell(run, args.timeout)} | 1.0 | {fmt_mb(run.rss_mb)} "
                  "| | |")
        for row in [*rows, *small]:
            ratio, met = verdict(row, base)
            print(f"| {row.command} | {time_cell(row.run, args.timeout)} | {ratio} | "
                  f"{fmt_mb(row.run.rss_mb)} | {row.target} | {met} |")
        print()
        for note in notes:
            print(f"- {note}")
        for row in [*rows, *small]:
            if row.run.status not in ("ok", "timeout", "memory limit"):
                print(f"- {row.command} failed: {row.run.status}")
        print("- `kam --help` and `kam validate examples/acme`: best of 5, plugins loaded "
              "as a new user has them", flush=True)


if __name__ == "__main__":
    main()
