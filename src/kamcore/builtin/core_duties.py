"""Duties common to every account manager, whatever the industry."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from kamcore.hookspecs import hookimpl
from kamcore.models import Account, Duty, Tier

if TYPE_CHECKING:
    from kamcore.org import Org  # networkx is heavy: validate and rollup never need it

#: id, title, cadence, who ("manager" or the support specialty it may be delegated to).
COMMON_DUTIES: tuple[tuple[str, str, str, str], ...] = (
    ("core.sales-orders", "Fill sales orders", "daily", "customer-service"),
    ("core.returns", "Process returns", "as needed", "customer-service"),
    ("core.customer-service", "Answer customer service requests", "daily", "customer-service"),
    ("core.logistics", "Resolve logistics issues", "as needed", "logistics"),
    ("core.inform", "Inform the customer of new products, pricing and policies", "monthly",
     "manager"),
    ("core.invoicing", "Send invoices", "monthly", "billing"),
    ("core.collections", "Collect payments and check bills are paid on time", "monthly",
     "billing"),
    ("core.after-sales", "After-sales service", "as needed", "customer-service"),
    ("core.paperwork", "Contracts, acceptance acts and reports", "monthly", "manager"),
    ("core.work-plan", "Agree the work plan with the client", "quarterly", "manager"),
    ("core.coordinate", "Coordinate the firm's internal specialists for the client", "weekly",
     "manager"),
    ("core.upsell", "Look for upselling opportunities", "quarterly", "manager"),
    ("core.review", "Analyse results and causes of dissatisfaction, and act on them",
     "quarterly", "manager"),
    ("core.feedback", "Relay customer feedback to management", "monthly", "manager"),
    ("core.market", "Keep up with competitors, industry trends and regulations", "quarterly",
     "manager"),
)
#: Only accounts above regular get these: they need a relationship, not just service.
STRATEGIC_DUTIES: tuple[tuple[str, str, str, str], ...] = (
    ("core.account-plan", "Write and review the strategic account plan", "yearly", "manager"),
    ("core.loyalty", "Run the loyalty programme", "quarterly", "manager"),
    ("core.brand-campaigns", "Tailor campaigns for the account with brand managers",
     "quarterly", "manager"),
)


@hookimpl(tryfirst=True)  # the duties common to every manager are listed before an industry's
def kam_account_duties(account: Account, org: Org) -> list[Duty]:
    return list(_duties(account.tier != Tier.REGULAR))


@functools.cache
def _duties(strategic: bool) -> tuple[Duty, ...]:
    """The duties of every account (and of the strategic ones), made once: a duty is frozen,
    and a plan's briefs ask for thousands of accounts."""
    rows = COMMON_DUTIES + (STRATEGIC_DUTIES if strategic else ())
    return tuple(Duty(id=i, title=t, cadence=c, who=w, source="core") for i, t, c, w in rows)
