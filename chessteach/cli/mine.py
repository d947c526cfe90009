"""``chessteach puzzles mine``: engine-verified, tagged puzzles from the games of a PGN file."""

from __future__ import annotations

import time
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from chessteach.cli.display import stage_bars
from chessteach.cli.options import (
    CacheOpt,
    EngineConfigOpt,
    EngineOpt,
    EngineOptionOpt,
    NoCacheOpt,
    NodesOpt,
    WorkersOpt,
    open_pool,
)
from chessteach.cli.paths import output_file
from chessteach.puzzles import write_puzzles
from chessteach.puzzles.mine import MINED_COLUMNS, ONLY_MOVE_MARGIN, MineProgress, mine_puzzles
from chessteach.puzzles.verify import BLUNDER_MARGIN

DEFAULT_MINE_NODES = 250_000
"""Nodes per position when mining (the game-review default; the verifier reuses the same analyses)."""

_STAGES = {"games": "analysing games: positions", "lines": "building lines: rounds", "verify": "verifying: positions"}

out = Console()
err = Console(stderr=True)


def stage_bar() -> AbstractContextManager[MineProgress]:
    """One Rich progress bar per stage, on stderr."""
    return stage_bars(_STAGES)


def mine(
    pgn: Annotated[Path, typer.Argument(metavar="GAMES.pgn", help="A PGN file.", exists=True, dir_okay=False)],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the puzzle CSV.",
                                                   callback=output_file)] = Path("mined.csv"),
    nodes: NodesOpt = DEFAULT_MINE_NODES,
    margin: Annotated[
        float,
        typer.Option(
            "--margin",
            min=BLUNDER_MARGIN,
            max=2.0,
            help="Only-move margin: winning chances (-1..1) the best move must be above the second best.",
        ),
    ] = ONLY_MOVE_MARGIN,
    workers: WorkersOpt = None,
    engine: EngineOpt = None,
    engine_config: EngineConfigOpt = None,
    engine_option: EngineOptionOpt = None,
    cache: CacheOpt = None,
    no_cache: NoCacheOpt = False,
) -> None:
    """Mine puzzles from games: only-move wins and forced mates after an opponent's mistake.

    Every position is analysed, candidates are the positions after a mistake or blunder (Lichess's
    judgment) where the solver was not already winning, each line is extended while every solver move is
    an only move (--margin winning chances above the second best, or the only mate), and every puzzle must pass
    `puzzles verify` at the same node count. Reruns are served from the cache; bad games are reported and skipped.
    """
    start = time.perf_counter()
    with (
        open_pool(
            engine=engine,
            engine_config=engine_config,
            engine_option=engine_option,
            nodes=nodes,
            workers=workers,
            cache=cache,
            no_cache=no_cache,
        ) as pool,
        stage_bar() as progress,
    ):
        result = mine_puzzles(pgn, pool, margin=margin, progress=progress)
    seconds = time.perf_counter() - start
    for error in result.bad_games:
        typer.secho(f"skipped: {error}", fg="yellow", err=True)
    write_puzzles(output, result.puzzles, columns=MINED_COLUMNS)
    good_games = result.games - len(result.bad_games)
    out.print(
        f"{result.games} games ({len(result.bad_games)} skipped), {result.candidates} candidates, "
        f"{result.found} puzzles found, {result.verified} verified ({len(result.rejected)} rejected), "
        f"{result.per_100_games:.1f} per 100 games; {seconds:.1f} s "
        f"({60 * good_games / seconds if seconds else 0:.1f} games/min) at {nodes:,} nodes; wrote {output}"
    )
