"""Small helpers for plugin authors: industry matching and list-valued CSV cells."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, TypeVar

if TYPE_CHECKING:
    from pydantic import BaseModel

    from kamcore.models import Account
    from kamcore.org import Org, OrgSource
    from kamcore.workspace.tables import WorkspaceTables

    M = TypeVar("M", bound=BaseModel)

    #: For type checkers: a ``SemicolonList`` field holds a ``list[str]`` (at run time it is
    #: ``Annotated[list[str], BeforeValidator(...)]``, built on first use).
    SemicolonList = list[str]


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


def plugin_settings(source: Org | WorkspaceTables, model: type[M]) -> M:
    """A plugin's settings (its ``plugins.<name>:`` section of kam.yaml) as its own model.

    :param source: a loaded org, or the reader's tables (whatever your hook or rule got).
    :param model: the model the plugin registered with ``kam_register_settings``.
    :returns: the validated settings; the model's defaults when kam.yaml has no section.
    :raises TypeError: no plugin registered ``model``.
    """
    registry = source.registry
    names = [name for name, declared in (registry.settings if registry else {}).items()
             if declared is model]
    if not names:
        raise TypeError(f"{model.__name__} is not registered by any plugin's "
                        "kam_register_settings hook")
    value = source.settings.plugins.get(names[0])
    if isinstance(value, model):
        return value
    return model.model_validate(value or {})


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
