"""kamcore-advertising: campaigns, billing models and ad spend for advertising accounts."""

from __future__ import annotations

__version__ = "0.1.0"
