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


@pytest.fixture
def acme_copy(tmp_path: Path, acme_path: Path) -> Path:
    """A copy of the example org that a test may change (``tmp_path / "org"``)."""
    import shutil

    folder = tmp_path / "org"
    shutil.copytree(acme_path, folder)
    return folder
