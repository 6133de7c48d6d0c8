"""The rule over kam.yaml's own rule settings (KAM131): a code that matches no rule does nothing.

``rules: disable: [KAM1O1]`` (a letter O) is valid YAML and a valid setting, and turns nothing
off while its author thinks KAM101 is off. Settings are read before the plugins' rules are
known, and a code of a plugin that is not loaded in this run is not an error, so this is a
finding of ``kam validate`` (a warning naming kam.yaml, the key and the code) rather than a
:class:`~kamcore.errors.WorkspaceError` that would refuse every command.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from kamcore.registry import Violation

if TYPE_CHECKING:
    from kamcore.workspace.tables import WorkspaceTables

#: An unknown code whose prefix no loaded rule has still reads as a typo from this close to a
#: loaded code (difflib's ratio; ``KMA101`` -> ``KAM101`` is 0.83, ``ADV101`` -> ``KAM101``
#: only 0.67): the cutoff kam.yaml's ``plugins:`` names are held to.
TYPO_CUTOFF = 0.75

_PREFIX = re.compile(r"[A-Za-z]*")
#: Letters typed for the digits they look like (``KAM1O1``, ``KAMl01``).
_LOOKALIKES = str.maketrans("OoIl", "0011")

_DOES = {"disable": "nothing is disabled", "severity": "no severity is changed"}


def unknown_rule_codes(tables: WorkspaceTables) -> Iterator[Violation]:
    """Codes in ``rules: disable:`` and ``rules: severity:`` that name no loaded rule.

    A code no plugin could register (not ``ABC123``), one with the prefix of a loaded rule
    (``KAM``, or ``RTL`` with the retail plugin loaded), or one close to a loaded code is a
    typo, reported with the closest codes. Any
    other code is left quiet: it is a rule of a plugin this run did not load (KAM_LOAD_PLUGINS,
    ``--no-plugins``, a plugin installed elsewhere), which the same kam.yaml serves, as it
    keeps the ``plugins:`` section of such a plugin.
    """
    from kamcore.errors import Location, did_you_mean
    from kamcore.registry import RULE_CODE
    from kamcore.settings import CONFIG_FILE
    from kamcore.validation import PLUGIN_FAILURE

    registry = tables.registry
    if registry is None:
        return
    known = sorted({*registry.rules, *registry.contested.get("rules", {})})
    prefixes = {_prefix(code) for code in known}
    settings = tables.settings.rules
    for key, codes in (("disable", list(settings.disable)), ("severity", list(settings.severity))):
        for code in codes:
            if code in known:
                continue
            typo = (not RULE_CODE.match(code) or _prefix(code) in prefixes
                    or did_you_mean(code, known, n=1, cutoff=TYPO_CUTOFF))
            if code != PLUGIN_FAILURE and not typo:
                continue
            # the file but no line, as KAM196 (an Org keeps no kam.yaml lines, and validating
            # the tables or the Org built from them gives one answer); the message names the key
            where = (Location(str(tables.folder / CONFIG_FILE))
                     if tables.folder is not None else None)
            if code == PLUGIN_FAILURE:
                message = (f"rules.{key} names {code!r} (plugin-failure), which is always an "
                           f"error: {_DOES[key]}")
                hint = "fix or disable the failing plugin instead: KAM_DISABLE_PLUGINS=NAME"
            else:
                message = f"rules.{key} names {code!r}, which is no loaded rule: {_DOES[key]}"
                hint = _suggest(code, known) or ("list the codes with `kam validate "
                                                  "--list-rules`")
            yield Violation(None, message, hint, column=f"rules.{key}", location=where)


def _prefix(code: str) -> str:
    """The letters a code starts with, which name its plugin's family (``KAM``, ``RTL``)."""
    match = _PREFIX.match(code)
    return match.group().upper() if match else ""


def _suggest(code: str, known: list[str]) -> str | None:
    """``did you mean 'KAM101'?``: the code with look-alike letters read as digits when that
    is a known code, else the closest codes."""
    from kamcore.errors import did_you_mean

    prefix = _prefix(code)
    digits = prefix + code[len(prefix):].translate(_LOOKALIKES)
    if digits in known:
        return f"did you mean {digits!r}?"
    return did_you_mean(code, known)
