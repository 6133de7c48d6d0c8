"""Account tiers and people's roles, with the order that the rules depend on."""

from __future__ import annotations

from enum import StrEnum


class Tier(StrEnum):
    """Account tiers, largest first: a child sits strictly below its parent (regular may nest)."""

    GLOBAL = "global"
    NATIONAL = "national"
    KEY = "key"
    REGULAR = "regular"

    @property
    def rank(self) -> int:
        return _TIER_RANK[self]


_TIER_RANK = {Tier.GLOBAL: 0, Tier.NATIONAL: 1, Tier.KEY: 2, Tier.REGULAR: 3}


class Role(StrEnum):
    """People's roles, most senior first. ``support`` staff are supervised, never accountable."""

    VP = "vp"
    DIRECTOR = "director"
    GAM = "gam"
    NAM = "nam"
    KAM = "kam"
    AM = "am"
    SUPPORT = "support"

    @property
    def rank(self) -> int:
        return _ROLE_RANK[self]

    # A property where str has a method: Role.KAM.title is the job title, not "Kam". Renaming it
    # would break the public API; typing cannot express a property overriding a method.
    @property
    def title(self) -> str:  # type: ignore[override]
        return _ROLE_TITLE[self]


_ROLE_RANK = {r: i for i, r in enumerate(Role)}
_ROLE_TITLE = {
    Role.VP: "VP of Account Management",
    Role.DIRECTOR: "Director of Account Management",
    Role.GAM: "Global Account Manager",
    Role.NAM: "National Account Manager",
    Role.KAM: "Key Account Manager",
    Role.AM: "Account Manager",
    Role.SUPPORT: "Support staff",
}

#: The roles allowed to be accountable for an account of each tier.
ROLES_FOR_TIER: dict[Tier, frozenset[Role]] = {
    Tier.GLOBAL: frozenset({Role.GAM}),
    Tier.NATIONAL: frozenset({Role.VP, Role.DIRECTOR, Role.GAM, Role.NAM}),
    Tier.KEY: frozenset({Role.VP, Role.DIRECTOR, Role.GAM, Role.NAM, Role.KAM}),
    Tier.REGULAR: frozenset(set(Role) - {Role.SUPPORT}),
}


#: The roles a contact plays in the customer's buying decision (plugins add their own):
#: role -> what it means.
CONTACT_ROLES: dict[str, str] = {
    "decision-maker": "signs off the business; every key-or-above account needs one",
    "influencer": "shapes the decision without making it",
    "champion": "argues our case inside the customer",
    "user": "uses what we sell day to day",
    "billing": "handles invoices and payments",
    "procurement": "runs purchasing and negotiates terms",
}
DECISION_MAKER = "decision-maker"


class Severity(StrEnum):
    """How much a finding matters; only ``error`` makes ``kam validate`` exit 1."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
