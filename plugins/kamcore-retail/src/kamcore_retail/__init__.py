"""kamcore-retail: retail accounts (GLN numbers, channels, store counts) for kamcore."""

from __future__ import annotations

__version__ = "0.1.0"
