"""Checks for the paths a command will read or write, run when the options are parsed: a usage mistake (a missing
input, a directory where a file is meant, a file where a directory is meant) is one line and exit code 2, before
any work."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import typer

from chessteach.inputs import STDIN

_Input = TypeVar("_Input", Path, list[Path], None)


def input_file(value: _Input) -> _Input:
    """Typer callback for a PGN or CSV to read (one or a list): ``-`` (standard input) or an existing file, plain
    or ``.zst`` (see :mod:`chessteach.inputs`)."""
    for path in value if isinstance(value, list) else [value]:
        if path is None or str(path) == STDIN:
            continue
        if not path.exists():
            raise typer.BadParameter(f"{path} does not exist")
        if path.is_dir():
            raise typer.BadParameter(f"{path} is a directory; give a file to read (or - for standard input)")
    return value


def output_file(value: Path | None) -> Path | None:
    """Typer callback for an option naming a file to write: it may not be a directory, nor lie under a file."""
    if value is not None:
        if value.is_dir():
            raise typer.BadParameter(f"{value} is a directory; give the name of a file to write")
        _under_directories(value)
    return value


def output_dir(value: Path | None) -> Path | None:
    """Typer callback for an option naming a directory to write into: it may not be a file, nor lie under one."""
    if value is not None:
        if value.exists() and not value.is_dir():
            raise typer.BadParameter(f"{value} is a file; give a directory to write into")
        _under_directories(value)
    return value


def _under_directories(path: Path) -> None:
    for parent in path.absolute().parents:  # nearest first: the first one that exists decides
        if parent.exists():
            if not parent.is_dir():
                raise typer.BadParameter(f"{parent} is a file, not a directory: cannot write {path}")
            return
