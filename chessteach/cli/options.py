"""Options shared by several commands, and the engine pool they build."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from chessteach.engine import AnalysisCache, EngineConfig, EngineLimit, EnginePool, load_config
from chessteach.engine.process import identify_engine
from chessteach.errors import BadRecordError, ChessteachError, EngineOptionError, EngineStartError
from chessteach.puzzles import LICHESS_COLUMNS, Puzzle, PuzzleFile, read_puzzles

EngineOpt = Annotated[
    str | None,
    typer.Option("--engine", help="Engine binary (default: $CHESSTEACH_ENGINE, stockfish on PATH, /usr/games/stockfish)."),
]
EngineConfigOpt = Annotated[
    Path | None, typer.Option("--engine-config", help="A TOML file like engines/stockfish.toml.", exists=True)
]
EngineOptionOpt = Annotated[
    list[str] | None,
    typer.Option("--engine-option", help="A UCI option NAME=VALUE (repeatable), e.g. Hash=128."),
]
NodesOpt = Annotated[int, typer.Option("--nodes", min=1, help="Nodes per position (reproducible with Threads=1).")]
WorkersOpt = Annotated[
    int | None, typer.Option("--workers", "-w", min=1, help="Engine processes (default: one per core).")
]
BenchWorkersOpt = Annotated[int, typer.Option("--workers", "-w", min=1, help="Engine processes (default: one per core).")]
"""``--workers`` for benchmarks, which need the number itself (their limits scale with it)."""
CacheOpt = Annotated[
    Path | None,
    typer.Option("--cache", help="SQLite analysis cache (default: $CHESSTEACH_CACHE or the user cache dir)."),
]
NoCacheOpt = Annotated[bool, typer.Option("--no-cache", help="Do not read or write the analysis cache.")]


def parse_engine_options(items: list[str] | None) -> dict[str, Any]:
    """``["Hash=128", "Threads=1"]`` -> ``{"Hash": 128, "Threads": 1}`` (ints where they parse)."""
    options: dict[str, Any] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise typer.BadParameter(f"expected NAME=VALUE, got {item!r}", param_hint="--engine-option")
        text = value.strip()
        options[name.strip()] = int(text) if text.lstrip("-").isdigit() else text
    return options


def fail(message: str) -> NoReturn:
    """End the command with ``error: message`` on one line and exit code 2 (a usage error)."""
    typer.secho(f"error: {message}", fg="red", err=True)
    raise typer.Exit(2)


def engine_config_or_exit(
    engine: str | None,
    engine_config: Path | None = None,
    engine_option: list[str] | None = None,
    cache: AnalysisCache | None = None,
) -> EngineConfig:
    """The engine configuration the options describe, checked before any work: the engine is found, answers the
    UCI handshake in time and takes every option (:func:`~chessteach.engine.process.identify_engine`; no engine is
    started for it when ``cache`` knows the binary). Any of these wrong exits with one line naming it."""
    overrides = parse_engine_options(engine_option)
    try:
        config = load_config(engine, config_file=engine_config, overrides=overrides)
        identify_engine(config, cache)
    except EngineStartError as exc:
        fail(f"--engine {exc}" if engine is not None else str(exc))
    except EngineOptionError as exc:
        fail(f"--engine-option {exc}" if exc.name in overrides else f"{engine_config or 'engines/stockfish.toml'}: {exc}")
    except (ChessteachError, ValueError) as exc:
        fail(str(exc))
    return config


def open_pool(
    *,
    engine: str | None,
    engine_config: Path | None,
    engine_option: list[str] | None,
    nodes: int,
    workers: int | None,
    cache: Path | None,
    no_cache: bool = False,
) -> EnginePool:
    """Build the engine pool the options describe, its engine and cache checked first (see
    :func:`engine_config_or_exit`); what is wrong with them exits with one line naming it."""
    store = None if no_cache else AnalysisCache(cache)  # a CacheError ends the command in one line (cli.main)
    try:
        config = engine_config_or_exit(engine, engine_config, engine_option, store)
    except BaseException:
        if store is not None:
            store.close()
        raise
    return EnginePool(limit=EngineLimit(nodes=nodes), workers=workers, config=config, cache=store)


PuzzlesArg = Annotated[
    Path | None,
    typer.Argument(metavar="IN.csv", help="A Lichess puzzle CSV (or give one puzzle with --fen and --solution).",
                   exists=True, dir_okay=False),
]
FenOpt = Annotated[
    str | None, typer.Option("--fen", help="One puzzle: the position the solver faces (instead of IN.csv).")
]
SolutionOpt = Annotated[
    str | None, typer.Option("--solution", help="With --fen: the solution line, UCI or SAN, space separated.")
]


def load_puzzle_file(puzzles_csv: Path | None, fen: str | None, solution: str | None) -> PuzzleFile:
    """The puzzles to work on: a CSV file, or one puzzle given as a FEN and its solution.

    Exits with a one-line error when neither or both are given, or when the file or the puzzle is bad.
    """
    if (puzzles_csv is None) == (fen is None):
        raise typer.BadParameter("give a puzzle CSV, or --fen with --solution (not both)")
    if fen is not None:
        if not solution:
            raise typer.BadParameter("--fen needs --solution", param_hint="--solution")
        try:
            puzzle = Puzzle.from_solution(fen, solution.split())
        except ValueError as exc:
            typer.secho(f"error: --fen/--solution: {exc}", fg="red", err=True)
            raise typer.Exit(2) from None
        return PuzzleFile(path="<command line>", columns=list(LICHESS_COLUMNS), puzzles=[puzzle])
    assert puzzles_csv is not None
    try:
        puzzle_file = read_puzzles(puzzles_csv)
    except (BadRecordError, OSError, UnicodeDecodeError) as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from None
    report_skipped(puzzle_file.errors)
    return puzzle_file


def report_skipped(errors: Sequence[object]) -> None:
    """Print each record a reader skipped, once, on stderr (the readers leave the reporting to their caller)."""
    for error in errors:
        typer.secho(f"skipped: {error}", fg="yellow", err=True)
