"""Writing an import: the workspace (through :func:`kamcore.save`), crm.yaml and the report."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from kamcore.atomic import atomic_write_bytes, atomic_write_text
from kamcore.errors import (
    ImportRefused,  # their home since 1.0; kept importable here
    WorkspaceError,
)
from kamcore.importers.engine import ImportResult
from kamcore.importers.report import LISTINGS
from kamcore.perf import paused_gc
from kamcore.wording import plural

if TYPE_CHECKING:
    import pyarrow as pa

    from kamcore.importers.contacts import ContactsImport
    from kamcore.importers.facts import FactsImport
    from kamcore.importers.territories import TerritoriesImport

#: Where an import keeps the CRM's column layout, for ``kam export --format salesforce``.
LAYOUT_FILE = "crm.yaml"


def refuse_problems(result: ImportResult | FactsImport | ContactsImport | TerritoriesImport
                    ) -> None:
    """:raises ImportRefused: listing every problem (for ``--strict``)."""
    problems = result.report.all_problems()
    if problems:
        groups = result.report.problem_lines()
        shown = "\n".join(f"- {line}" for line in groups)
        left = len(result.report.grouped_problems()) - len(groups)
        more = f"\n... and {left} more" if left > 0 else ""
        raise ImportRefused(f"--strict: {plural(len(problems), 'problem')}, nothing written:\n"
                            f"{shown}{more}",
                            hint="fix them in the export, or import without --strict and "
                                 "read the report")


def write_import(result: ImportResult, folder: str | Path, *, force: bool = False,
                 report_format: str = "md") -> Path:
    """Write the workspace, its crm.yaml and ``import-report.md`` (or ``.json``).

    Beside the Markdown report, each section it cuts short gets a CSV listing of every row
    (:data:`~kamcore.importers.report.LISTINGS`; formula-like cells neutralised, as in an
    export); the JSON report holds every row itself. A listing an earlier import left that
    this one does not write is removed: it would describe another import.

    :raises WorkspaceError: ``folder`` already holds a workspace and ``force`` is off.
    :returns: the report's path.
    """
    # The import's objects (findings, problems, people) fill the heap: with the collector
    # on, making the report's rows rescans all of them again and again (a second at 1M).
    with paused_gc():
        return _write_import(result, Path(folder), force=force, report_format=report_format)


def _write_import(result: ImportResult, target: Path, *, force: bool,
                  report_format: str) -> Path:
    from kamcore.settings import settings_data
    from kamcore.workspace import save

    if (target / "kam.yaml").exists() and not force:
        raise WorkspaceError(f"{target} already holds a workspace",
                             hint="choose another folder, or pass --force to replace it")
    if target.exists() and not target.is_dir():
        raise WorkspaceError(f"{target} is not a folder")
    result.report.output = str(target)
    # Every text is made before the first file is written: a failure leaves nothing behind.
    model = (result.org if result.org_built else result.tables).settings
    settings = settings_data(model)  # kam.yaml as every other command writes it
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    files = ", ".join(result.report.files.values())
    config = (f"# Imported from {result.report.source} ({files}) by `kam import`, {stamp}.\n"
              "# See import-report.md for what was inferred.\n"
              + yaml.safe_dump(settings, sort_keys=False, allow_unicode=True))
    layout = ("# The CRM's columns, kept by `kam import` so that `kam export` can write them "
              "back.\n" + yaml.safe_dump(result.layout, sort_keys=False, allow_unicode=True))
    name = "import-report.json" if report_format == "json" else "import-report.md"
    report = (result.report.json_bytes() if report_format == "json"
              else result.report.to_markdown().encode("utf-8"))
    listings = {} if report_format == "json" else result.report.listings()
    target.mkdir(parents=True, exist_ok=True)
    atomic_write_text(target / "kam.yaml", config)
    if result.org_built:  # the caller has the objects, maybe changed: write those
        result.org.path = target
        save(result.org, target)
        atomic_write_text(target / LAYOUT_FILE, layout)
        _write_listings(target, listings)
    else:
        from concurrent.futures import ThreadPoolExecutor

        from kamcore.importers.finish import write_accounts_csv
        from kamcore.settings import ACCOUNTS_FILE, PEOPLE_FILE
        from kamcore.workspace.saver import render_table

        # accounts.csv (the big one: its rows made in Arrow, then its fsync) is written on a
        # thread while the rest is made and written; the report, which names them, comes last
        with ThreadPoolExecutor(1) as pool:
            accounts = pool.submit(write_accounts_csv, target / ACCOUNTS_FILE, result.accounts)
            atomic_write_text(target / PEOPLE_FILE, render_table(result.tables.people))
            atomic_write_text(target / LAYOUT_FILE, layout)
            _write_listings(target, listings)
            accounts.result()
    atomic_write_bytes(target / name, report)
    return target / name


def _write_listings(target: Path, listings: dict[str, pa.Table]) -> None:
    """Each listing's CSV, atomically; the listings not written this time are removed."""
    from kamcore.atomic import atomic_open, write_failed
    from kamcore.exporters.columns import write_table_csv

    for section, file in LISTINGS.items():
        path = target / file
        if section in listings:
            with atomic_open(path, "wb") as stream:
                write_table_csv(stream, listings[section], safe=True)
            continue
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            raise write_failed(path, exc, action="remove") from exc


def read_layout(folder: str | Path) -> dict[str, object] | None:
    """The crm.yaml an import left in a workspace, or ``None``."""
    from kamcore.workspace.yamlio import read_yaml, strip_lines

    path = Path(folder) / LAYOUT_FILE
    if not path.exists():
        return None
    data = strip_lines(read_yaml(path))
    return data if isinstance(data, dict) else None
