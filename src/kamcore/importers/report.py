"""The import report: everything an import decided or could not do, for a person to check.

Problems (unusable records, missing parents, loops, countries that could not be mapped, numbers
that are not numbers) fail ``--strict``; notes (inferred tiers, names mapped to codes, merged
industry spellings, placeholder people) are there to be read.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeVar, overload

from kamcore.wording import noun, plural

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

_T = TypeVar("_T")

#: Rows a section of the Markdown report shows at most; a longer section shows its first rows
#: (inferred tiers: :data:`EXAMPLES` of each tier) and every row goes to its listing.
SHOWN = 50
#: Accounts of each tier the report shows when the inferred tiers are more than :data:`SHOWN`.
EXAMPLES = 10
#: The CSV files beside import-report.md that list every row of a section cut short, by section.
LISTINGS = {"problems": "import-report-problems.csv", "tiers": "import-report-tiers.csv",
            "placeholders": "import-report-placeholders.csv",
            "roles": "import-report-roles.csv"}
#: Each listing's columns.
LISTING_HEADERS = {"problems": ["kind", "file", "line", "record", "problem", "hint"],
                   "tiers": ["line", "account", "name", "tier", "why"],
                   "placeholders": ["person", "reason"],
                   "roles": ["person", "title", "role"]}
#: Tiers, highest first (the report's order).
TIER_ORDER = ("global", "national", "key", "regular")


@dataclass(frozen=True)
class Problem:
    """Something the import could not do as asked; ``--strict`` turns these into errors."""

    kind: str
    message: str
    file: str | None = None
    line: int | None = None
    record: str | None = None
    hint: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}: " if self.file and self.line else (
            f"{self.file}: " if self.file else "")
        who = f"{self.record}: " if self.record else ""
        hint = f" ({self.hint})" if self.hint else ""
        return f"{where}{who}{self.message}{hint}"


@dataclass(frozen=True)
class InferredTier:
    record: str
    name: str
    tier: str
    reason: str
    line: int | None = None


class LazyLines(Sequence[_T]):
    """Items made when they are read (the Markdown report shows 50 of 200,000 findings).

    :param many: makes the items of several indices at once (a slice, or the whole list),
        when that is cheaper than one at a time.
    """

    def __init__(self, count: int, item: Callable[[int], _T],
                 many: Callable[[Sequence[int]], list[_T]] | None = None) -> None:
        self._count, self._item = count, item
        self._many = many or (lambda rows: [item(i) for i in rows])

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> _T: ...

    @overload
    def __getitem__(self, index: slice) -> list[_T]: ...

    def __getitem__(self, index: int | slice) -> _T | list[_T]:
        if isinstance(index, slice):
            return self._many(range(*index.indices(self._count)))
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError(index)
        return self._item(index)

    def __iter__(self) -> Iterator[_T]:
        return iter(self._many(range(self._count)))


class InferredTiers(LazyLines[InferredTier]):
    """The inferred tiers of many accounts as columns: an :class:`InferredTier` is made only
    for the ones asked for, and the report's table is joined in Arrow (a million rows)."""

    def __init__(self, record: pa.Array, name: pa.Array, tier: pa.Array, reason: pa.Array,
                 line: np.ndarray) -> None:
        super().__init__(len(record), self._tier_at)
        self.record, self.name, self.tier, self.reason = record, name, tier, reason
        #: each account's line (0: none)
        self.line = line

    def _tier_at(self, index: int) -> InferredTier:
        from kamcore.models import Tier

        return InferredTier(self.record[index].as_py(), self.name[index].as_py(),
                            Tier(self.tier[index].as_py()), self.reason[index].as_py(),
                            int(self.line[index]) or None)

    def __iter__(self) -> Iterator[InferredTier]:
        from kamcore.models import Tier

        tiers = {t.value: t for t in Tier}
        for record, name, tier, reason, line in zip(
                self.record.to_pylist(), self.name.to_pylist(), self.tier.to_pylist(),
                self.reason.to_pylist(), self.line.tolist(), strict=True):
            yield InferredTier(record, name, tiers[tier], reason, line or None)

    def counts(self) -> Counter[str]:
        """How many accounts got each tier."""
        import pyarrow.compute as pc

        found = pc.value_counts(self.tier)
        return Counter(dict(zip(found.field("values").to_pylist(),
                                found.field("counts").to_pylist(), strict=True)))

    def examples(self, each: int) -> list[InferredTier]:
        """The first ``each`` accounts of every tier, highest tier first."""
        import pyarrow.compute as pc

        from kamcore.exporters.columns import str_scalar

        out = []
        for tier in TIER_ORDER:
            rows = pc.indices_nonzero(pc.equal(self.tier, str_scalar(tier)))
            out += [self._tier_at(i) for i in rows.slice(0, each).to_pylist()]
        return out

    def json_objects(self, start: int, stop: int) -> pa.Array:
        """Rows ``start:stop`` as ``json.dumps(asdict(tier), indent=2)`` writes each inside the
        report (nesting 2), each followed by :data:`~kamcore.exporters.columns.ROW_END`."""
        from kamcore.exporters import columns as cols

        table = self.listing().slice(start, stop - start)
        pieces: cols.Pieces = ["    {"]
        for key, column in zip(("record", "name", "tier", "reason", "line"),
                               ("account", "name", "tier", "why", "line"), strict=True):
            lead = "\n      " if key == "record" else ",\n      "
            pieces += [f'{lead}"{key}": ', cols.json_literals(
                table.column(column).combine_chunks()).fill_null("null")]
        pieces += ["\n    }", cols.ROW_END]
        return cols.joined(pieces, stop - start)

    def listing(self) -> pa.Table:
        """The listing's table (:data:`LISTING_HEADERS`): each account's line (null: none),
        id, name, tier and why."""
        import pyarrow as pa

        line = pa.array(self.line, pa.int64(), mask=self.line == 0)
        return pa.table([line, self.record, self.name, self.tier, self.reason],
                        names=LISTING_HEADERS["tiers"])


@dataclass
class CountryNote:
    """One distinct country cell and what became of it."""

    value: str
    code: str | None
    status: str
    hint: str | None
    lines: list[int] = field(default_factory=list)


@dataclass
class ImportReport:
    """What one import did; rendered as Markdown or JSON beside the workspace."""

    source: str
    files: dict[str, str] = field(default_factory=dict)
    output: str = ""
    accounts: int = 0
    people: int = 0
    tier_source: str = "inferred"
    key_revenue: float | None = None
    problems: list[Problem] = field(default_factory=list)
    tiers: Sequence[InferredTier] = field(default_factory=list)
    countries: dict[str, CountryNote] = field(default_factory=dict)
    industries: dict[str, Counter[str]] = field(default_factory=dict)
    placeholders: list[tuple[str, str]] = field(default_factory=list)
    roles: list[tuple[str, str, str]] = field(default_factory=list)
    mapped_columns: dict[str, str] = field(default_factory=dict)
    kept_columns: list[str] = field(default_factory=list)
    findings: dict[str, int] = field(default_factory=dict)
    #: How many findings of each code.
    finding_codes: dict[str, int] = field(default_factory=dict)
    #: Each finding of ``kam validate`` on the result, names beside ids.
    finding_lines: Sequence[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def problem(self, kind: str, message: str, *, file: str | None = None,
                line: int | None = None, record: str | None = None,
                hint: str | None = None) -> None:
        self.problems.append(Problem(kind, message, file, line, record, hint))

    def country(self, value: str, code: str | None, status: str, hint: str | None,
                *lines: int) -> None:
        """Note what became of a country cell, on each of ``lines``."""
        note = self.countries.get(value)
        if note is None:
            note = self.countries[value] = CountryNote(value, code, status, hint)
        note.lines.extend(lines)

    @property
    def unmapped_countries(self) -> list[CountryNote]:
        return [n for n in self.countries.values() if n.code is None and n.status != "empty"]

    def all_problems(self) -> list[Problem]:
        """Problems, with one per unmapped country value (they are reported by value)."""
        out = list(self.problems)
        for note in self.unmapped_countries:
            out.append(Problem("country", f"country {note.value!r} ({note.status}) on "
                               f"{plural(len(note.lines), 'record')}, "
                               f"{noun(len(note.lines), 'line')} {_lines(note.lines)}",
                               self.files.get("accounts"), note.lines[0], None, note.hint))
        return out

    # -- rendering ------------------------------------------------------------------------

    def summary(self) -> str:
        """A few lines for stderr."""
        into = f" into {self.output}" if self.output else ""
        lines = [f"imported {plural(self.accounts, 'account')} and "
                 f"{plural(self.people, 'person')} from {self.source}{into}"]
        details = []
        if self.tiers:
            details.append(f"{plural(len(self.tiers), 'tier')} inferred")
        problems = self.all_problems()
        if problems:
            kinds = Counter(p.kind for p in problems)
            details.append(", ".join(plural(n, f"{k} problem") for k, n in sorted(kinds.items())))
        if self.placeholders:
            details.append(plural(len(self.placeholders), "placeholder person"))
        if self.findings:
            details.append(f"kam validate: {plural(self.findings.get('error', 0), 'error')}, "
                           f"{plural(self.findings.get('warning', 0), 'warning')}")
        if details:
            lines.append("  " + "; ".join(details))
        lines += [f"  {note}" for note in self.notes if note.startswith("currency:")]
        return "\n".join(lines)

    def to_json(self) -> str:
        """The JSON report (:meth:`json_bytes` as text)."""
        return self.json_bytes().decode("utf-8")

    def json_bytes(self) -> bytes:
        """The JSON report as ``json.dumps(indent=2, ensure_ascii=False)`` of every field
        writes it, in UTF-8. Inferred tiers held as columns (a million at 1M accounts) are
        written from the columns (:meth:`InferredTiers.json_objects`), not one dict each."""
        import io

        columnar = isinstance(self.tiers, InferredTiers) and len(self.tiers) > 0
        data: dict[str, Any] = asdict(replace(self, tiers=[], finding_lines=[], problems=[]))
        if not columnar:
            data["tiers"] = [asdict(t) for t in self.tiers]
        data["finding_lines"] = list(self.finding_lines)
        data["problems"] = [asdict(p) for p in self.all_problems()]
        data["industries"] = {k: dict(v) for k, v in self.industries.items()}
        data["placeholders"] = [{"person": p, "reason": r} for p, r in self.placeholders]
        data["roles"] = [{"person": p, "title": t, "role": r} for p, t, r in self.roles]
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        if not columnar:
            return text.encode("utf-8")
        from kamcore.exporters.columns import write_json_list

        assert isinstance(self.tiers, InferredTiers)
        # a top-level key is the only place a newline and two spaces come before a key: a
        # newline inside a string is written as \n
        head, tail = text.split('\n  "tiers": []', 1)
        out = io.BytesIO()
        out.write((head + '\n  "tiers": ').encode("utf-8"))
        write_json_list(out, len(self.tiers), self.tiers.json_objects)
        out.write(tail.encode("utf-8"))
        return out.getvalue()

    def grouped_problems(self) -> list[list[Problem]]:
        """Problems of one kind said the same way (only ids, quoted values and numbers
        differ), in first-seen order: thirty-five "title '' matches no role" are one group."""
        groups: dict[tuple[str, str | None, str, str | None], list[Problem]] = {}
        for p in self.all_problems():
            key = (p.kind, p.file, _QUOTED.sub("…", _shape(p.message)), p.hint)
            groups.setdefault(key, []).append(p)
        return list(groups.values())

    def problems_section(self, intro: str, listing: str | None = None) -> list[str]:
        """The Markdown lines of the problems: a table with file and line, or "None.";
        problems of one kind said the same way share a row (count, first lines, the fix).

        :param listing: the file that lists every problem, named when there are more than
            :data:`SHOWN`; then at most :data:`SHOWN` rows are shown.
        """
        problems = self.all_problems()
        out = [f"## Problems ({len(problems)})", ""]
        if not problems:
            return [*out, "None.", ""]
        out += [intro, ""]
        every = self.grouped_problems()
        groups = every
        if listing is not None and len(problems) > SHOWN:
            out += [_listed(len(problems), "problem", listing) + ", one a line.", ""]
            groups = every[:SHOWN]
        out += ["| kind | where | record | problem | hint |", "|---|---|---|---|---|"]
        for group in groups:
            p = group[0]
            if len(group) == 1:
                where = f"{p.file}:{p.line}" if p.line else (p.file or "")
                out.append(f"| {p.kind} | {_md(where)} | {_md(p.record or '')} | "
                           f"{_md(p.message)} | {_md(p.hint or '')} |")
                continue
            lines = [q.line for q in group if q.line]
            where = f"{p.file}: lines {_lines(lines)}" if lines else (p.file or "")
            records = [q.record for q in group if q.record]
            shown = ", ".join(records[:3]) + (f" and {len(records) - 3} more"
                                              if len(records) > 3 else "")
            message = (p.message if all(q.message == p.message for q in group)
                       else f"{p.message} (and {len(group) - 1} alike)")
            out.append(f"| {p.kind} ({len(group)}×) | {_md(where)} | {_md(shown)} | "
                       f"{_md(message)} | {_md(p.hint or '')} |")
        left = len(every) - len(groups)
        if left:
            out.append(f"\n... and {plural(left, 'more group')} in `{listing}`.")
        return [*out, ""]

    def problem_lines(self, limit: int = 50) -> list[str]:
        """One line per group of problems (see :meth:`grouped_problems`), for ``--strict``."""
        out = []
        for group in self.grouped_problems()[:limit]:
            p = group[0]
            if len(group) == 1:
                out.append(str(p))
                continue
            lines = [q.line for q in group if q.line]
            where = f"{p.file}: lines {_lines(lines)}: " if lines else ""
            hint = f" ({p.hint})" if p.hint else ""
            message = (p.message if all(q.message == p.message for q in group)
                       else f"{p.message} (and {len(group) - 1} alike)")
            out.append(f"{len(group)}× {where}{message}{hint}")
        return out

    def listings(self) -> dict[str, pa.Table]:
        """The sections the Markdown report cuts short (more than :data:`SHOWN` rows), each
        as the table of its listing (:data:`LISTINGS`, :data:`LISTING_HEADERS`; line numbers
        as numbers, null where none)."""
        import pyarrow as pa

        def table(section: str, rows: Sequence[Sequence[object]]) -> pa.Table:
            names = LISTING_HEADERS[section]
            return pa.table([pa.array([row[i] for row in rows],
                                      pa.int64() if name == "line" else pa.string())
                             for i, name in enumerate(names)], names=names)

        out: dict[str, pa.Table] = {}
        problems = self.all_problems()
        if len(problems) > SHOWN:
            out["problems"] = table("problems", [(p.kind, p.file, p.line, p.record, p.message,
                                                  p.hint) for p in problems])
        if len(self.tiers) > SHOWN:
            out["tiers"] = (self.tiers.listing() if isinstance(self.tiers, InferredTiers) else
                            table("tiers", [(t.line, t.record, t.name, str(t.tier), t.reason)
                                            for t in self.tiers]))
        if len(self.placeholders) > SHOWN:
            out["placeholders"] = table("placeholders", self.placeholders)
        if len(self.roles) > SHOWN:
            out["roles"] = table("roles", self.roles)
        return out

    def to_markdown(self) -> str:
        """The report for a person: counts, then each section's rows; a section of more than
        :data:`SHOWN` rows shows its first ones and names the CSV file beside the report that
        lists them all (:meth:`listings`)."""
        out = [f"# Import report: {self.source}", ""]
        for kind, path in self.files.items():
            out.append(f"- {kind}: `{path}`")
        out += [f"- workspace: `{self.output}`",
                f"- imported: {plural(self.accounts, 'account')}, {plural(self.people, 'person')}",
                f"- tiers: {self.tier_source}"
                + (f" (large-account revenue threshold {self.key_revenue:,.0f})"
                   if self.key_revenue is not None else "")]
        out += [f"- {note}" for note in self.notes]
        out.append("")
        if self.findings:
            out += [f"`kam validate` on the result: "
                    f"{plural(self.findings.get('error', 0), 'error')}, "
                    f"{plural(self.findings.get('warning', 0), 'warning')}, "
                    f"{self.findings.get('info', 0)} info.", ""]
        if self.finding_lines:
            shown = self.finding_lines[:SHOWN]
            out += [f"## Findings ({len(self.finding_lines)})", ""]
            if len(self.finding_lines) > len(shown) and self.finding_codes:
                out += ["By code: " + ", ".join(f"{_md(code)} {n:,}" for code, n in
                                                sorted(self.finding_codes.items())) + ".", ""]
            out += ["What `kam validate` says about the result, errors first:", ""]
            out += [f"- {_md(line)}" for line in shown]
            if len(self.finding_lines) > len(shown):
                out.append(f"- ... and {len(self.finding_lines) - len(shown)} more "
                           "(`kam validate` lists them all)")
            out.append("")
        out += self.problems_section("`--strict` turns each of these into an error.",
                                     LISTINGS["problems"])
        out += self._tiers_section()
        mapped = [n for n in self.countries.values() if n.code and n.status == "mapped"]
        out += [f"## Countries mapped from names ({len(mapped)})", ""]
        out += [f"- {_md(n.value)} -> {n.code} ({plural(len(n.lines), 'record')})" for n in mapped]
        out.append("")
        merged = {k: v for k, v in self.industries.items() if len(v) > 1 or k not in v}
        out += [f"## Industries normalised ({len(merged)})", ""]
        for canonical, spellings in sorted(merged.items()):
            listed = ", ".join(f"{_md(s)!s} ({n})" for s, n in spellings.most_common())
            out.append(f"- {canonical}: {listed}")
        out.append("")
        if self.placeholders:
            out += [f"## Placeholder people ({len(self.placeholders)})", "",
                    "Owners that the people file does not list; fill in their details.", ""]
            if len(self.placeholders) > SHOWN:
                out += [_listed(len(self.placeholders), "placeholder", LISTINGS["placeholders"])
                        + f"; the first {SHOWN}:", ""]
            out += [f"- {_md(p)}: {_md(r)}" for p, r in self.placeholders[:SHOWN]]
            out.append("")
        if self.roles:
            out += [f"## Roles from titles ({len(self.roles)})", ""]
            if len(self.roles) > SHOWN:
                counts = Counter(r.partition(" (")[0] for _p, _t, r in self.roles)
                out += ["By role: " + ", ".join(f"{role} {n:,}" for role, n in
                                                counts.most_common()) + ".", "",
                        _listed(len(self.roles), "person", LISTINGS["roles"])
                        + f"; the first {SHOWN}:", ""]
            out += [f"- {_md(p)}: {_md(t) or '(no title)'} -> {r}"
                    for p, t, r in self.roles[:SHOWN]]
            out.append("")
        out += ["## Columns", ""]
        out += [f"- `{h}` -> {t}" for t, h in self.mapped_columns.items()]
        if self.kept_columns:
            out.append("- kept as they are (written back on export): "
                       + ", ".join(f"`{c}`" for c in self.kept_columns))
        out.append("")
        return "\n".join(out)

    def _tiers_section(self) -> list[str]:
        out = [f"## Inferred tiers ({len(self.tiers)})", ""]
        if not self.tiers:
            return [*out, "None: every tier came from the data.", ""]
        counts = (self.tiers.counts() if isinstance(self.tiers, InferredTiers)
                  else Counter(str(t.tier) for t in self.tiers))
        out += ["By tier: " + ", ".join(f"{tier} {counts[tier]:,}" for tier in TIER_ORDER
                                        if counts[tier]) + ".", ""]
        out += ["Check these; set tiers from a column with `--tier-from COLUMN --tier-map "
                "VALUE=TIER`, or edit accounts.csv.", ""]
        shown: Sequence[InferredTier] = self.tiers
        if len(self.tiers) > SHOWN:
            out += [_listed(len(self.tiers), "account", LISTINGS["tiers"])
                    + f"; the first {EXAMPLES} of each tier:", ""]
            shown = (self.tiers.examples(EXAMPLES) if isinstance(self.tiers, InferredTiers)
                     else [t for tier in TIER_ORDER for t in
                           [t for t in self.tiers if str(t.tier) == tier][:EXAMPLES]])
        out += ["| line | account | name | tier | why |", "|---|---|---|---|---|"]
        out += [f"| {t.line or ''} | {_md(t.record)} | {_md(t.name)} | {t.tier} | "
                f"{_md(t.reason)} |" for t in shown]
        return [*out, ""]


def _listed(count: int, what: str, listing: str) -> str:
    """Where a cut section's every row is."""
    return f"All {plural(count, what)} are listed in `{listing}` beside this report"


_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


def _shape(message: str) -> str:
    """A message with its particulars blurred, so that alike problems group."""
    return re.sub(r"\d+", "#", message)


def _lines(lines: list[int]) -> str:
    shown = ", ".join(str(n) for n in lines[:8])
    return shown + (f" and {len(lines) - 8} more" if len(lines) > 8 else "")


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")
