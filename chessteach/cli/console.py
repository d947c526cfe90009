"""What the command line prints, and where: one Rich console for stdout (tables, summaries), one for stderr
(progress bars, the log, skipped records), and the one way a command ends on a usage error."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NoReturn

import typer
from rich.console import Console

USAGE_ERROR = 2
"""The exit code of a usage error (see :mod:`chessteach.cli`)."""
INTERRUPTED = 130
"""The exit code after Ctrl-C."""

out = Console()
"""Standard output: what a command reports."""
err = Console(stderr=True)
"""Standard error: progress bars and the log."""


def fail(message: str) -> NoReturn:
    """End the command with ``error: message`` on one line of stderr and exit code 2 (a usage error)."""
    typer.secho(f"error: {message}", fg="red", err=True)
    raise typer.Exit(USAGE_ERROR)


def report_skipped(errors: Sequence[object]) -> None:
    """Print each record a reader skipped, once, on stderr (the readers leave the reporting to their caller)."""
    for error in errors:
        typer.secho(f"skipped: {error}", fg="yellow", err=True)
