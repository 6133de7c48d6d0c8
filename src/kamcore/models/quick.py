"""Building records without pydantic's per-field machinery when every value is plainly valid.

Loading 100k accounts through full validation costs seconds; almost every row of a real file is
valid. These functions check exactly what the models check, with plain set and regex lookups,
and return ``None`` when anything is unusual, so the caller falls back to ``model_validate`` and
its precise error messages. ``tests/test_quick_records.py`` proves both paths agree.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

from kamcore.models.codes import country_codes, currency_codes
from kamcore.models.enums import Role, Tier
from kamcore.models.records import _EMAIL, _ID, Account, Finding, Person

_ID_RE = re.compile(_ID)
_TIERS = {t.value: t for t in Tier}
_ROLES = {r.value: r for r in Role}
_TRUE = {"true", "yes", "1", "y"}
_FALSE = {"false", "no", "0", "n"}
_Record = TypeVar("_Record", Account, Person, Finding)


def new_record(cls: type[_Record], values: dict[str, Any]) -> _Record:
    """What ``model_construct`` does for a model without defaults to fill, minus its loop."""
    obj = cls.__new__(cls)
    object.__setattr__(obj, "__dict__", values)
    object.__setattr__(obj, "__pydantic_fields_set__", set(values))
    object.__setattr__(obj, "__pydantic_extra__", None)
    object.__setattr__(obj, "__pydantic_private__", None)
    return obj


def quick_account(data: dict[str, Any], metrics: dict[str, float], ext: dict[str, Any],
                  extra: dict[str, str]) -> Account | None:
    """An :class:`Account` from plain cells, or ``None`` to ask for full validation."""
    get = data.get
    try:
        ident, name = (get("id") or "").strip() or None, (get("name") or "").strip() or None
        tier = _TIERS.get((get("tier") or "").strip().lower())
        country = (get("country") or "").strip() or None
        currency = (get("currency") or "").strip() or None
        parent = (get("parent") or "").strip() or None
        manager = (get("manager") or "").strip() or None
        industry = (get("industry") or "").strip() or None
    except AttributeError:  # not text (inline YAML numbers, lists): validate fully
        return None
    if ident is None or name is None or tier is None or not _ID_RE.match(ident):
        return None
    if country is not None:
        country = country.upper()
        if country not in country_codes():
            return None
    if currency is not None:
        currency = currency.upper()
        if currency not in currency_codes():
            return None
    return new_record(Account, {"id": ident, "name": name, "tier": tier, "parent": parent,
                          "manager": manager, "country": country, "industry": industry,
                          "currency": currency, "metrics": metrics, "ext": ext, "extra": extra})


def quick_person(data: dict[str, Any], metrics: dict[str, float], ext: dict[str, Any],
                 extra: dict[str, str]) -> Person | None:
    """A :class:`Person` from plain cells, or ``None`` to ask for full validation."""
    del metrics
    get = data.get
    try:
        ident, name = (get("id") or "").strip() or None, (get("name") or "").strip() or None
        role = _ROLES.get((get("role") or "").strip().lower())
        reports_to = (get("reports_to") or "").strip() or None
        email = (get("email") or "").strip() or None
        capacity_text = (get("capacity") or "").strip() or None
        active_text = (get("active") or "").strip() or None
        specialty = (get("specialty") or "").strip() or None
    except AttributeError:  # not text (inline YAML numbers, booleans): validate fully
        return None
    if ident is None or name is None or role is None or not _ID_RE.match(ident):
        return None
    capacity = None
    if capacity_text is not None:
        if not capacity_text.isdigit() or not capacity_text.isascii():
            return None
        capacity = int(capacity_text)
    if email is not None and not _EMAIL.match(email):
        return None
    active = True
    if active_text is not None:
        lowered = active_text.lower()
        if lowered in _TRUE:
            active = True
        elif lowered in _FALSE:
            active = False
        else:
            return None
    return new_record(Person, {"id": ident, "name": name, "role": role, "reports_to": reports_to,
                         "capacity": capacity, "email": email, "active": active,
                         "specialty": specialty, "ext": ext, "extra": extra})
