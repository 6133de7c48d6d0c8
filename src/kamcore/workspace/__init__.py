"""Workspace folders on disk: the only part of kamcore that reads or writes org files.

Names are imported on first use, so a command that only reads tables never imports the object
model (networkx, the saver).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kamcore.workspace.loader import as_org, load, resolve_workspace
    from kamcore.workspace.saver import init_workspace, save

__all__ = ["as_org", "init_workspace", "load", "resolve_workspace", "save"]

_HOMES = {"as_org": "loader", "load": "loader", "resolve_workspace": "loader",
          "init_workspace": "saver", "save": "saver"}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(f"kamcore.workspace.{_HOMES[name]}"), name)
    raise AttributeError(f"module 'kamcore.workspace' has no attribute {name!r}")
