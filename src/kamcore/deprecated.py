"""Deprecations: a public name that goes away warns for at least one release before removal.

The policy (docs/plugins.md, "Versions and deprecations"): what the hook API documents keeps
working for the whole major version; a name that is replaced keeps working, warns with
:class:`~kamcore.errors.KamRemovedIn2Warning` naming its replacement, and is removed only in
the next major version. Tests can turn the warnings into errors with
``-W error::kamcore.errors.KamDeprecationWarning``.
"""

from __future__ import annotations

import warnings

from kamcore.errors import KamRemovedIn2Warning

#: Every deprecated name and its replacement (listed in docs/plugins.md too).
DEPRECATED: dict[str, str] = {
    "kamcore.registry.call_each": "kamcore.hookcall.call_hook",
    "kamcore.plugins.trace_call": "KAM_TRACE_PLUGINS=1 (every call goes through pm.hook)",
}


def warn_deprecated(old: str, new: str, *, stacklevel: int = 3) -> None:
    """Warn that ``old`` is deprecated in favour of ``new`` (removed in kamcore 2.0)."""
    warnings.warn(f"{old} is deprecated and will be removed in kamcore 2.0; use {new}",
                  KamRemovedIn2Warning, stacklevel=stacklevel)
