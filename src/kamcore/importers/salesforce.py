"""Salesforce Data Loader / report exports: Account, User and AccountTeamMember CSVs, and
Salesforce CLI data trees of accounts (read by :mod:`.sftree`).

Salesforce Ids come in two forms: 15 characters, case-sensitive (``001A0000006Vm9r``), and
18 characters, case-insensitive (``001A0000006Vm9rIAC``), whose last three characters encode
which of the first 15 are upper case. Ids are matched by their 15-character form, decoded from
the suffix, so a ParentId in one form finds an Id in the other, and ``001a...`` never matches
``001A...`` in the 15-character form.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

from kamcore.errors import Location, WorkspaceError
from kamcore.importers.engine import ImportOptions, ImportResult, build_org
from kamcore.importers.mapping import TeamMap, preset_account_map, preset_person_map, updated
from kamcore.importers.rows import read_header

if TYPE_CHECKING:
    import pyarrow as pa

    from kamcore.registry import Registry

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
#: Suffix character -> positions (0-4) of its five-character chunk that are upper case.
_UPPER_AT = {code: tuple(i for i in range(5) if n >> i & 1) for n, code in enumerate(_ALPHABET)}


def id18(id15: str) -> str:
    """The 18-character form of a 15-character Id.

    >>> id18("001A0000006Vm9r")
    '001A0000006Vm9rIAC'

    :raises ValueError: not 15 letters and digits.
    """
    if len(id15) != 15 or not id15.isascii() or not id15.isalnum():
        raise ValueError("a Salesforce Id has 15 or 18 letters and digits")
    suffix = ""
    for chunk in range(3):
        bits = 0
        for i, ch in enumerate(id15[chunk * 5:chunk * 5 + 5]):
            if "A" <= ch <= "Z":
                bits |= 1 << i
        suffix += _ALPHABET[bits]
    return id15 + suffix


@lru_cache(maxsize=1 << 18)
def id15(value: str) -> str:
    """The case-sensitive 15-character form of an Id in either form (the matching key).

    >>> id15("001a0000006vm9riac")
    '001A0000006Vm9r'

    :raises ValueError: not a Salesforce Id, or an 18-character Id whose suffix does not fit.
    """
    text = value.strip()
    if not text.isascii() or not text.isalnum() or len(text) not in (15, 18):
        raise ValueError("a Salesforce Id has 15 or 18 letters and digits")
    if len(text) == 15:
        return text
    chars = list(text[:15].lower())
    for chunk, code in enumerate(text[15:].upper()):
        positions = _UPPER_AT.get(code)
        if positions is None:
            raise ValueError(f"checksum {text[15:]!r} is not a valid 18-character suffix")
        for i in positions:
            pos = chunk * 5 + i
            if not chars[pos].isalpha():
                raise ValueError(f"checksum {text[15:]!r} does not fit the Id")
            chars[pos] = chars[pos].upper()
    return "".join(chars)


def id15_many(values: Sequence[str]) -> list[str | None]:
    """:func:`id15` of many stripped cells at once (numpy over the bytes): ``None`` where
    :func:`id15` raises, so the caller asks it again for the message.

    >>> id15_many(["001a0000006vm9riac", "001A0000006Vm9r", "nope"])
    ['001A0000006Vm9r', '001A0000006Vm9r', None]
    """
    import pyarrow as pa

    return id15_column(pa.array(values, pa.string())).to_pylist()


def id15_column(texts: pa.Array) -> pa.Array:
    """:func:`id15_many` of a column of stripped cells, as a column (null where it is None)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from kamcore.exporters.columns import mask, text_buffer

    texts = texts.cast(pa.string())
    alnum = mask(pc.ascii_is_alnum(texts))  # every character an ASCII letter or digit
    size = pc.binary_length(texts).fill_null(0).to_numpy(zero_copy_only=False)
    short = np.flatnonzero(alnum & (size == 15))
    long = np.flatnonzero(alnum & (size == 18))
    raw = np.frombuffer(text_buffer(texts.take(pa.array(long))), dtype=np.uint8) if len(
        long) else np.zeros(0, dtype=np.uint8)
    chars = raw.reshape(len(long), 18)
    body = chars[:, :15].copy()
    body[(body >= 65) & (body <= 90)] += 32  # the case-insensitive form: all lower case
    fits = np.ones(len(long), dtype=bool)
    letter = (body >= 97) & (body <= 122)
    for chunk in range(3):
        bits = _suffix_bits()[chars[:, 15 + chunk]]
        fits &= bits >= 0
        for i in range(5):
            upper = fits & ((bits >> i) & 1 == 1)
            pos = chunk * 5 + i
            fits &= ~upper | letter[:, pos]
            body[upper & letter[:, pos], pos] -= 32
    good = np.flatnonzero(fits)
    offsets = pa.py_buffer((np.arange(len(good) + 1, dtype=np.int32) * 15).tobytes())
    keys = pa.Array.from_buffers(pa.string(), len(good),
                                 [None, offsets, pa.py_buffer(body[good].tobytes())])
    # each row's place in [the short ids, the decoded long ones]; -1: neither
    place = np.full(len(texts), -1, dtype=np.int64)
    place[short] = np.arange(len(short))
    place[long[good]] = len(short) + np.arange(len(good))
    both = pa.concat_arrays([texts.take(pa.array(short)), keys])
    return both.take(pa.array(place, mask=place < 0))


@cache
def _suffix_bits() -> Any:
    """Suffix byte -> the 5-bit number it encodes (upper or lower case), -1 if none."""
    import numpy as np

    table = np.full(256, -1, dtype=np.int16)
    for n, code in enumerate(_ALPHABET):
        table[ord(code)] = n
        table[ord(code.lower())] = n
    return table


def import_salesforce(accounts: str, *, users: str | None = None, team: str | None = None,
                      tier_from: str | None = None, tier_map: Mapping[str, str] | None = None,
                      role_from: str | None = None, role_map: Mapping[str, str] | None = None,
                      options: ImportOptions | None = None,
                      registry: Registry | None = None) -> ImportResult:
    """Build an org from a Salesforce Account export (and optionally User, AccountTeamMember).

    :param accounts: Account.csv (Data Loader API names or report labels), or a Salesforce CLI
        data tree (``sf data export tree``: Account.json, or its plan file).
    :param users: User.csv; ``ManagerId`` becomes ``reports_to``, ``Title`` the role.
    :param team: AccountTeamMember.csv (AccountId, UserId, TeamMemberRole).
    :param tier_from: column holding the tier (e.g. ``Type``), read through ``tier_map``.
    :param role_from: column holding the role instead of ``Title`` (e.g. ``UserRole.Name``).
    :returns: the org, the report and the CRM layout; nothing is written.
    """
    from kamcore.importers.rows import check_columns
    from kamcore.importers.sftree import is_tree_file, tree_key

    # A CLI data tree has no Ids: its accounts get ids made from names (OwnerIds stay Ids);
    # id15_many leaves those made ids to tree_key (None where id15 would raise).
    opts = replace(options or ImportOptions(), source="salesforce",
                   id_key=tree_key if is_tree_file(accounts) else id15, id_keys=id15_many,
                   id_key_column=id15_column)
    header = read_header(accounts)
    amap = preset_account_map(header)
    if amap.id != "Id" and amap.id != "Account ID":
        raise WorkspaceError(f"{accounts} has no Id column, so it is not a Salesforce Account "
                             "export", location=Location(accounts, 1),
                             hint="export Id, Name, ParentId and OwnerId with Data Loader, or "
                                  "use `kam import csv --map` for other files")
    if tier_from:
        check_columns(header, {"tier": tier_from}, accounts)
        amap = amap.model_copy(update={"tier": tier_from})
    if tier_map:
        amap = updated(amap, "--tier-map", tier_values=dict(tier_map))
    pmap = None
    if users:
        pmap = preset_person_map(read_header(users))
        update: dict[str, object] = {"role_values": dict(role_map or {})}
        if role_from:
            update["role"] = role_from
        pmap = updated(pmap, "--role-map", **update)
    return build_org(accounts, amap, options=opts, registry=registry, people_path=users,
                     pmap=pmap, team_path=team, team_map=TeamMap() if team else None)
