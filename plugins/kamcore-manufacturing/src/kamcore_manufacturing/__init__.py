"""kamcore-manufacturing: supplier- and client-facing manufacturing accounts for kamcore."""

from __future__ import annotations

__version__ = "0.1.0"
