"""Small helpers for plugin authors: industry matching and list-valued CSV cells."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator

from kamcore.models import Account
from kamcore.org import Org


def serves(org: Org, account: Account, *industries: str) -> bool:
    """True when the account's industry (aliases resolved) is one of ``industries``.

    >>> from kamcore import Account, Org
    >>> serves(Org.build(), Account(id="A", name="A", tier="key", industry="Retail"), "retail")
    True
    """
    industry = org.industry_of(account)
    return industry is not None and industry in {i.lower() for i in industries}


def _split(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(";") if part.strip()]
    return value


#: A list field written in one CSV cell as ``a;b;c`` (and as a YAML list inline).
SemicolonList = Annotated[list[str], BeforeValidator(_split)]
