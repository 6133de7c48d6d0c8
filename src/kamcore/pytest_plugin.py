"""kamcore's pytest plugin: the fixtures for testing plugins (``pytest11`` entry point).

Registered under the name ``kamcore.testing``, so that 0.1's ``pytest_plugins =
["kamcore.testing"]`` lines are a no-op next to it. The plain helpers live in
:mod:`kamcore.testing` and need no pytest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from kamcore.testing import KamCli, OrgBuilder, make_plugin_manager

if TYPE_CHECKING:
    from kamcore.plugins import KamPluginManager

__all__ = ["kam_cli", "kam_env", "kam_pm", "org_builder"]


@pytest.fixture(autouse=True)
def kam_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[None]:
    """No ``KAM_*`` variable from the developer's shell leaks into a test, nor ``COLUMNS``
    (tables are not fitted to the developer's terminal unless a test sets it), and no hook
    time limit from one test's workspace (``hook_timeout``) into the next."""
    import os

    from kamcore.hookcall import set_hook_timeout

    for name in list(os.environ):
        if name.startswith("KAM_") or name == "COLUMNS":
            monkeypatch.delenv(name)
    monkeypatch.setenv("KAM_HOME", str(tmp_path_factory.mktemp("kam_home")))
    yield
    set_hook_timeout(None)


@pytest.fixture
def kam_pm() -> Iterator[KamPluginManager]:
    """A fresh plugin manager: built-ins only, no entry points; emptied on teardown."""
    pm = make_plugin_manager()
    yield pm
    for name, plugin in list(pm.list_name_plugin()):
        if plugin is not None:
            pm.unregister(name=name)


@pytest.fixture
def kam_cli(kam_pm: KamPluginManager) -> KamCli:
    """``kam`` with exactly ``kam_pm``'s plugins: ``kam_cli.invoke("validate", path)``."""
    return KamCli(kam_pm)


@pytest.fixture
def org_builder(kam_pm: KamPluginManager) -> Callable[..., OrgBuilder]:
    """A factory of :class:`OrgBuilder` bound to ``kam_pm``: ``org_builder().account(...)``."""

    def make(**options: Any) -> OrgBuilder:
        return OrgBuilder(pm=kam_pm, **options)

    return make

