"""``chessteach puzzles ...``: tagging and verifying puzzle sets."""

from __future__ import annotations

import typer

puzzles_app = typer.Typer(help="Puzzle sets: tag themes, verify with the engine.", no_args_is_help=True)
