"""Shared fixtures for kamcore's own tests."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@pytest.fixture
def acme_path() -> Path:
    """The bundled example org."""
    return EXAMPLES / "acme"
