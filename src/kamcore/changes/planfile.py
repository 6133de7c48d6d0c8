"""Plan files: a reorganisation written down as lines of changes, in YAML or CSV.

Both forms hold the same lines with the same field names (see docs/plans.md and ``kam schema
--record plan``)::

    reason: 2027 re-cut                       # optional, the default reason of every line
    lines:
      - {op: move, id: ACME-DE-BER, to: ACME-DE-MUN}
      - {op: assign, id: NOVA-US, to: NAM-NOVA-US, reason: Tom moves to Chicago}
      - {op: leave, id: KAM-ACME-DE, spread: true, effective: 2027-01-01}

    op,id,to,spread,reason,effective          # the CSV form: one line per row
    move,ACME-DE-BER,ACME-DE-MUN,,,

Every line is read with its file and line number; every bad line is reported (all of them,
located), and nothing is planned from a file with a bad line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from kamcore.errors import KamError, Location, PlanErrors, WorkspaceError

OPS = ("move", "assign", "handover", "leave", "hire", "tier")
#: The fields each op takes besides ``op``, ``id``, ``reason`` and ``effective``.
FIELDS: dict[str, tuple[str, ...]] = {
    "move": ("to", "root"),
    "assign": ("to",),
    "tier": ("to",),
    "handover": ("to", "spread", "balance"),
    "leave": ("to", "spread", "balance", "reports_to"),
    "hire": ("name", "role", "reports_to", "capacity", "email", "specialty"),
}
COMMON = ("op", "id", "reason", "effective")
#: Column order of the CSV form (and of lines written back).
COLUMNS = ("op", "id", "to", "root", "spread", "balance", "reports_to", "name", "role",
           "capacity", "email", "specialty", "reason", "effective")
_SPLIT = re.compile(r"[;,]")


class PlanLine(BaseModel):
    """One change of a plan. ``id`` is the account (move, assign, tier) or the person
    (handover, leave, hire) the line is about; ``to`` is where it goes."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True,
                              coerce_numbers_to_str=True)

    op: Literal["move", "assign", "handover", "leave", "hire", "tier"]
    id: str = Field(min_length=1, description="the account or person the line is about")
    to: str | list[str] | None = Field(
        default=None, description="move: the new parent account; assign: the new manager; "
        "tier: the new tier; handover and leave: the successors (a list, or ids separated "
        "by ';')")
    root: bool = Field(default=False, description="move: make the account a root")
    spread: bool = Field(default=False, description="handover, leave: spread the book by "
                         "capacity over fitting colleagues")
    balance: Literal["count", "revenue"] = Field(
        default="count", description="handover, leave: what several successors share evenly")
    reports_to: str | None = Field(default=None, description="leave: whom their reports "
                                   "report to now; hire: the newcomer's manager")
    name: str | None = None
    role: Literal["vp", "director", "gam", "nam", "kam", "am", "support"] | None = None
    capacity: int | None = Field(default=None, ge=0)
    email: str | None = None
    specialty: str | None = None
    reason: str | None = Field(default=None, description="why, journalled with the line")
    effective: date | None = Field(default=None, description="the day the change holds from "
                                   "(recorded in the journal)")

    @field_validator("role", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _fits_op(self) -> PlanLine:
        allowed = FIELDS[self.op]
        given = [k for k in self.model_fields_set if k not in COMMON]
        stray = [k for k in given if k not in allowed]
        if stray:
            raise ValueError(f"{', '.join(stray)} does not apply to {self.op} (it takes: "
                             f"{', '.join(allowed)})")
        many = isinstance(self.to, list)
        if self.op == "move":
            if (self.to is None) == (not self.root) or many:
                raise ValueError("move needs one of to: PARENT or root: true")
        elif self.op in ("assign", "tier"):
            if self.to is None or many:
                what = "PERSON" if self.op == "assign" else "global|national|key|regular"
                raise ValueError(f"{self.op} needs to: {what}")
        elif self.op == "handover" and not self.successors and not self.spread:
            raise ValueError("handover needs to: PERSON (or several) or spread: true")
        elif self.op == "hire" and (self.name is None or self.role is None):
            raise ValueError("hire needs name and role")
        if self.spread and self.successors:
            raise ValueError("use either to or spread: true, not both")
        return self

    @property
    def successors(self) -> list[str]:
        """``to`` as a list of person ids (handover, leave)."""
        if self.to is None:
            return []
        cells = self.to if isinstance(self.to, list) else _SPLIT.split(self.to)
        return [c.strip() for c in cells if c and c.strip()]

    def step_args(self) -> tuple[str, dict[str, Any]]:
        """The op and arguments of :data:`kamcore.changes.ops.STEPS` this line runs."""
        if self.op == "move":
            return "move", {"account": self.id, "to": None if self.root else self.to}
        if self.op == "assign":
            return "assign", {"account": self.id, "manager": self.to}
        if self.op == "tier":
            return "tier", {"account": self.id, "tier": self.to}
        if self.op == "hire":
            return "hire", {k: v for k, v in {
                "id": self.id, "name": self.name, "role": self.role,
                "reports_to": self.reports_to, "capacity": self.capacity, "email": self.email,
                "specialty": self.specialty}.items() if v is not None}
        args: dict[str, Any] = {"person": self.id, "to": self.successors,
                                "spread": self.spread, "balance": self.balance}
        if self.op == "leave":
            args["reports_to"] = self.reports_to
        return self.op, args

    def to_json(self) -> dict[str, Any]:
        """The fields given, JSON types (what the journal keeps and a plan file holds)."""
        return self.model_dump(mode="json", include=set(self.model_fields_set) | {"op", "id"})


class PlanFile(BaseModel):
    """A plan file: defaults for every line, then the lines in the order they apply."""

    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, description="the default reason of every line")
    effective: date | None = Field(default=None, description="the default effective date")
    lines: list[PlanLine] = Field(description="the changes, applied in order: each line "
                                  "sees the effect of the lines before it")


@dataclass(frozen=True)
class Line:
    """A plan line and where it was written."""

    spec: PlanLine
    location: Location

    @property
    def number(self) -> int:
        return self.location.line or 0


def read_plan(path: str | Path) -> list[Line]:
    """Every line of the plan file at ``path`` (``.yaml``/``.yml`` or ``.csv``), checked.

    :raises PlanErrors: lines that are not changes (unknown op, missing or stray fields...),
        all of them, each with file and line.
    :raises WorkspaceError: the file cannot be read at all.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        raw, problems = _csv_lines(path)
    elif suffix in (".yaml", ".yml"):
        raw, problems = _yaml_lines(path)
    else:
        raise WorkspaceError(f"{path}: a plan file ends in .yaml, .yml or .csv",
                             hint="see docs/plans.md for both forms")
    lines: list[Line] = []
    for where, data in raw:
        try:
            lines.append(Line(PlanLine.model_validate(data), where))
        except ValidationError as exc:
            problems.append(_line_error(exc, where, data))
    if problems:
        raise PlanErrors(problems)
    return lines


def lines_from_json(args: dict[str, Any]) -> list[Line]:
    """The lines a journalled plan was made of (``Plan.args``), to make it again."""
    source = str(args.get("file") or "plan")
    return [Line(PlanLine.model_validate({k: v for k, v in raw.items() if k != "line"}),
                 Location(source, raw.get("line")))
            for raw in args.get("lines", [])]


def render_plan_yaml(lines: list[PlanLine], *, comment: str | None = None,
                     sources: list[str] | None = None) -> str:
    """A YAML plan file, one line per change (so a review in git shows one change a line).

    :param comment: text for the ``#`` lines at the top.
    :param sources: a note per line (where it came from), written as a comment after it.
    """
    import yaml

    out = [f"# {text}".rstrip() for text in (comment or "").splitlines()]
    out.append("lines:" if lines else "lines: []")
    for number, line in enumerate(lines):
        flow = yaml.safe_dump(line.to_json(), default_flow_style=True, sort_keys=False,
                              allow_unicode=True, width=10**9).strip()
        note = sources[number] if sources else ""
        out.append(f"  - {flow}" + (f"  # {' '.join(note.split())}" if note else ""))
    return "\n".join(out) + "\n"


def render_plan_csv(lines: list[PlanLine]) -> str:
    """The CSV form of ``lines`` (formula-like cells neutralised for spreadsheets)."""
    from kamcore.workspace.csvio import render_csv

    rows = []
    for line in lines:
        data = line.to_json()
        if isinstance(data.get("to"), list):
            data["to"] = ";".join(data["to"])
        rows.append([data.get(c) for c in COLUMNS])
    used = [i for i, c in enumerate(COLUMNS) if c in ("op", "id") or any(r[i] is not None
                                                                      for r in rows)]
    return render_csv([COLUMNS[i] for i in used], ([r[i] for i in used] for r in rows),
                      safe=True)  # a plan sheet is opened in a spreadsheet: no formulas


def _yaml_lines(path: Path) -> tuple[list[tuple[Location, dict[str, Any]]], list[KamError]]:
    from kamcore.workspace.yamlio import KEY_LINES, LINE_KEY, read_yaml, strip_lines

    data = read_yaml(path)
    where = Location(str(path), 1)
    if not isinstance(data, dict) or not isinstance(data.get("lines"), list):
        raise WorkspaceError("a plan file is a mapping with a list under lines:",
                             location=where, hint="see docs/plans.md for the form")
    top = {k: v for k, v in strip_lines(data).items() if k != "lines"}
    problems: list[KamError] = []
    try:
        defaults = PlanFile.model_validate({**top, "lines": []})
    except ValidationError as exc:
        lines_of = data.get(KEY_LINES, {})
        err = exc.errors()[0]
        key = str(err["loc"][0]) if err["loc"] else ""
        raise WorkspaceError(f"{key or 'plan'}: {_message(err)}",
                             location=Location(str(path), lines_of.get(key, 1)),
                             hint="the top level takes reason, effective and lines") from None
    out = []
    for item in data["lines"]:
        line = item.get(LINE_KEY) if isinstance(item, dict) else None
        at = Location(str(path), line or data.get(KEY_LINES, {}).get("lines"))
        if not isinstance(item, dict):
            problems.append(WorkspaceError(f"a plan line is a mapping, not {item!r}",
                                           location=at, hint="write {op: move, id: A, to: B}"))
            continue
        out.append((at, _with_defaults(strip_lines(item), defaults)))
    return out, problems


def _csv_lines(path: Path) -> tuple[list[tuple[Location, dict[str, Any]]], list[KamError]]:
    from kamcore.workspace.csvio import iter_dict_rows, read_table

    table, problems = read_table(path, required=("op", "id"))
    defaults = PlanFile(lines=[])
    out = []
    for number, row in iter_dict_rows(table):
        cells = {k.strip(): v.strip() for k, v in row.items() if k and v and v.strip()}
        if not cells:
            continue
        out.append((Location(str(path), number), _with_defaults(cells, defaults)))
    return out, list(problems)


def _with_defaults(data: dict[str, Any], defaults: PlanFile) -> dict[str, Any]:
    for key in ("reason", "effective"):
        value = getattr(defaults, key)
        if value is not None and key not in data:
            data[key] = value
    return data


def _line_error(exc: ValidationError, where: Location, data: dict[str, Any]) -> WorkspaceError:
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err["loc"] if not isinstance(p, int))
    what = f"{data.get('op', '?')} {data.get('id', '?')}"
    prefix = f"{field}: " if field else ""
    if err["type"] == "extra_forbidden":
        message = f"unknown field {field!r}"
        hint = "a plan line takes " + ", ".join(COLUMNS)
    elif field == "op":
        message = f"op {data.get('op')!r} is not one of {', '.join(OPS)}"
        hint = "see docs/plans.md for what each op takes"
    else:
        message = prefix + _message(err)
        hint = "see docs/plans.md for what each op takes"
    return WorkspaceError(f"{what}: {message}", location=where, hint=hint)


def _message(err: Any) -> str:
    return str(err["msg"]).removeprefix("Value error, ")
