"""``kamcore.rollup`` as an attribute for ``kamcore``'s lazy table: the (callable) package."""

from __future__ import annotations

import sys

import kamcore.rollup  # noqa: F401  (ensures the package is imported)

rollup = sys.modules["kamcore.rollup"]
