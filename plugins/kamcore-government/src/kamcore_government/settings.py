"""The government plugin's settings: ``plugins: {government: {...}}`` in kam.yaml."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class GovernmentSettings(BaseModel):
    """Read with ``kamcore.plugin_settings(org, GovernmentSettings)``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    authority_notice: bool = Field(
        True, description="Warn (GOV901) when a change moves a public contract to another "
        "accountable manager.")
