"""Accounts and people as CSV (every column of the workspace, neutralised) or JSON."""

from __future__ import annotations

import json
from typing import Any

from kamcore.exporters.safety import render_rows
from kamcore.org import Org
from kamcore.workspace.csvio import format_cell


def export_csv(org: Org, *, people: bool = False, safe: bool = True) -> str:
    """The accounts (or people) table with every column, as accounts.csv has them.

    :param safe: neutralise cells a spreadsheet would execute (see :mod:`.safety`).
    """
    from kamcore.workspace.saver import account_cells, account_header, people_header, person_cells

    if people:
        header = people_header(org)
        rows = [[format_cell(v) for v in person_cells(p, header)] for p in org.people.values()]
    else:
        header = account_header(org)
        rows = [[format_cell(v) for v in account_cells(a, header)]
                for a in org.accounts.values()]
    return render_rows(header, rows, safe=safe)


def export_json(org: Org) -> str:
    """One JSON document: the org's settings, accounts and people with every field."""
    data: dict[str, Any] = {
        "org": org.settings.name,
        "currency": org.settings.currency,
        "accounts": [a.model_dump(mode="json", exclude_none=True) for a in
                     org.accounts.values()],
        "people": [p.model_dump(mode="json", exclude_none=True) for p in org.people.values()],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
