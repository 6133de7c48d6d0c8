"""The exceptions kamcore raises: one root, stable codes, no click.

Every error a user can cause derives from :class:`KamError`. The CLI maps them to exit codes
once (``kamcore.cli.errors``); library users catch ``KamError``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kamcore.wording import plural


@dataclass(frozen=True)
class Location:
    """Where a record came from, so every message can point at a file and line."""

    file: str
    line: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        text = self.file
        if self.line is not None:
            text += f":{self.line}"
        if self.column:
            text += f" (column {self.column!r})"
        return text


def close_ids(wanted: str, known: Iterable[object], n: int = 3, cutoff: float = 0.6
              ) -> list[str]:
    """The ids of ``known`` a user probably meant by ``wanted``: the same id in another case
    first, then the closest spellings (case ignored) scoring at least ``cutoff`` (difflib's
    ratio).

    >>> close_ids("nova", ["ACME", "NOVA", "NOVA-US"])
    ['NOVA', 'NOVA-US']
    """
    import difflib

    by_key: dict[str, list[str]] = {}
    for item in known:
        if isinstance(item, str) and item:
            by_key.setdefault(item.casefold(), []).append(item)
    key = wanted.casefold()
    found = list(by_key.get(key, []))
    for match in difflib.get_close_matches(key, list(by_key), n=n, cutoff=cutoff):
        found += [item for item in by_key[match] if item not in found]
    return found[:n]


def did_you_mean(wanted: str, known: Iterable[object], n: int = 3, cutoff: float = 0.6
                 ) -> str | None:
    """``did you mean 'NOVA' or 'NOVA-US'?`` for an unknown id, or ``None`` when nothing is
    close (see :func:`close_ids`)."""
    close = close_ids(wanted, known, n, cutoff)
    return "did you mean " + " or ".join(repr(c) for c in close) + "?" if close else None


class KamError(Exception):
    """Root of every kamcore error. ``code`` is stable; ``hint`` says how to fix it."""

    code = "KAM-E000"

    def __init__(self, message: str, *, hint: str | None = None,
                 location: Location | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.location = location

    def __str__(self) -> str:
        text = f"{self.location}: {self.message}" if self.location else self.message
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class WorkspaceError(KamError):
    """A workspace cannot be read: missing or unreadable files, invalid YAML or CSV."""

    code = "KAM-W001"


class HistoryProblem(WorkspaceError):
    """A history.csv row that breaks a reading rule; ``rule`` is the validate code it is
    listed under (KAM180-182), ``record`` the id it is about."""

    code = "KAM-W004"

    def __init__(self, message: str, *, rule: str = "KAM180", record: str | None = None,
                 hint: str | None = None, location: Location | None = None) -> None:
        super().__init__(message, hint=hint, location=location)
        self.rule = rule
        self.record = record


class WriteFailed(WorkspaceError):
    """The system refused a write (full disk, read-only folder or file); ``path`` is the file.

    The file that was there before is unchanged: every write is atomic.
    """

    code = "KAM-W003"

    def __init__(self, message: str, *, path: str, hint: str | None = None) -> None:
        self.path = path
        super().__init__(message, hint=hint)


class RecordErrors(WorkspaceError):
    """Several records could not be parsed; all of them are listed, not just the first."""

    code = "KAM-W002"

    def __init__(self, problems: list[KamError], *, summary: str | None = None) -> None:
        self.problems = problems
        shown = "\n".join(f"- {p}" for p in problems[:50])
        more = f"\n... and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(f"{summary or _records_head(problems)}:\n{shown}{more}")

    def __str__(self) -> str:
        return self.message


def _records_head(problems: list[KamError]) -> str:
    """"1 record could not be read (3 problems)": a record with several bad cells is one
    record, each of its cells one problem (problems are counted apart from records)."""
    places: set[object] = {(p.location.file, p.location.line) if p.location and p.location.line
              else id(p) for p in problems}
    if len(places) == len(problems):
        return f"{plural(len(problems), 'record')} could not be read"
    return (f"{plural(len(places), 'record')} could not be read "
            f"({plural(len(problems), 'problem')})")


class PlanErrors(RecordErrors):
    """A plan file has bad lines; every one is listed with its file and line. Nothing was
    planned or written."""

    code = "KAM-C002"

    def __init__(self, problems: list[KamError]) -> None:
        super().__init__(problems, summary=f"the plan has {plural(len(problems), 'bad line')}; "
                         "nothing was written")


class ValidationFailed(KamError):
    """Raised by callers who want an exception when error findings remain."""

    code = "KAM-V001"


class NotFound(KamError):
    """An account or person id that the org does not contain."""

    code = "KAM-N001"


class PluginError(KamError):
    """A plugin raised or returned something unusable; ``plugin`` names it."""

    code = "KAM-P001"

    def __init__(self, message: str, *, plugin: str, hook: str | None = None,
                 hint: str | None = None) -> None:
        self.plugin = plugin
        self.hook = hook
        #: The message without the plugin and hook in front.
        self.detail = message
        where = f"plugin {plugin!r}" + (f" in hook {hook}" if hook else "")
        super().__init__(f"{where}: {message}", hint=hint)


class PluginExited(Exception):
    """A plugin raised ``SystemExit`` (or another ``BaseException``): turned into an ordinary
    exception so that every place that isolates plugin failures catches it."""

    def __init__(self, exc: BaseException) -> None:
        self.original = exc
        super().__init__(f"{type(exc).__name__}({exc!s}) raised by a plugin; a plugin must "
                         "not end the process")


class PluginConflict(PluginError):
    """Two plugins claimed the same name (field namespace, metric, rule code, command)."""

    code = "KAM-P002"


class ConflictChoiceError(KamError):
    """kam.yaml's ``conflicts:`` names a plugin that does not claim that name."""

    code = "KAM-P003"

    def __init__(self, kind: str, name: str, message: str, *, hint: str | None = None) -> None:
        self.kind = kind
        self.name = name
        super().__init__(message, hint=hint)


class ChangeRefused(KamError):
    """A planned change would break the org; nothing was written."""

    code = "KAM-C001"


class UnknownMetric(KamError):
    """A metric nobody declared."""

    code = "KAM-R004"

class TotalOverflow(KamError):
    """Values so large that a total would pass float64's limit (about 1.8e308)."""

    code = "KAM-R005"

    def __init__(self, message: str, *, hint: str | None = None,
                 rows: Sequence[int] = ()) -> None:
        super().__init__(message, hint=hint)
        #: Account rows (in the accounts table) holding the largest values.
        self.rows = list(rows)

class EngineError(KamError):
    """A fact engine (duckdb, spark) cannot run: not installed, unreachable, or the facts are
    not in a form it reads."""

    code = "KAM-R006"

class MissingRate(WorkspaceError):
    """No FX rate for a currency in a period."""

    code = "KAM-R002"

class BadTree(RecordErrors):
    """Duplicate ids, unknown parents or cycles: a rollup over such a tree would be wrong."""

    code = "KAM-R003"

class BadFacts(RecordErrors):
    """Fact rows that would make a total wrong; all are listed."""

    code = "KAM-R001"

    def __init__(self, problems: list[KamError]) -> None:
        super().__init__(problems, summary=f"{plural(len(problems), 'problem')} in the facts; "
                         "no total is shown (--skip-bad leaves those rows out)")

class ImportRefused(ValidationFailed):
    """``--strict``: the import found problems, so nothing was written."""

    code = "KAM-I001"


class KamDeprecationWarning(DeprecationWarning):
    """A public kamcore name or behaviour that will go away; the message names the
    replacement (see docs/plugins.md, "Versions and deprecations")."""


class KamRemovedIn2Warning(KamDeprecationWarning):
    """Deprecated now, removed in kamcore 2.0 (pytest's ``PytestRemovedInXWarning``)."""
