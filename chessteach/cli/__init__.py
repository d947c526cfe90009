"""The ``chessteach`` command line. Thin: it parses options, shows progress and calls the library."""

from __future__ import annotations

import logging
from typing import Any

import typer
from rich.console import Console
from rich.logging import RichHandler
from typer.core import TyperGroup

from chessteach import __version__
from chessteach.cli.analyze import analyze
from chessteach.cli.bench import bench_app
from chessteach.cli.engine import engine_commands
from chessteach.cli.exam import exam
from chessteach.cli.exercises import exercises_app
from chessteach.cli.exercises import mine as mine_exercises_command
from chessteach.cli.exercises import show as show_exercises
from chessteach.cli.explain import explain
from chessteach.cli.mine import mine
from chessteach.cli.options import fail
from chessteach.cli.puzzles import puzzles_app
from chessteach.cli.train import TRAIN_CONTEXT, train
from chessteach.cli.verify import verify
from chessteach.errors import UsageError

INTERRUPTED = "interrupted: stopped at Ctrl-C; what was finished is in the cache, rerun to resume"


class _Commands(TyperGroup):
    """The root command: whatever a command is doing, a :class:`UsageError` (a cache that cannot be used, an engine
    that is none) ends it with one line and exit code 2, and Ctrl-C with one line and exit code 130; the engines
    were stopped on the way out (the pool's ``with`` block, :mod:`chessteach.engine.process`)."""

    def invoke(self, ctx: Any) -> Any:  # click's Context: typer's own copy of click, or click, by version
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            typer.secho(INTERRUPTED, fg="yellow", err=True)
            raise typer.Exit(130) from None
        except UsageError as exc:
            fail(str(exc))


app = typer.Typer(
    name="chessteach",
    help="Teach chess concepts to people and language models, with Stockfish as the source of truth.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=_Commands,
)
app.add_typer(bench_app, name="bench")
puzzles_app.command("verify")(verify)
puzzles_app.command("mine")(mine)
app.add_typer(puzzles_app, name="puzzles")
exercises_app.command("mine")(mine_exercises_command)
exercises_app.command("show")(show_exercises)
app.add_typer(exercises_app, name="exercises")
app.command("analyze")(analyze)
app.command("exam")(exam)
app.command("explain")(explain)
app.command("train", context_settings=TRAIN_CONTEXT)(train)
engine_commands(app)

console = Console(stderr=True)


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
        handlers=[RichHandler(console=console, show_path=False, show_time=False)],
        force=True,
    )
    # python-chess logs each PGN error itself; chessteach reports them once, with the game's number and headers.
    logging.getLogger("chess.pgn").setLevel(logging.CRITICAL)


def main() -> None:
    """Entry point of the ``chessteach`` console script."""
    app()
