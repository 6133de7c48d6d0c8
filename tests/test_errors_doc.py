"""Every error class lives in kamcore.errors with a unique code, and docs/errors.md lists each."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import kamcore
from kamcore import errors
from kamcore.cli.errors import to_cli_error

DOC = (Path(__file__).resolve().parent.parent / "docs" / "errors.md").read_text(encoding="utf-8")


def _kam_errors() -> dict[str, type[errors.KamError]]:
    found: dict[str, type[errors.KamError]] = {}
    for info in pkgutil.walk_packages(kamcore.__path__, "kamcore."):
        if info.name.startswith(("kamcore.testing", "kamcore.cli.app")):
            continue
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, errors.KamError):
                found[cls.__qualname__] = cls
    return found


def test_every_error_class_is_defined_in_kamcore_errors():
    assert {name: cls.__module__ for name, cls in _kam_errors().items()
            if cls.__module__ != "kamcore.errors"} == {}


def test_codes_are_unique_and_each_is_documented_with_its_class_and_exit_code():
    classes = _kam_errors()
    codes = [cls.code for cls in classes.values()]
    assert len(codes) == len(set(codes))
    rows = dict(re.findall(r"^\| (KAM-[A-Z]\d{3}) \| `(\w+)` \|", DOC, re.M))
    assert rows == {cls.code: name for name, cls in classes.items()}
    for name, cls in classes.items():
        exit_code = re.search(rf"^\| {cls.code} \| `{name}` \| (\d) \|", DOC, re.M)
        assert exit_code, cls.code
        assert to_cli_error(_instance(cls)).exit_code == int(exit_code.group(1)), name


def _instance(cls: type[errors.KamError]) -> errors.KamError:
    if issubclass(cls, errors.PluginError):
        return cls("x", plugin="p")
    if issubclass(cls, errors.RecordErrors):
        return cls([errors.WorkspaceError("x")])
    if issubclass(cls, errors.WriteFailed):
        return cls("x", path="p")
    if issubclass(cls, errors.ConflictChoiceError):
        return cls("metrics", "m", "x")
    if issubclass(cls, errors.HistoryProblem):
        return cls("x", rule="KAM181")
    return cls("x")
