"""``chessteach puzzles verify``: check every solver move of a puzzle set with the engine."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from chessteach.cli.display import progress_bar
from chessteach.cli.options import (
    CacheOpt,
    EngineConfigOpt,
    EngineOpt,
    EngineOptionOpt,
    FenOpt,
    NoCacheOpt,
    NodesOpt,
    PuzzlesArg,
    SolutionOpt,
    WorkersOpt,
    load_puzzle_file,
    open_pool,
)
from chessteach.cli.paths import output_file
from chessteach.puzzles import write_puzzles
from chessteach.puzzles.verify import DEFAULT_VERIFY_NODES, verify_puzzles

out = Console()


def verify(
    puzzles_csv: PuzzlesArg = None,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Where to write the CSV with Verified, VerifyReason.", callback=output_file)
    ] = Path("verified.csv"),
    fen: FenOpt = None,
    solution: SolutionOpt = None,
    nodes: NodesOpt = DEFAULT_VERIFY_NODES,
    limit: Annotated[int | None, typer.Option("--limit", "-n", min=1, help="Only the first N puzzles.")] = None,
    workers: WorkersOpt = None,
    engine: EngineOpt = None,
    engine_config: EngineConfigOpt = None,
    engine_option: EngineOptionOpt = None,
    cache: CacheOpt = None,
    no_cache: NoCacheOpt = False,
) -> None:
    """Verify each solver move with the engine; add Verified and VerifyReason columns.

    A move must be the engine's best (a move that mates at once always is), and every alternative must be
    at least a blunder on Lichess's scale (0.3 winning chances); in a mate, every alternative must lose the
    mate or lengthen it; the line must keep its advantage to the end. Reruns are served from the cache.
    """
    puzzle_file = load_puzzle_file(puzzles_csv, fen, solution)
    puzzles = puzzle_file.puzzles[:limit] if limit else puzzle_file.puzzles
    start = time.perf_counter()
    with open_pool(
        engine=engine,
        engine_config=engine_config,
        engine_option=engine_option,
        nodes=nodes,
        workers=workers,
        cache=cache,
        no_cache=no_cache,
    ) as pool, progress_bar(f"verifying {len(puzzles)} puzzles") as progress:
        verdicts = verify_puzzles(puzzles, pool, progress=progress)
        n_workers = pool.workers
    seconds = time.perf_counter() - start
    for puzzle, verdict in zip(puzzles, verdicts, strict=True):
        puzzle.extra["Verified"] = "true" if verdict.verified else "false"
        puzzle.extra["VerifyReason"] = verdict.reason
    write_puzzles(output, puzzles, columns=puzzle_file.columns)

    rejected = [(p, v) for p, v in zip(puzzles, verdicts, strict=True) if not v.verified]
    verified = len(puzzles) - len(rejected)
    if rejected:
        table = Table(title=f"{len(rejected)} rejected")
        for column in ("PuzzleId", "themes", "reason"):
            table.add_column(column)
        for puzzle, verdict in rejected:
            table.add_row(puzzle.id, " ".join(puzzle.themes), verdict.reason)
        out.print(table)
    share = 100 * verified / len(puzzles) if puzzles else 0.0
    out.print(
        f"verified {verified}/{len(puzzles)} ({share:.1f}%) at {nodes:,} nodes; "
        f"{seconds:.1f} s, {seconds / max(1, len(puzzles)):.2f} s per puzzle with {n_workers} workers "
        f"({seconds * n_workers / max(1, len(puzzles)):.2f} core-s per puzzle); wrote {output}"
    )
