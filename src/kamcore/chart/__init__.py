"""``kam chart``: the org as one self-contained HTML file (inline CSS, JS and data; no network).

The page gets the org as one JSON blob of columns (names, tiers, parent indexes, totals) and
creates DOM nodes only when a branch is opened, so 10,000 accounts stay quick. Own values and
totals come from :func:`kamcore.rollup.rollup` (facts and FX included), so the page shows what
``kam rollup`` prints; when the rollup cannot run the page has no totals and says why.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from kamcore.org import Org

_TIERS = ("global", "national", "key", "regular")


def chart_metrics(org: Org, wanted: Sequence[str] | None = None) -> list[str]:
    """The metrics to show: those asked for, else up to three that have values (money first)."""
    if wanted:
        return list(wanted)
    used = {m for a in org.accounts.values() for m in a.metrics}
    known = org.metrics
    ordered = sorted(used, key=lambda m: (not (m in known and known[m].is_money),
                                          list(known).index(m) if m in known else 99, m))
    return ordered[:3]


def account_values(org: Org, metrics: Sequence[str]) -> tuple[
        dict[str, dict[str, float]], dict[str, dict[str, float]], str | None]:
    """Own values and subtree totals per account, from the rollup (facts, FX, each metric's
    aggregation): the chart shows the numbers ``kam rollup`` prints, never a second sum.

    :returns: ``(own, totals, problem)``; when the rollup cannot run, both are empty and
        ``problem`` says why (``kam validate`` names the cause with its code).
    """
    import math

    from kamcore.errors import KamError

    if not metrics:
        return {}, {}, None
    try:
        from kamcore.rollup import rollup

        result = rollup(org, list(metrics), own=True)
    except KamError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return {}, {}, first
    own: dict[str, dict[str, float]] = {}
    totals: dict[str, dict[str, float]] = {}
    for record in result.to_records():
        for metric in metrics:
            for key, target in ((metric, own), (f"{metric}_total", totals)):
                value = record.get(key)
                if value is not None and not math.isnan(value):
                    target.setdefault(record["id"], {})[metric] = float(value)
    return own, totals, None


def chart_data(org: Org, metrics: Sequence[str] | None = None) -> dict[str, Any]:
    """The JSON blob the page reads: columns, indexes instead of ids."""
    names = chart_metrics(org, metrics)
    own, totals, problem = account_values(org, names)
    account_ids = list(org.accounts)
    index = {aid: i for i, aid in enumerate(account_ids)}
    person_ids = list(org.people)
    pindex = {pid: i for i, pid in enumerate(person_ids)}
    accounts = list(org.accounts.values())
    people = list(org.people.values())
    known = org.metrics
    return {
        "org": org.settings.name,
        "currency": org.settings.currency,
        "totalsFrom": "rollup" if problem is None and names else "none",
        "totalsProblem": problem,
        "metrics": [{"name": m, "label": (known[m].label if m in known and known[m].label
                                          else m.replace("_", " ").capitalize()),
                     "money": bool(m in known and known[m].is_money)} for m in names],
        "accounts": {
            "id": account_ids,
            "name": [a.name for a in accounts],
            "tier": [_TIERS.index(a.tier.value) for a in accounts],
            "parent": [-1 if a.parent is None or a.parent == a.id else index.get(a.parent, -1)
                       for a in accounts],
            "manager": [pindex.get(a.manager or "", -1) for a in accounts],
            "managerRaw": [a.manager or "" for a in accounts],
            "country": [a.country or "" for a in accounts],
            "industry": [a.industry or "" for a in accounts],
            "own": [[own.get(a.id, {}).get(m) for a in accounts] for m in names],
            "totals": [[totals.get(a.id, {}).get(m) for a in accounts] for m in names],
        },
        "people": {
            "id": person_ids,
            "name": [p.name for p in people],
            "role": [p.role.value for p in people],
            "reportsTo": [pindex.get(p.reports_to or "", -1) if p.reports_to != p.id else -1
                          for p in people],
            "active": [1 if p.active else 0 for p in people],
            "specialty": [p.specialty or "" for p in people],
        },
    }


def render_chart(org: Org, *, metrics: Sequence[str] | None = None,
                 title: str | None = None, data: dict[str, Any] | None = None) -> str:
    """The whole HTML page.

    :param metrics: metrics to total per account; default up to three that have values.
    :param title: page title; default the org's name.
    :param data: :func:`chart_data` already computed (``metrics`` is then ignored).
    """
    import kamcore

    package = resources.files("kamcore.chart")
    template = (package / "template.html").read_text(encoding="utf-8")
    data = _parents_acyclic(data if data is not None else chart_data(org, metrics))
    # "<" escaped so no cell can close the script element.
    blob = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
    parts = {
        "CSS": (package / "chart.css").read_text(encoding="utf-8"),
        "JS": (package / "chart.js").read_text(encoding="utf-8"),
        "TITLE": html.escape(title or org.settings.name),
        "CURRENCY": html.escape(org.settings.currency),
        "VERSION": html.escape(kamcore.__version__),
        "DATE": datetime.now(UTC).strftime("%Y-%m-%d"),
        "DATA": blob,
    }
    # One pass: text put in (a title, an account name) is never scanned for markers again.
    return re.sub(r"__(CSS|JS|TITLE|CURRENCY|VERSION|DATE|DATA)__",
                  lambda m: parts[m.group(1)], template)


def _parents_acyclic(data: dict[str, Any]) -> dict[str, Any]:
    """Cut parent and manager loops (an invalid org still draws; validate reports the loop)."""
    for table, key in (("accounts", "parent"), ("people", "reportsTo")):
        ups: list[int] = data[table][key]
        state = [0] * len(ups)
        for start in range(len(ups)):
            path = []
            node = start
            while node >= 0 and state[node] == 0:
                state[node] = 1
                path.append(node)
                node = ups[node]
            if node >= 0 and state[node] == 1:
                ups[node] = -1
            for visited in path:
                state[visited] = 2
    return data
