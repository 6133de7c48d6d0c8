"""Exit codes and the one place where kamcore errors become click errors."""

from __future__ import annotations

from enum import IntEnum

import click

from kamcore.errors import KamError, PluginError, WorkspaceError


class ExitCode(IntEnum):
    #: The command ran; no error findings.
    OK = 0
    #: The command ran and found errors (like ruff), or refused a change.
    FINDINGS = 1
    #: Wrong usage, or input that cannot be read (missing file, invalid CSV or YAML).
    USAGE = 2
    #: A plugin failed in a way the command could not work around.
    PLUGIN = 3
    #: A bug in kamcore: one line is printed; KAM_DEBUG=1 shows the traceback.
    INTERNAL = 70


class KamCliError(click.ClickException):
    """A kamcore error as the CLI shows it: ``Error [CODE]: message`` and a hint line."""

    def __init__(self, error: KamError, exit_code: int) -> None:
        super().__init__(str(error))
        self.error = error
        # click declares exit_code a ClassVar but reads it from the instance; one class serves
        # every code, so it is set per instance.
        self.exit_code = exit_code  # type: ignore[misc]

    def format_message(self) -> str:
        return f"[{self.error.code}] {self.error}"


def to_cli_error(error: KamError) -> KamCliError:
    """Map a library error to its exit code."""
    if isinstance(error, PluginError):
        return KamCliError(error, ExitCode.PLUGIN)
    if isinstance(error, WorkspaceError):
        return KamCliError(error, ExitCode.USAGE)
    from kamcore.errors import ChangeRefused, NotFound, ValidationFailed

    if isinstance(error, NotFound):
        return KamCliError(error, ExitCode.USAGE)
    if isinstance(error, (ChangeRefused, ValidationFailed)):
        return KamCliError(error, ExitCode.FINDINGS)
    return KamCliError(error, ExitCode.USAGE)
