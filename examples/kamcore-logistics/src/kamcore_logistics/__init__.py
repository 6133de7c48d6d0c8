"""kamcore-logistics: the example plugin of docs/plugins.md (carriers, SLAs, shipments)."""

from __future__ import annotations

__version__ = "0.1.0"
