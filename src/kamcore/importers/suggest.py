"""Drafting a mapping file (``--suggest-map``) from an export's headers and cells.

Surest first: the headers CRMs use for a field, exact, then in another case or punctuation
(:func:`~kamcore.importers.mapping.header_matches`, every field before any close spelling);
then close spellings; then, for the fields still without a column, the cells of the columns
left: one whose cells name countries is the country, one whose cells name other accounts is the
parent, one headed like a sales agent whose cells are people is the manager, one whose cells
are tiers is the tier. Close spellings and guesses from cells are marked ``# guess: why`` in
the draft and listed for the CLI to say. References (``parent_by``, ``manager_by``,
``reports_to_by``) are read from the cells: ``name`` when they name the records they point to.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from kamcore.importers.countries import resolve_country
from kamcore.importers.mapping import (
    ACCOUNT_HEADERS,
    PERSON_FIELDS,
    PERSON_HEADERS,
    SCALE_WORDS,
    header_matches,
    plugin_columns,
)
from kamcore.importers.rows import name_key, parse_number
from kamcore.importers.tiers import tier_from_value
from kamcore.wording import plural

if TYPE_CHECKING:
    from kamcore.registry import Registry

#: How much of a file the draft reads for its cells (thousands of rows; the header alone
#: cannot tell a parent column from a sales agent's).
SAMPLE_BYTES = 1 << 20
#: Share of a column's distinct cells that must fit for a guess from cells.
_FIT = 0.6

#: Headers for the tier; only drafts use them (the Salesforce and HubSpot importers take
#: tiers from a column only when told: ``--tier-from``).
TIER_HEADERS = ("KAM_Tier__c", "Tier", "Account Tier", "tier")
#: Words in a header that say what a column holds, for guesses (a header's words are its
#: lower-case runs of letters: ``sales_agent`` -> sales, agent).
_NAME_WORDS = {"account", "accounts", "company", "customer", "client", "organisation",
               "organization", "business", "firm"}
_PARENT_WORDS = {"parent", "subsidiary", "mother", "belongs", "ultimate"}
_MANAGER_WORDS = {"owner", "agent", "rep", "representative", "salesperson", "salesman",
                  "manager", "kam", "am", "executive", "assigned", "responsible"}
_PERSON_WORDS = {"name", "agent", "rep", "representative", "employee", "person", "member",
                 "staff", "user", "salesperson", "manager"}
_NOT_COUNTRY_WORDS = {"state", "province", "city", "county", "zip", "postal", "street",
                      "currency", "language"}
_TIER_WORDS = {"tier", "segment", "level", "class", "classification"}
_ROLE_WORDS = {"title", "position", "role", "job"}
_METRIC_WORDS = {"revenue": {"revenue", "revenues", "turnover"},
                 "employees": {"employees", "headcount", "staff", "fte"}}
_SCALE_NAMES = {1e3: "thousands", 1e6: "millions", 1e9: "billions"}
_BREAKS = re.compile(r"[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
_SAME_AS_MANAGER = "headed as the accounts' manager column: the people it names"
#: Tier cells a CRM writes that are no tier name, and the tier they usually mean.
_TIER_SYNONYMS = {"strategic": "key", "key account": "key", "strategic account": "key",
                  "global account": "global", "national account": "national",
                  "regular account": "regular", "standard": "regular"}


@dataclass(frozen=True)
class Sample:
    """A file's header and the trimmed cells of its first rows, by column."""

    header: list[str]
    cells: dict[str, list[str]]

    def distinct(self, column: str) -> list[str]:
        """The column's non-empty cells, each once, in order."""
        return list(dict.fromkeys(c for c in self.cells.get(column, ()) if c))


def read_sample(path: str | Path) -> Sample:
    """The header and the first rows of an export (CSV or Salesforce data tree).

    :raises WorkspaceError: missing, unreadable or empty file, or a header naming a column
        twice.
    """
    from kamcore.importers.csvread import read_export

    table, _problems, _dialect = read_export(path, limit=SAMPLE_BYTES)
    cells: dict[str, list[str]] = {h: [] for h in table.header}
    for _line, values in table.rows:
        for column, value in zip(table.header, values, strict=False):
            cells[column].append(value.strip())
    return Sample(list(table.header), cells)


@dataclass(frozen=True)
class Guess:
    """A line of the draft that a reviewer should check first, and why it was drafted."""

    section: str
    field: str
    value: str
    why: str

    def __str__(self) -> str:
        return f"{self.section}.{self.field}: {self.value} ({self.why})"


@dataclass
class MapDraft:
    """A drafted mapping file and the guesses in it."""

    text: str
    guesses: list[Guess] = field(default_factory=list)


@dataclass
class _Pick:
    column: str
    guess: str | None = None


@dataclass
class _Section:
    """The drafted fields of one file: field -> column (and why, for a guess)."""

    sample: Sample
    picks: dict[str, _Pick] = field(default_factory=dict)
    refs: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    #: Columns no guess may take (a plugin's declared columns).
    reserved: frozenset[str] = frozenset()

    def column(self, name: str) -> str | None:
        pick = self.picks.get(name)
        return pick.column if pick else None

    def free(self) -> list[str]:
        used = {p.column for p in self.picks.values()} | self.reserved
        return [h for h in self.sample.header if h not in used]

    def keys(self, name: str) -> set[str]:
        """The name keys (or ids, for ``id``) of the field's cells."""
        column = self.column(name)
        if column is None:
            return set()
        cells = self.sample.cells[column]
        return set(cells) if name == "id" else {name_key(c) for c in cells if c}


def _from_headers(header: Sequence[str], candidates: Mapping[str, Sequence[str]]
                  ) -> dict[str, _Pick]:
    return {f: _Pick(h, f"spelled like {known!r}" if how == "close" else None)
            for f, (h, how, known) in header_matches(header, candidates, fuzzy=True).items()}


def _words(header: str) -> set[str]:
    return set(re.findall(r"[a-z]+", re.sub(r"([a-z])([A-Z])", r"\1 \2", header).lower()))


def _few(cells: Sequence[str], n: int = 3) -> str:
    shown = ", ".join(repr(c) for c in cells[:n])
    return shown + (", ..." if len(cells) > n else "")


def _share(cells: Sequence[str], fits: Callable[[str], bool]) -> float:
    return sum(1 for c in cells if fits(c)) / len(cells) if cells else 0.0


def _look_like_ids(cells: Sequence[str]) -> bool:
    """Codes rather than names: digits, or upper case without spaces (``ACC-1``, ``0015...``)."""
    return _share(cells, lambda c: bool(re.search(r"\d", c)) or (
        " " not in c and c.upper() == c)) >= 0.8


def _look_like_people(cells: Sequence[str]) -> bool:
    """Two or more words of letters (``Vicki Hulme``, ``O'Neil-Smith, Ann``)."""
    return _share(cells, lambda c: re.fullmatch(r"[^\W\d_]+(?:[ ,.'-]+[^\W\d_]+)+\.?", c)
                  is not None) >= 0.8


def _best(columns: Iterable[str], score: Callable[[str], float]) -> tuple[str, float] | None:
    scored = [(c, score(c)) for c in columns]
    scored = [(c, s) for c, s in scored if s >= _FIT]
    return max(scored, key=lambda cs: cs[1]) if scored else None


def _by_words(columns: Iterable[str], words: set[str]) -> str | None:
    return next((c for c in columns if _words(c) & words), None)


def _ref(cells: Sequence[str], names: set[str], ids: set[str], what: str,
         *, people: bool = False) -> tuple[str, str | None]:
    """``(mode, why)`` for a reference column: by id, by name or auto."""
    if not cells:
        return "auto", None
    by_id = _share(cells, lambda c: c in ids) if ids else 0.0
    by_name = _share(cells, lambda c: name_key(c) in names) if names else 0.0
    if by_id and by_id >= by_name:
        return "id", f"its cells are ids of {what}"
    if by_name:
        return "name", f"its cells are names of {what}"
    if people and not ids and _look_like_people(cells):
        return "name", ("its cells are people's names; people without a row of their own "
                        "become placeholders")
    return "auto", None


# -- accounts ------------------------------------------------------------------------------

def _accounts(sample: Sample, reserved: frozenset[str]) -> _Section:
    accounts = _Section(sample, _from_headers(sample.header, {**ACCOUNT_HEADERS,
                                                              "tier": TIER_HEADERS}),
                        reserved=reserved)
    picks = accounts.picks
    id_pick, name_pick = picks.get("id"), picks.get("name")
    if name_pick is None and id_pick is not None:
        cells = sample.distinct(id_pick.column)
        if cells and not _look_like_ids(cells):
            picks["name"] = _Pick(id_pick.column, f"its cells are names ({_few(cells)}), not "
                                  "ids: ids are made from them")
            del picks["id"]
        else:
            picks["name"] = _Pick(id_pick.column, "the only column naming accounts: each "
                                  "account's id is its name too")
    elif name_pick is None:  # a column headed like the accounts whose cells differ row by row
        column = _by_words([c for c in accounts.free() if len(sample.distinct(c)) >= 0.9 * sum(
            1 for v in sample.cells[c] if v)], _NAME_WORDS)
        if column is not None:
            picks["name"] = _Pick(column, "named like the accounts, a different name on "
                                  "each row: ids are made from them")
    if "parent" not in picks:
        _guess_parent(accounts)
    if "country" not in picks:
        best = _best([c for c in accounts.free() if not _words(c) & _NOT_COUNTRY_WORDS],
                     lambda c: _share(sample.distinct(c),
                                      lambda v: resolve_country(v).code is not None))
        if best is not None:
            cells = sample.distinct(best[0])
            picks["country"] = _Pick(best[0], f"{best[1]:.0%} of its values name countries "
                                     f"({_few(cells)})")
    if "tier" not in picks:
        best = _best(accounts.free(), lambda c: _share(sample.distinct(c), _names_tier))
        column = best[0] if best else _by_words(accounts.free(), _TIER_WORDS)
        if column is not None:
            picks["tier"] = _Pick(column, f"its cells are tiers ({_few(sample.distinct(column))})"
                                  if best else "named like a tier")
    for metric, words in _METRIC_WORDS.items():
        column = None if metric in picks else _by_words(
            [c for c in accounts.free() if _numbers(sample.distinct(c))], words)
        if column is not None:
            picks[metric] = _Pick(column, f"named like {metric}; its cells are numbers")
    return accounts


def _numbers(cells: Sequence[str]) -> bool:
    def number(cell: str) -> bool:
        try:
            return parse_number(cell) is not None
        except ValueError:
            return False

    return _share(cells, number) >= _FIT


def _scales(draft: MapDraft, metrics: Mapping[str, _Pick]) -> list[str]:
    """``scale:`` for metrics whose header says their unit (``revenue in USD millions``)."""
    scales: dict[str, str] = {}
    whys: list[str] = []
    for metric, pick in metrics.items():
        word = next((w for w in re.findall(r"[a-z]+", pick.column.lower()) if w in SCALE_WORDS),
                    None)
        if word is not None:
            scales[metric] = _SCALE_NAMES[SCALE_WORDS[word]]
            whys.append(f"the {metric} header says {word!r}")
            draft.guesses.append(Guess("accounts", f"scale.{metric}", scales[metric], whys[-1]))
    if not scales:
        return []
    shown = ", ".join(f"{m}: {s}" for m, s in scales.items())
    return [f"  scale: {{{shown}}}  # guess: {_oneline('; '.join(whys))}"]


def _guess_parent(accounts: _Section) -> None:
    """A column whose cells are other accounts' names (or ids), never the row's own."""
    sample, names, ids = accounts.sample, accounts.keys("name"), accounts.keys("id")
    name_column = accounts.column("name")
    own = [name_key(c) for c in sample.cells[name_column]] if name_column else []

    def score(column: str) -> float:
        cells = sample.distinct(column)
        selfish = sum(1 for c, o in zip(sample.cells[column], own, strict=False)
                      if c and name_key(c) == o)
        if not cells or selfish > len(cells) / 5:
            return 0.0
        return _share(cells, lambda c: name_key(c) in names or c in ids)

    best = _best(accounts.free(), score)
    if best is not None:
        accounts.picks["parent"] = _Pick(best[0], "its cells name other accounts ("
                                         f"{_few(sample.distinct(best[0]))})")
    else:
        column = _by_words(accounts.free(), _PARENT_WORDS)
        if column is not None:
            accounts.picks["parent"] = _Pick(column, "named like a parent account")


def _guess_manager(accounts: _Section, people: _Section | None) -> None:
    """A column of people: the people sheet's, or headed like a sales agent or owner."""
    sample = accounts.sample
    if people is not None:
        names, ids = people.keys("name"), people.keys("id")
        best = _best(accounts.free(), lambda c: _share(
            sample.distinct(c), lambda v: name_key(v) in names or v in ids))
        if best is not None:
            accounts.picks["manager"] = _Pick(best[0], "its cells are the people sheet's people "
                                              f"({_few(sample.distinct(best[0]))})")
            return
    for column in accounts.free():
        cells = sample.distinct(column)
        if _words(column) & _MANAGER_WORDS and (_look_like_people(cells) or
                                                _look_like_ids(cells)):
            accounts.picks["manager"] = _Pick(column, f"named like an owner; its cells are "
                                              f"people ({_few(cells)})")
            return


def _names_tier(cell: str) -> bool:
    return tier_from_value(cell, {}) is not None or cell.strip().lower() in _TIER_SYNONYMS


# -- people --------------------------------------------------------------------------------

def _people(sample: Sample, accounts: _Section) -> _Section:
    people = _Section(sample, _from_headers(sample.header, PERSON_HEADERS))
    picks = people.picks
    if not {"name", "first_name", "last_name"} & set(picks):
        manager = accounts.column("manager")
        owners = {name_key(c) for c in accounts.sample.distinct(manager)} if manager else set()
        if manager in people.free():
            picks["name"] = _Pick(manager, _SAME_AS_MANAGER)
        else:
            best = _best(people.free(), lambda c: _share(
                [name_key(v) for v in sample.distinct(c)], owners.__contains__)) if owners \
                else None
            column = best[0] if best else next(
                (c for c in people.free() if _words(c) & _PERSON_WORDS
                 and _look_like_people(sample.distinct(c))), None)
            if column is not None:
                picks["name"] = _Pick(column, "its cells are the accounts' managers" if best
                                      else "named like a person; its cells are names")
    if "email" not in picks:
        best = _best(people.free(), lambda c: _share(sample.distinct(c), lambda v: "@" in v))
        if best is not None:
            picks["email"] = _Pick(best[0], "its cells are e-mail addresses")
    if "role" not in picks:
        column = _by_words(people.free(), _ROLE_WORDS)
        if column is not None:
            picks["role"] = _Pick(column, "named like a job title")
    return people


# -- the draft -----------------------------------------------------------------------------

def draft_mapping(accounts: Sample, people: Sample | None = None,
                  registry: Registry | None = None) -> MapDraft:
    """A commented mapping file for these samples, its guesses marked, for review."""
    plugin = plugin_columns(accounts.header, registry)
    acc = _accounts(accounts, frozenset(plugin.values()))
    ppl = _people(people, acc) if people is not None else None
    if "manager" not in acc.picks:
        _guess_manager(acc, ppl)
    manager = acc.column("manager")
    if ppl is not None and manager is not None:
        pname = ppl.picks.get("name")
        same = pname is not None and pname.guess is not None and pname.column == manager
        if same or (not {"name", "first_name", "last_name"} & set(ppl.picks)
                    and manager in ppl.free()):
            ppl.picks["name"] = _Pick(manager, _SAME_AS_MANAGER)
    _references(acc, ppl)
    draft = MapDraft("")
    lines = ["# Drafted by `kam import csv --suggest-map`: check every line, then run",
             "#   kam import csv ACCOUNTS.csv --map THIS.yaml -o ORGDIR",
             "# Fields without a column are commented out. *_by: id, name or auto (try id, then",
             "# name). Leave 'tier' out to infer tiers from the tree (listed in the report).",
             "# Lines marked '# guess:' come from close spellings or from the cells: check "
             "them first.",
             "accounts:"]
    lines += _field_lines(draft, "accounts", acc, ("id", "name", "parent", "manager",
                                                   "country", "industry", "currency", "tier"),
                          {"parent": "parent_by", "manager": "manager_by"})
    lines += _tier_values(draft, acc)
    metrics: dict[str, _Pick] = {m: acc.picks[m] for m in ("revenue", "employees")
                                 if m in acc.picks}
    if metrics:
        lines.append("  metrics:")
        lines += [_line(draft, "accounts", f"metrics.{m}", p, indent=4)
                  for m, p in metrics.items()]
        lines += _scales(draft, metrics)
    else:
        lines.append("  # metrics: {revenue: Annual Revenue}")
    used = {p.column for p in acc.picks.values()}
    plugin = {t: c for t, c in plugin.items() if c not in used}
    lines += [f"  {target}: {_yaml(column)}" for target, column in plugin.items()]
    rest = [h for h in accounts.header if h not in used | set(plugin.values())]
    if rest:
        lines.append("  # kept as they are: " + ", ".join(map(_oneline, rest)))
    if ppl is not None:
        lines.append("people:")
        lines += _field_lines(draft, "people", ppl, PERSON_FIELDS,
                              {"reports_to": "reports_to_by"})
        lines.append("  # role_values: {Sales Director: director, Billing Clerk: support:billing}")
        left = [h for h in ppl.sample.header if h not in {p.column for p in ppl.picks.values()}]
        if left:
            lines.append("  # kept as they are: " + ", ".join(map(_oneline, left)))
    lines += _countries(draft, acc)
    draft.text = "\n".join(lines) + "\n"
    return draft


def _references(acc: _Section, ppl: _Section | None) -> None:
    """How the parent, manager and reports-to cells point at their records."""
    parent = acc.column("parent")
    if parent:
        acc.refs["parent"] = _ref(acc.sample.distinct(parent), acc.keys("name"),
                                  acc.keys("id"), "accounts")
    manager = acc.column("manager")
    if manager:
        names, ids = (ppl.keys("name"), ppl.keys("id")) if ppl else (set(), set())
        acc.refs["manager"] = _ref(acc.sample.distinct(manager), names, ids,
                                   "the people sheet's people" if ppl else "people",
                                   people=True)
    boss = ppl.column("reports_to") if ppl else None
    if ppl is not None and boss:
        ppl.refs["reports_to"] = _ref(ppl.sample.distinct(boss), ppl.keys("name"),
                                      ppl.keys("id"), "people", people=True)


def _field_lines(draft: MapDraft, section: str, fields: _Section, names: Sequence[str],
                 by: Mapping[str, str]) -> list[str]:
    lines = []
    for name in names:
        pick = fields.picks.get(name)
        if pick is None and name == "id" and section == "accounts" and "name" in fields.picks:
            lines.append("  # id: COLUMN  (without one, ids are made from names)")
            continue
        if pick is None:
            lines.append(f"  # {name}: COLUMN")
            continue
        lines.append(_line(draft, section, name, pick))
        if name in by:
            mode, why = fields.refs.get(name, ("auto", None))
            lines.append(f"  {by[name]}: {mode}" + (f"  # {_oneline(why)}" if why else ""))
    return lines


def _line(draft: MapDraft, section: str, name: str, pick: _Pick, indent: int = 2) -> str:
    text = f"{' ' * indent}{name.rpartition('.')[2]}: {_yaml(pick.column)}"
    if pick.guess is None:
        return text
    draft.guesses.append(Guess(section, name, pick.column, pick.guess))
    return f"{text}  # guess: {_oneline(pick.guess)}"


def _tier_values(draft: MapDraft, acc: _Section) -> list[str]:
    """Tier cells that name no tier: the usual meaning as a guess, the rest to fill in."""
    column = acc.column("tier")
    if column is None:
        return ["  # tier_values: {Strategic: key, Global: global}"]
    cells = [c for c in acc.sample.distinct(column) if tier_from_value(c, {}) is None]
    known = {c: _TIER_SYNONYMS[c.lower()] for c in cells if c.lower() in _TIER_SYNONYMS}
    lines = []
    if known:
        why = "the tier these words usually mean"
        draft.guesses += [Guess("accounts", f"tier_values.{c}", t, why) for c, t in known.items()]
        lines.append(f"  tier_values: {{{', '.join(f'{_yaml(c)}: {t}' for c, t in known.items())}"
                     f"}}  # guess: {_oneline(why)}")
    unknown = [c for c in cells if c not in known]
    if unknown:
        shown = _oneline(", ".join(f"{_yaml(c)}: TIER" for c in unknown[:8]))
        lines.append(f"  # tier_values: {{{shown}}}  # {plural(len(unknown), 'cell')} naming "
                     "no tier: map them (global, national, key, regular) or they are inferred")
    return lines


def _countries(draft: MapDraft, acc: _Section) -> list[str]:
    """Country cells the importer will not map: a close country as a guess, the rest noted."""
    column = acc.column("country")
    matches = [resolve_country(c) for c in acc.sample.distinct(column)] if column else []
    typos = [m for m in matches if m.code is None and len(m.suggestions) == 1]
    unsure = [m for m in matches if m.code is None and len(m.suggestions) != 1]
    lines = ["countries:"] if typos else []
    for match in typos:
        why = str(match.hint)
        draft.guesses.append(Guess("countries", match.value, match.suggestions[0], why))
        lines.append(f"  {_yaml(match.value)}: {match.suggestions[0]}  # guess: {_oneline(why)}")
    lines += [f"{'  ' if typos else ''}# {_oneline(_yaml(m.value))}: "
              f"{' or '.join(m.suggestions) or 'CODE'}  # {m.hint or 'no country by this name'}"
              for m in unsure]
    if not typos:
        lines.append("# countries: {Phillippines: PH}   # cells the importer cannot map by "
                     "itself")
    return lines


def _yaml(text: str) -> str:
    """``text`` as a YAML scalar on one line (quoted, escapes for line breaks, when needed)."""
    import yaml

    style = '"' if _BREAKS.search(text) else None
    return yaml.safe_dump(text, default_flow_style=True, default_style=style, width=1 << 20,
                          allow_unicode=True).strip().removesuffix("...").strip()


def _oneline(text: str) -> str:
    """``text`` for a comment: line breaks would end the comment and start YAML."""
    return _BREAKS.sub(" ", text)
