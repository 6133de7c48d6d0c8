"""Shared helpers for the tests of kamcore.changes: a small valid org saved by kamcore."""

from __future__ import annotations

import shutil
from pathlib import Path

import kamcore
from kamcore.models import Account, Person
from kamcore.org import Org
from kamcore.plugins import get_plugin_manager
from kamcore.registry import registry_for

ROOT = Path(__file__).resolve().parent.parent
FILES = ("kam.yaml", "accounts.csv", "people.csv")


def builtin_registry():
    return registry_for(get_plugin_manager(load_entrypoints=False))


def small_org() -> Org:
    """One global customer in DE and FR, and the people who manage it."""
    a = Account
    accounts = [
        a(id="G", name="Globex", tier="global", manager="GAM1", country="DE",
          metrics={"revenue": 100}),
        a(id="N-DE", name="Globex DE", tier="national", parent="G", manager="NAM1",
          country="DE", metrics={"revenue": 50}),
        a(id="K1", name="Globex Berlin", tier="key", parent="N-DE", manager="KAM1",
          country="DE", industry="retail", metrics={"revenue": 40, "orders": 3}),
        a(id="K2", name="Globex Hamburg", tier="key", parent="N-DE", manager="KAM1",
          country="DE", metrics={"revenue": 10}),
        a(id="R1", name="Berlin shop 1", tier="regular", parent="K1", manager="AM1",
          country="DE", metrics={"revenue": 5}),
        a(id="R2", name="Berlin shop 2", tier="regular", parent="K1", manager="AM1",
          country="DE", metrics={"revenue": 7}),
        a(id="N-FR", name="Globex FR", tier="national", parent="G", manager="NAM2",
          country="FR", metrics={"revenue": 30}),
        a(id="K3", name="Globex Paris", tier="key", parent="N-FR", manager="KAM2",
          country="FR", metrics={"revenue": 20}),
        a(id="R3", name="Paris shop 1", tier="regular", parent="K3", manager="AM2",
          country="FR", metrics={"revenue": 3}),
    ]
    p = Person
    people = [
        p(id="DIR", name="Dana Director", role="director", capacity=2),
        p(id="GAM1", name="Gil Global", role="gam", reports_to="DIR", capacity=2),
        p(id="NAM1", name="Nora North", role="nam", reports_to="GAM1", capacity=3),
        p(id="NAM2", name="Nico South", role="nam", reports_to="GAM1", capacity=3),
        p(id="KAM1", name="Kim Key", role="kam", reports_to="NAM1", capacity=4),
        p(id="KAM3", name="Kai Key", role="kam", reports_to="NAM1", capacity=3),
        p(id="KAM2", name="Kara Key", role="kam", reports_to="NAM2", capacity=4),
        p(id="AM1", name="Ada Account", role="am", reports_to="KAM1", capacity=6),
        p(id="AM2", name="Abe Account", role="am", reports_to="KAM2", capacity=6),
        p(id="SUP1", name="Sam Support", role="support", reports_to="KAM1",
          specialty="billing"),
    ]
    return Org.build(accounts, people)


def save_small(folder: Path) -> Path:
    """The small org saved by kamcore (so its files are canonical) into ``folder``."""
    kamcore.save(small_org(), folder)
    return folder


def copy_acme(tmp_path: Path) -> Path:
    target = tmp_path / "acme"
    shutil.copytree(ROOT / "examples" / "acme", target)
    return target


def load(folder: Path) -> Org:
    return kamcore.load(folder, registry=builtin_registry())


def snapshot(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in FILES if (folder / name).exists()}
