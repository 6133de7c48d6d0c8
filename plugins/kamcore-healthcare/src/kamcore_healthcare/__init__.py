"""kamcore-healthcare: payers, NPI numbers, billing and coding for healthcare accounts."""

from __future__ import annotations

__version__ = "0.1.0"
