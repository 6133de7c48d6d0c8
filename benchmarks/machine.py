"""What machine a benchmark ran on, printed at the top of every benchmark's output."""

from __future__ import annotations

import os
import platform
from importlib import metadata
from pathlib import Path


def describe(*packages: str) -> str:
    """CPU model, cores, RAM, Python and the versions of ``packages``."""
    cpu, mem_gib = "unknown CPU", 0.0
    try:
        cpu = next((line.split(":", 1)[1].strip() for line in
                    Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), cpu)
        mem_gib = next((int(line.split()[1]) / 1024 ** 2 for line in
                        Path("/proc/meminfo").read_text().splitlines()
                        if line.startswith("MemTotal")), 0.0)
    except OSError:
        pass
    versions = "".join(f", {name} {metadata.version(name)}" for name in packages)
    return (f"{cpu}, {os.cpu_count()} cores, {mem_gib:.0f} GiB RAM, "
            f"Python {platform.python_version()}{versions}")
