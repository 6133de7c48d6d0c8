"""Reading a workspace folder into an :class:`~kamcore.org.Org`.

Every problem is reported with file, line, record and column, all of them at once
(:class:`~kamcore.errors.RecordErrors`), never as a traceback.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from kamcore.errors import KamError, Location, RecordErrors, WorkspaceError
from kamcore.models import Account, Person
from kamcore.models.quick import quick_account, quick_person
from kamcore.org import Duplicate, Org
from kamcore.perf import paused_gc
from kamcore.settings import ACCOUNTS_FILE, CONFIG_FILE, PEOPLE_FILE, Settings
from kamcore.workspace.csvio import read_table
from kamcore.workspace.yamlio import KEY_LINES, LINE_KEY, read_yaml, strip_lines

if TYPE_CHECKING:
    import pluggy

    from kamcore.registry import Registry

ACCOUNT_COLUMNS = ("id", "name", "tier", "parent", "manager", "country", "industry", "currency")
PERSON_COLUMNS = ("id", "name", "role", "reports_to", "capacity", "email", "active", "specialty")


def resolve_workspace(path: str | Path) -> Path:
    """The workspace folder for ``path`` (a folder, or its kam.yaml)."""
    target = Path(path)
    if target.is_file() and target.name == CONFIG_FILE:
        return target.parent
    if not target.exists():
        raise WorkspaceError(f"{target} does not exist",
                             hint=f"create a workspace with `kam init {target}`")
    if not target.is_dir():
        raise WorkspaceError(f"{target} is not a workspace folder",
                             hint="pass the folder that holds kam.yaml")
    return target


def load_settings(folder: Path) -> tuple[Settings, dict[str, Any]]:
    """Read ``kam.yaml``; returns the settings and the raw mapping (with line numbers)."""
    path = folder / CONFIG_FILE
    raw = read_yaml(path)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise WorkspaceError("kam.yaml must be a mapping of settings (name: ..., currency: ...)",
                             location=Location(str(path), 1))
    try:
        settings = Settings.model_validate(strip_lines(raw))
    except ValidationError as exc:
        err = exc.errors()[0]
        key = err["loc"][0] if err["loc"] else None
        line = _line_of(raw, err["loc"])
        message = str(err["msg"]).removeprefix("Value error, ")
        raise WorkspaceError(f"setting {'.'.join(map(str, err['loc']))}: {message}",
                             location=Location(str(path), line),
                             hint=_settings_hint(key)) from None
    return settings, raw


def _line_of(raw: Any, loc: tuple[Any, ...]) -> int | None:
    line = raw.get(LINE_KEY) if isinstance(raw, dict) else None
    node = raw
    for part in loc:
        if isinstance(node, dict) and part in node.get(KEY_LINES, {}):
            line = node[KEY_LINES][part]
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and part < len(node)
        if in_dict or in_list:
            node = node[part]
        else:
            break
        if isinstance(node, dict) and LINE_KEY in node:
            line = node[LINE_KEY]
    return line


def _settings_hint(key: object) -> str:
    if key in Settings.model_fields:
        return f"see the comments kam init writes for {key!r}, or docs/workspace.md"
    return ("known settings: " + ", ".join(Settings.model_fields)
            + "; plugin settings go under 'plugins:'")


def load(path: str | Path, *, pm: pluggy.PluginManager | None = None,
         registry: Registry | None = None) -> Org:
    """Load the workspace at ``path`` (a folder with kam.yaml, accounts.csv, people.csv).

    :param path: the workspace folder, or its kam.yaml.
    :param pm: the plugin manager whose plugins declare fields and metrics; by default
        :func:`kamcore.get_plugin_manager` with every installed plugin.
    :param registry: an already-built registry (overrides ``pm``).
    :returns: the org, with every record's file and line.
    :raises WorkspaceError: a file is missing or unreadable.
    :raises RecordErrors: records could not be parsed (all of them are listed).
    """
    with paused_gc():
        return _load(path, pm, registry)


def _load(path: str | Path, pm: pluggy.PluginManager | None, registry: Registry | None) -> Org:
    from kamcore.registry import registry_for

    folder = resolve_workspace(path)
    settings, raw = load_settings(folder)
    if registry is None:
        if pm is None:
            from kamcore.plugins import get_plugin_manager

            pm = get_plugin_manager()
        registry = registry_for(pm)
    org = Org(settings=settings, accounts={}, people={}, registry=registry, path=folder)
    metric_names = set(org.metrics)
    problems: list[KamError] = []
    config_path = str(folder / CONFIG_FILE)
    if settings.accounts is not None or settings.people is not None:
        org.storage = "inline"
        account_rows = _yaml_rows(raw.get("accounts") or [], config_path)
        people_rows = _yaml_rows(raw.get("people") or [], config_path)
    else:
        account_rows = _csv_rows(folder / ACCOUNTS_FILE, ("id", "name", "tier"), org, problems,
                                 "accounts")
        people_rows = _csv_rows(folder / PEOPLE_FILE, ("id", "name", "role"), org, problems,
                                "people")
    _add_records(org, "account", Account, account_rows, ACCOUNT_COLUMNS, metric_names, problems)
    _add_records(org, "person", Person, people_rows, PERSON_COLUMNS, set(), problems)
    if problems:
        raise RecordErrors(problems)
    return org


#: One record as read: where, the column names, the cells (a CSV row or an inline mapping).
RawRow = tuple[Location, tuple[str, ...], list[Any]]


def _csv_rows(path: Path, required: tuple[str, ...], org: Org, problems: list[KamError],
              table_name: str) -> Iterator[RawRow]:
    table, bad_rows = read_table(path, required=required)
    problems.extend(bad_rows)
    org.layout[table_name] = list(table.header)
    name = str(path)
    header = tuple(table.header)
    for line, row in table.rows:
        yield Location(name, line), header, row


def _yaml_rows(records: Any, name: str) -> Iterator[RawRow]:
    if not isinstance(records, list):
        raise WorkspaceError("inline records must be a list of mappings",
                             location=Location(name), hint="write '- {id: ..., name: ...}'")
    for record in records:
        if not isinstance(record, dict):
            raise WorkspaceError(f"inline record {record!r} is not a mapping",
                                 location=Location(name))
        line = record.get(LINE_KEY)
        flat: dict[str, Any] = {}
        for key, value in strip_lines(record).items():
            if key == "metrics" and isinstance(value, dict):
                flat.update(value)
            elif isinstance(value, dict):
                flat.update({f"{key}.{k}": v for k, v in value.items()})
            else:
                flat[str(key)] = value
        yield Location(name, line), tuple(flat), list(flat.values())


def _add_records(org: Org, kind: str, model: type[Account] | type[Person], rows: Iterable[RawRow],
                 core: tuple[str, ...], metric_names: set[str], problems: list[KamError]) -> None:
    table: dict[str, Any] = org.accounts if kind == "account" else org.people
    quick = quick_account if kind == "account" else quick_person
    plans: dict[tuple[str, ...], _Plan] = {}  # one per header: CSV has one, inline YAML a few
    for location, header, cells in rows:
        plan = plans.get(header)
        if plan is None:
            plan = plans[header] = _Plan(header, set(core), metric_names)
        data = {name: cells[i] for name, i in plan.core}
        metrics: dict[str, float] = {}
        ext: dict[str, dict[str, Any]] = {}
        extra: dict[str, str] = {}
        bad = False
        for name, i in plan.metrics:
            value = cells[i]
            if value is None or value == "":
                continue
            try:
                number = float(value)
            except (TypeError, ValueError):
                if not str(value).strip():
                    continue
                number = math.nan
            if not math.isfinite(number) or isinstance(value, bool):
                problems.append(_record_error(
                    location, name, str(data.get("id") or "").strip(),
                    f"{value!r} is not a {'finite ' if _is_float(value) else ''}number",
                    "write a plain number like 1250000.50, or leave the cell empty"))
                bad = True
            else:
                metrics[name] = number
        for namespace, name, i in plan.ext:
            value = cells[i]
            if value is not None and value != "":
                ext.setdefault(namespace, {})[name] = value
        for name, i in plan.extra:
            value = cells[i]
            if value is not None and value != "":
                extra[name] = value if isinstance(value, str) else str(value)
        if bad:
            continue
        record = quick(data, metrics, ext, extra)
        if record is None:
            data = {k: v for k, v in data.items() if v is not None and v != ""}
            if kind == "account":
                data["metrics"] = metrics
            data["ext"] = ext
            data["extra"] = extra
            try:
                record = model.model_validate(data)
            except ValidationError as exc:
                record_id = str(data.get("id") or "").strip()
                for err in exc.errors():
                    column = str(err["loc"][0]) if err["loc"] else None
                    problems.append(_record_error(location, column, record_id,
                                                  _explain(err, data.get(column or "")),
                                                  _hint_for(kind, column)))
                continue
        if record.id in table:
            org.duplicates.append(Duplicate(kind, record, location))
            continue
        table[record.id] = record
        org.locations[(kind, record.id)] = location


class _Plan:
    """Which cell of a row goes where, worked out once per header."""

    def __init__(self, header: tuple[str, ...], core: set[str], metric_names: set[str]) -> None:
        self.core: list[tuple[str, int]] = []
        self.metrics: list[tuple[str, int]] = []
        self.ext: list[tuple[str, str, int]] = []
        self.extra: list[tuple[str, int]] = []
        for i, column in enumerate(header):
            if column in core:
                self.core.append((column, i))
            elif column in metric_names:
                self.metrics.append((column, i))
            elif "." in column:
                namespace, _, name = column.partition(".")
                self.ext.append((namespace, name, i))
            else:
                self.extra.append((column, i))


def _is_float(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _record_error(location: Location, column: str | None, record_id: str, message: str,
                  hint: str | None) -> KamError:
    who = f"record {record_id!r}: " if record_id else "record without id: "
    return KamError(who + message, location=Location(location.file, location.line, column),
                    hint=hint)


def _explain(err: Any, value: Any) -> str:
    msg = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "missing":
        return "is missing a value"
    if err["type"] == "enum":
        return f"{value!r} is not allowed: {msg.lower()}"
    if err["type"] == "string_pattern_mismatch":
        return f"{value!r} is not a valid id (no commas, no leading or trailing spaces)"
    return msg


def _hint_for(kind: str, column: str | None) -> str | None:
    hints = {
        "tier": "tier is one of global, national, key, regular",
        "role": "role is one of vp, director, gam, nam, kam, am, support",
        "country": "use the two-letter ISO code, e.g. DE for Germany, GB for the UK",
        "currency": "use the three-letter ISO code, e.g. EUR, USD, GBP",
        "capacity": "capacity is a whole number of accounts, e.g. 12",
        "active": "active is true or false",
        "id": "every record needs a unique id",
        "name": "every record needs a name",
    }
    return hints.get(column or "")


def load_settings_only(path: str | Path) -> Settings:
    """Just the settings of a workspace (for commands that read facts, not records)."""
    return load_settings(resolve_workspace(path))[0]


