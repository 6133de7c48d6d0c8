"""Reading a workspace folder into an :class:`~kamcore.org.Org`.

Every problem is reported with file, line, record and column, all of them at once
(:class:`~kamcore.errors.RecordErrors`), never as a traceback.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from kamcore.errors import KamError, Location, RecordErrors, WorkspaceError
from kamcore.models import Account, Person
from kamcore.org import Duplicate, Org
from kamcore.settings import ACCOUNTS_FILE, CONFIG_FILE, PEOPLE_FILE, Settings
from kamcore.workspace.csvio import iter_dict_rows, read_table
from kamcore.workspace.yamlio import LINE_KEY, read_yaml, strip_lines

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
        raise WorkspaceError(f"setting {'.'.join(map(str, err['loc']))}: {err['msg']}",
                             location=Location(str(path), line),
                             hint=_settings_hint(key)) from None
    return settings, raw


def _line_of(raw: Any, loc: tuple[Any, ...]) -> int | None:
    line = raw.get(LINE_KEY) if isinstance(raw, dict) else None
    node = raw
    for part in loc:
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


def _csv_rows(path: Path, required: tuple[str, ...], org: Org, problems: list[KamError],
              table_name: str) -> Iterator[tuple[Location, dict[str, Any]]]:
    table, bad_rows = read_table(path, required=required)
    problems.extend(bad_rows)
    org.layout[table_name] = list(table.header)
    name = str(path)
    for line, row in iter_dict_rows(table):
        yield Location(name, line), row


def _yaml_rows(records: Any, name: str) -> Iterator[tuple[Location, dict[str, Any]]]:
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
        yield Location(name, line), flat


def _add_records(org: Org, kind: str, model: type[BaseModel],
                 rows: Iterable[tuple[Location, dict[str, Any]]], core: tuple[str, ...],
                 metric_names: set[str], problems: list[KamError]) -> None:
    table = org.accounts if kind == "account" else org.people
    for location, row in rows:
        record_id = str(row.get("id") or "").strip()
        data: dict[str, Any] = {}
        metrics: dict[str, float] = {}
        ext: dict[str, dict[str, Any]] = {}
        extra: dict[str, str] = {}
        bad = False
        for column, value in row.items():
            if column in core:
                data[column] = value
            elif column in metric_names:
                number, error = _parse_number(value)
                if error:
                    problems.append(_record_error(location, column, record_id, error,
                                                  "write a plain number like 1250000.50, or "
                                                  "leave the cell empty"))
                    bad = True
                elif number is not None:
                    metrics[column] = number
            elif "." in column:
                namespace, _, name = column.partition(".")
                if value is not None and value != "":
                    ext.setdefault(namespace, {})[name] = value
            elif value is not None and value != "":
                extra[column] = value if isinstance(value, str) else str(value)
        if kind == "account":
            data["metrics"] = metrics
        data["ext"] = ext
        data["extra"] = extra
        if bad:
            continue
        try:
            record = model.model_validate(data)
        except ValidationError as exc:
            for err in exc.errors():
                column = str(err["loc"][0]) if err["loc"] else None
                problems.append(_record_error(location, column, record_id,
                                              _explain(err, row.get(column)),
                                              _hint_for(kind, column)))
            continue
        if record.id in table:
            org.duplicates.append(Duplicate(kind, record, location))  # type: ignore[arg-type]
            continue
        table[record.id] = record  # type: ignore[assignment]
        org.locations[(kind, record.id)] = location


def _parse_number(value: Any) -> tuple[float | None, str | None]:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None
    if isinstance(value, bool):
        return None, f"{value!r} is not a number"
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        return None, f"{value!r} is not a number"
    if not math.isfinite(number):
        return None, f"{value!r} is not a finite number"
    return number, None


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


