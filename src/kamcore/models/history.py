"""One row of history.csv as a model: its JSON Schema is what ``kam schema`` prints.

The reader (:mod:`kamcore.workspace.history`) checks rows vectorised with the same rules; this
model documents them for people and tools.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

HistoryField = Literal["parent", "manager", "tier", "reports_to", "role", "capacity", "active",
                       "exists"]


class HistoryRow(BaseModel):
    """A value of one record's field and the days it held: ``valid_from`` included,
    ``valid_to`` excluded (empty: since always / still in force)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    record: str = Field(description="The account or person id (the field says which).")
    field: HistoryField = Field(description="parent, manager, tier (accounts); reports_to, "
                                "role, capacity, active (people); exists (either).")
    value: str | None = Field(default=None, description="The value as accounts.csv or "
                              "people.csv would hold it; empty for none.")
    valid_from: date | None = Field(default=None, description="First day (YYYY-MM-DD); "
                                    "empty: since always.")
    valid_to: date | None = Field(default=None, description="Day it stopped (excluded); "
                                  "empty: still in force.")
    entry: str | None = Field(default=None, description="The journal entry that wrote it.")

    @model_validator(mode="after")
    def _ordered(self) -> HistoryRow:
        if self.valid_from and self.valid_to and self.valid_to <= self.valid_from:
            raise ValueError("valid_to must be after valid_from")
        return self
