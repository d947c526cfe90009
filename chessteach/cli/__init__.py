"""The ``chessteach`` command line. Thin: it parses options, shows progress and calls the library.

One module per command, named as the command: :mod:`~chessteach.cli.analyze`, :mod:`~chessteach.cli.evals`,
:mod:`~chessteach.cli.exam`, :mod:`~chessteach.cli.explain` and :mod:`~chessteach.cli.train` define one command
each, :mod:`~chessteach.cli.bench`, :mod:`~chessteach.cli.puzzles` and :mod:`~chessteach.cli.exercises` a group
(a Typer app); :data:`COMMANDS` registers them all. The engine options are declared once
(:func:`chessteach.cli.options.engine_options`), the consoles and the usage-error exit live in
:mod:`chessteach.cli.console`.

Exit codes, for every command:

- 0: the command ran to its end. A run that found failures still ends with 0 and reports them (puzzles that do
  not verify are listed and written with ``Verified=false``; positions that failed twice in the engine are named).
- 2: a usage error, before any work or as soon as it shows: a bad option value (``--nodes 0``, an unknown
  concept, ``--engine-option Hash=-5``), an input file that is missing, unreadable or holds nothing usable (no
  readable game, no Distractors column), a directory given for a file, an engine that is none, a cache that
  cannot be used. One line on stderr, ``error: ...``, naming the bad input.
- 130: Ctrl-C; what was finished is in the cache, and the engines were stopped on the way out.
- Anything else (1, with a traceback) is a bug.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, NamedTuple

import typer
from rich.logging import RichHandler
from typer.core import TyperGroup

from chessteach import __version__
from chessteach.cli.analyze import analyze
from chessteach.cli.bench import bench_app
from chessteach.cli.console import INTERRUPTED, err, fail
from chessteach.cli.evals import evals
from chessteach.cli.exam import exam
from chessteach.cli.exercises import exercises_app
from chessteach.cli.explain import explain
from chessteach.cli.puzzles import puzzles_app
from chessteach.cli.study import study
from chessteach.cli.train import TRAIN_CONTEXT, train
from chessteach.errors import UsageError

INTERRUPTED_MESSAGE = "interrupted: stopped at Ctrl-C; what was finished is in the cache, rerun to resume"


class Command(NamedTuple):
    """A command of the root: its name, and the command (a function) or the group (a Typer app) of that name."""

    name: str
    target: Callable[..., Any] | typer.Typer
    context_settings: dict[str, Any] | None = None


COMMANDS = (
    Command("analyze", analyze),
    Command("exam", exam),
    Command("explain", explain),
    Command("train", train, TRAIN_CONTEXT),
    Command("study", study),
    Command("evals", evals),
    Command("bench", bench_app),
    Command("puzzles", puzzles_app),
    Command("exercises", exercises_app),
)
"""Every command and group of ``chessteach``, each defined in the module of its name (``chessteach.cli.NAME``)."""


class _Commands(TyperGroup):
    """The root command: whatever a command is doing, a :class:`UsageError` (a cache that cannot be used, an engine
    that is none) ends it with one line and exit code 2, and Ctrl-C with one line and exit code 130; the engines
    were stopped on the way out (the pool's ``with`` block, :mod:`chessteach.engine.process`)."""

    def invoke(self, ctx: Any) -> Any:  # click's Context: typer's own copy of click, or click, by version
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            typer.secho(INTERRUPTED_MESSAGE, fg="yellow", err=True)
            raise typer.Exit(INTERRUPTED) from None
        except UsageError as exc:
            fail(str(exc))


app = typer.Typer(
    name="chessteach",
    help="Teach chess concepts to people and language models, with Stockfish as the source of truth.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=_Commands,
)
for _command in COMMANDS:
    if isinstance(_command.target, typer.Typer):
        app.add_typer(_command.target, name=_command.name)
    else:
        app.command(_command.name, context_settings=_command.context_settings)(_command.target)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"chessteach {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log debug messages."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(message)s",
        handlers=[RichHandler(console=err, show_path=False, show_time=False)],
        force=True,
    )
    # python-chess logs each PGN error itself; chessteach reports them once, with the game's number and headers.
    logging.getLogger("chess.pgn").setLevel(logging.CRITICAL)


def main() -> None:
    """Entry point of the ``chessteach`` console script."""
    app()
