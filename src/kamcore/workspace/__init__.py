"""Workspace folders on disk: the only part of kamcore that reads or writes org files."""

from kamcore.workspace.loader import load, resolve_workspace
from kamcore.workspace.saver import init_workspace, save

__all__ = ["init_workspace", "load", "resolve_workspace", "save"]
