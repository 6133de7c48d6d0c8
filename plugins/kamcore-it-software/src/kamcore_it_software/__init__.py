"""kamcore-it-software: contracts, SLAs and tickets for IT and software accounts."""

from __future__ import annotations

__version__ = "0.1.0"
