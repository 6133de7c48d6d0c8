"""``kamcore.changes`` as an attribute for ``kamcore``'s lazy table, so that ``import kamcore``
then ``kamcore.changes.move(...)`` works without importing the package up front."""

from __future__ import annotations

import sys

import kamcore.changes  # noqa: F401  (ensures the package is imported)

changes = sys.modules["kamcore.changes"]
