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
    """Items made when they are read (the Markdown report shows 50 of 200,000 findings)."""

    def __init__(self, count: int, item: Callable[[int], _T]) -> None:
        self._count, self._item = count, item

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> _T: ...

    @overload
    def __getitem__(self, index: slice) -> list[_T]: ...

    def __getitem__(self, index: int | slice) -> _T | list[_T]:
        if isinstance(index, slice):
            return [self._item(i) for i in range(*index.indices(self._count))]
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError(index)
        return self._item(index)

    def __iter__(self) -> Iterator[_T]:
        return (self._item(i) for i in range(self._count))


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

    def markdown_rows(self, step: int = 1 << 20) -> str:
        """The table's rows (``| line | account | name | tier | why |``), one per line."""
        import pyarrow as pa
        import pyarrow.compute as pc

        from kamcore.exporters.columns import joined_bytes

        out = []
        for start in range(0, len(self), step):
            stop = min(start + step, len(self))
            line = pa.array(self.line[start:stop])
            text = pc.if_else(pc.equal(line, 0), "", pc.cast(line, pa.string()))
            parts = [pc.binary_join_element_wise("| ", text, ""),
                     *(_md_column(c.slice(start, stop - start))
                       for c in (self.record, self.name)),
                     self.tier.slice(start, stop - start),
                     _md_column(self.reason.slice(start, stop - start))]
            out.append(bytes(joined_bytes(parts, " | ", " |\n")).decode("utf-8"))
        return "".join(out)[:-1]


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
        data: dict[str, Any] = asdict(replace(self, tiers=[], finding_lines=[]))
        data["tiers"] = [asdict(t) for t in self.tiers]
        data["finding_lines"] = list(self.finding_lines)
        data["problems"] = [asdict(p) for p in self.all_problems()]
        data["industries"] = {k: dict(v) for k, v in self.industries.items()}
        data["placeholders"] = [{"person": p, "reason": r} for p, r in self.placeholders]
        data["roles"] = [{"person": p, "title": t, "role": r} for p, t, r in self.roles]
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"

    def grouped_problems(self) -> list[list[Problem]]:
        """Problems of one kind said the same way (only ids, quoted values and numbers
        differ), in first-seen order: thirty-five "title '' matches no role" are one group."""
        groups: dict[tuple[str, str | None, str, str | None], list[Problem]] = {}
        for p in self.all_problems():
            key = (p.kind, p.file, _QUOTED.sub("…", _shape(p.message)), p.hint)
            groups.setdefault(key, []).append(p)
        return list(groups.values())

    def problems_section(self, intro: str) -> list[str]:
        """The Markdown lines of the problems: a table with file and line, or "None.";
        problems of one kind said the same way share a row (count, first lines, the fix)."""
        problems = self.all_problems()
        out = [f"## Problems ({len(problems)})", ""]
        if not problems:
            return [*out, "None.", ""]
        out += [intro, "", "| kind | where | record | problem | hint |", "|---|---|---|---|---|"]
        for group in self.grouped_problems():
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

    def to_markdown(self) -> str:
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
            shown = self.finding_lines[:50]
            out += [f"## Findings ({len(self.finding_lines)})", "",
                    "What `kam validate` says about the result, errors first:", ""]
            out += [f"- {_md(line)}" for line in shown]
            if len(self.finding_lines) > len(shown):
                out.append(f"- ... and {len(self.finding_lines) - len(shown)} more "
                           "(`kam validate` lists them all)")
            out.append("")
        out += self.problems_section("`--strict` turns each of these into an error.")
        out += [f"## Inferred tiers ({len(self.tiers)})", ""]
        if self.tiers:
            counts = (self.tiers.counts() if isinstance(self.tiers, InferredTiers)
                      else Counter(str(t.tier) for t in self.tiers))
            out += ["By tier: " + ", ".join(f"{tier} {counts[tier]:,}" for tier in
                                            ("global", "national", "key", "regular")
                                            if counts[tier]) + ".", ""]
            out += ["Check these; set tiers from a column with `--tier-from COLUMN --tier-map "
                    "VALUE=TIER`, or edit accounts.csv.", "",
                    "| line | account | name | tier | why |", "|---|---|---|---|---|"]
            if isinstance(self.tiers, InferredTiers):
                out.append(self.tiers.markdown_rows())
            else:
                out += [f"| {t.line or ''} | {_md(t.record)} | {_md(t.name)} | {t.tier} | "
                        f"{_md(t.reason)} |" for t in self.tiers]
        else:
            out.append("None: every tier came from the data.")
        out.append("")
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
            out += [f"- {_md(p)}: {_md(r)}" for p, r in self.placeholders]
            out.append("")
        if self.roles:
            out += [f"## Roles from titles ({len(self.roles)})", ""]
            out += [f"- {_md(p)}: {_md(t) or '(no title)'} -> {r}" for p, t, r in self.roles]
            out.append("")
        out += ["## Columns", ""]
        out += [f"- `{h}` -> {t}" for t, h in self.mapped_columns.items()]
        if self.kept_columns:
            out.append("- kept as they are (written back on export): "
                       + ", ".join(f"`{c}`" for c in self.kept_columns))
        out.append("")
        return "\n".join(out)


_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


def _shape(message: str) -> str:
    """A message with its particulars blurred, so that alike problems group."""
    return re.sub(r"\d+", "#", message)


def _lines(lines: list[int]) -> str:
    shown = ", ".join(str(n) for n in lines[:8])
    return shown + (f" and {len(lines) - 8} more" if len(lines) > 8 else "")


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _md_column(cells: pa.Array) -> pa.Array:
    """:func:`_md` of every cell of a column (a pass only when some cell needs it)."""
    import pyarrow.compute as pc

    from kamcore.textcolumns import any_byte_of

    if any_byte_of(cells, b"|"):
        cells = pc.replace_substring(cells, "|", "\\|")
    if any_byte_of(cells, b"\n"):
        cells = pc.replace_substring(cells, "\n", " ")
    return cells
