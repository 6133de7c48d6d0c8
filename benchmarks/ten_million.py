"""Validate and roll up a 10,000,000-account org: time and peak RSS (issue 9: under 10 GB).

``python benchmarks/ten_million.py [--size 10000000]`` writes a valid synthetic org with
``orggen.py`` (plus an fx.csv for its currencies) to ``benchmarks/_data/big-N/`` once, then runs
``kam validate`` and ``kam rollup --format csv`` on it, each a fresh process under
``/usr/bin/time``, built-in plugins only. There is no baseline here: the target is absolute (a
memory ceiling), and the 1M-account ratios are in ``scale.py``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

FX = "currency,period,rate\nUSD,*,0.92\nGBP,*,1.17\nJPY,*,0.0061\nBRL,*,0.17\nCAD,*,0.68\n"


def measure(label: str, argv: list[str], out: Path) -> str:
    """Wall time and peak RSS of one fresh process, as a markdown row."""
    env = {**os.environ, "KAM_LOAD_PLUGINS": ""}
    timing = out.with_suffix(".time")
    with out.open("wb") as sink:
        done = subprocess.run(["/usr/bin/time", "-f", "%e %M", "-o", str(timing), *argv],
                              stdout=sink, stderr=subprocess.PIPE, env=env, check=False)
    seconds, kb = timing.read_text().split()[-2:]
    return f"| {label} | {float(seconds):.1f} s | {int(kb) / 1e6:.2f} GB | exit {done.returncode} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000_000)
    args = parser.parse_args()
    from machine import describe
    from orggen import generate

    folder = HERE / "_data" / f"big-{args.size}"
    if not (folder / "accounts.csv").exists():
        started = time.perf_counter()
        generate(folder, args.size)
        (folder / "fx.csv").write_text(FX)
        print(f"generated {folder} in {time.perf_counter() - started:.0f} s", flush=True)
    kam = str(Path(sys.executable).with_name("kam"))
    print(describe())
    print("| command | time | peak RSS | |\n|---|---:|---:|---|")
    print(measure("`kam validate`", [kam, "validate", str(folder)], folder / "validate.out"),
          flush=True)
    print(measure("`kam rollup -m revenue --format csv -o FILE`",
                  [kam, "rollup", str(folder), "-m", "revenue", "--format", "csv", "-o",
                   str(folder / "rollup.csv")], folder / "rollup.out"), flush=True)


if __name__ == "__main__":
    main()
