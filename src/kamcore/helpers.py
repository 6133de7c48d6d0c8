"""Small helpers for plugin authors: industry matching and list-valued CSV cells."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

if TYPE_CHECKING:
    from kamcore.models import Account
    from kamcore.org import OrgSource


def serves(org: OrgSource, account: Account, *industries: str) -> bool:
    """True when the account's industry (aliases resolved) is one of ``industries``.

    >>> from kamcore import Account, Org
    >>> serves(Org.build(), Account(id="A", name="A", tier="key", industry="Retail"), "retail")
    True
    """
    from kamcore.workspace.loader import as_org

    org = as_org(org)
    industry = org.industry_of(account)
    return industry is not None and industry in {i.lower() for i in industries}


def _split(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(";") if part.strip()]
    return value


def __getattr__(name: str) -> Any:
    # SemicolonList needs pydantic: built on first use so that `serves` stays light to import.
    if name == "SemicolonList":
        from pydantic import BeforeValidator

        value = Annotated[list[str], BeforeValidator(_split)]
        globals()[name] = value
        return value
    raise AttributeError(f"module 'kamcore.helpers' has no attribute {name!r}")
