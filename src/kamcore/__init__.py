"""kamcore: key, national and global account hierarchies.

The public API. Names are imported on first use, so ``import kamcore`` (and ``kam --help``)
stays fast; nothing runs at import time.

>>> import kamcore
>>> org = kamcore.load("examples/acme")            # doctest: +SKIP
>>> [f.code for f in kamcore.validate(org)]        # doctest: +SKIP
[]
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from kamcore.hookspecs import (
    HOOK_API_VERSION,
    RegisterExporter,
    RegisterFields,
    RegisterImporter,
    RegisterIndustry,
    RegisterMetric,
    RegisterRule,
    RegisterSettings,
    hookimpl,
)

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    "Account": "kamcore.models",
    "Person": "kamcore.models",
    "Finding": "kamcore.models",
    "Duty": "kamcore.declarations",
    "MetricDef": "kamcore.models",
    "Tier": "kamcore.models.enums",
    "Role": "kamcore.models.enums",
    "Severity": "kamcore.models.enums",
    "Org": "kamcore.org",
    "Violation": "kamcore.declarations",
    "Violations": "kamcore.declarations",
    "Registry": "kamcore.registry",
    "registry_for": "kamcore.registry",
    "load": "kamcore.workspace",
    "save": "kamcore.workspace",
    "init_workspace": "kamcore.workspace",
    "validate": "kamcore.validation",
    "rollup": "kamcore.rollup",
    "changes": "kamcore.changes",
    "Plan": "kamcore.changes.plan",
    "get_plugin_manager": "kamcore.plugins",
    "list_plugins": "kamcore.plugins",
    "roster": "kamcore.duties",
    "serves": "kamcore.helpers",
    "plugin_settings": "kamcore.helpers",
    "SemicolonList": "kamcore.helpers",
    "KamError": "kamcore.errors",
    "WorkspaceError": "kamcore.errors",
    "RecordErrors": "kamcore.errors",
    "NotFound": "kamcore.errors",
    "PluginError": "kamcore.errors",
    "PluginConflict": "kamcore.errors",
    "ChangeRefused": "kamcore.errors",
    "ValidationFailed": "kamcore.errors",
}

__all__ = [
    "HOOK_API_VERSION",
    "Account",
    "ChangeRefused",
    "Duty",
    "Finding",
    "KamError",
    "MetricDef",
    "NotFound",
    "Org",
    "Person",
    "Plan",
    "PluginConflict",
    "PluginError",
    "RecordErrors",
    "RegisterExporter",
    "RegisterFields",
    "RegisterImporter",
    "RegisterIndustry",
    "RegisterMetric",
    "RegisterRule",
    "RegisterSettings",
    "Registry",
    "Role",
    "SemicolonList",
    "Severity",
    "Tier",
    "ValidationFailed",
    "Violation",
    "Violations",
    "WorkspaceError",
    "__version__",
    "changes",
    "get_plugin_manager",
    "hookimpl",
    "init_workspace",
    "list_plugins",
    "load",
    "plugin_settings",
    "registry_for",
    "rollup",
    "roster",
    "save",
    "serves",
    "validate",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'kamcore' has no attribute {name!r}")
    imported = import_module(module)
    # A subpackage listed under its own name (kamcore.changes) is the value itself.
    value = imported if module == f"{__name__}.{name}" else getattr(imported, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:
    from kamcore import changes
    from kamcore.changes.plan import Plan
    from kamcore.declarations import Duty, Violation, Violations
    from kamcore.duties import roster
    from kamcore.errors import (
        ChangeRefused,
        KamError,
        NotFound,
        PluginConflict,
        PluginError,
        RecordErrors,
        ValidationFailed,
        WorkspaceError,
    )
    from kamcore.helpers import SemicolonList, plugin_settings, serves
    from kamcore.models import Account, Finding, MetricDef, Person, Role, Severity, Tier
    from kamcore.org import Org
    from kamcore.plugins import get_plugin_manager, list_plugins
    from kamcore.registry import Registry, registry_for
    from kamcore.validation import validate
    from kamcore.workspace import init_workspace, load, save
