"""``chessteach puzzles ...``: the puzzle-set commands, ``tag`` (Lichess themes), ``verify`` (every solver move
checked with the engine) and ``mine`` (verified puzzles from the games of a PGN file)."""

from __future__ import annotations

import contextlib
import itertools
import os
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from chessteach.batches import RunningProgress, batched
from chessteach.cli.console import out, report_skipped
from chessteach.cli.display import stage_bars, stream_bars
from chessteach.cli.options import (
    AllThemesOpt,
    CacheOpt,
    EngineSettings,
    FenOpt,
    MinPlaysOpt,
    MinPopularityOpt,
    PuzzlesArg,
    RatingOpt,
    SolutionOpt,
    ThemeOpt,
    WorkersOpt,
    engine_options,
    filtered_puzzles,
    game_filter_options,
    load_puzzle_stream,
)
from chessteach.cli.paths import input_file, output_file
from chessteach.engine import EnginePool
from chessteach.games.filters import GameFilter
from chessteach.puzzles import Puzzle, PuzzleWriter
from chessteach.puzzles.engine_themes import engine_themes
from chessteach.puzzles.mine import MINED_COLUMNS, ONLY_MOVE_MARGIN, MineResult, mine_batches
from chessteach.puzzles.tag import EngineThemes, ThemeScores, scored_themes, tag_stream, with_computed_themes
from chessteach.puzzles.verify import BLUNDER_MARGIN, DEFAULT_VERIFY_NODES, PUZZLE_BATCH, verify_batches

puzzles_app = typer.Typer(help="Puzzle sets: tag themes, verify with the engine, mine them from games.", no_args_is_help=True)

DEFAULT_MINE_NODES = 250_000
"""Nodes per position when mining (the game-review default; the verifier reuses the same analyses)."""

REJECTED_SHOWN = 100
"""The rejected puzzles ``puzzles verify`` lists (all of them are in its CSV, with the reason)."""

MINE_STAGES = {"games": "analysing games: positions", "lines": "building lines: rounds", "verify": "verifying: positions"}
"""The progress bars of ``puzzles mine``, by the library's stage names."""
MINE_UNITS = {"lines": "rounds"}
"""What a stage of ``puzzles mine`` counts, where it is not positions."""


@puzzles_app.callback()
def _puzzles() -> None:
    """Puzzle sets: tag themes, verify with the engine, mine them from games."""


@puzzles_app.command("tag")
def tag(
    puzzles_csv: PuzzlesArg = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write every input column plus the computed Themes here.",
                                   callback=output_file)
    ] = None,
    report: Annotated[
        bool, typer.Option("--report", help="Score the computed themes against the file's own Themes.")
    ] = False,
    report_csv: Annotated[
        Path | None, typer.Option("--report-csv", help="Write the per-theme report as CSV here.", callback=output_file)
    ] = None,
    engine_themes_on: Annotated[
        bool,
        typer.Option("--engine", help="Also compute advantage, crushing, equality and zugzwang with the engine."),
    ] = False,
    nodes: Annotated[int, typer.Option("--nodes", min=1, help="Nodes per position (with --engine).")] = (
        DEFAULT_VERIFY_NODES
    ),
    workers: WorkersOpt = None,
    jobs: Annotated[
        int | None, typer.Option("--jobs", "-j", min=1, help="Tagging processes (default: the CPU count).")
    ] = None,
    engine_path: Annotated[
        str | None, typer.Option("--engine-path", help="Engine binary (here --engine is the on/off switch).")
    ] = None,
    cache: CacheOpt = None,
    fen: FenOpt = None,
    solution: SolutionOpt = None,
    rating: RatingOpt = None,
    theme: ThemeOpt = None,
    all_themes: AllThemesOpt = None,
    min_popularity: MinPopularityOpt = None,
    min_plays: MinPlaysOpt = None,
) -> None:
    """Compute Lichess themes from each puzzle's position and line.

    Without -o or --report, print each puzzle's themes. With -o the file's own themes move to a SourceThemes column. With --report, print precision, recall
    and F1 per theme against the file's own themes, and micro-F1 over all computed themes. With --engine,
    the themes that need an engine are computed too (their analyses are shared with `puzzles verify`
    through the cache).
    """
    stream = load_puzzle_stream(puzzles_csv, fen, solution)
    puzzles = filtered_puzzles(stream.puzzles, rating, theme, all_themes, min_popularity, min_plays)
    printing = output is None and not report
    scores = ThemeScores(scored_themes(engine=engine_themes_on)) if report else None
    with contextlib.ExitStack() as stack:
        bars = stack.enter_context(
            stream_bars("tagging", "puzzles", "engine themes: positions" if engine_themes_on else None,
                        transient=True)
        )
        hook = None
        if engine_themes_on:
            settings = EngineSettings(engine=engine_path, nodes=nodes, workers=workers, cache=cache)
            puzzles, hook = _with_engine_themes(puzzles, stack.enter_context(settings.open_pool()), bars.positions)
        writer = None
        if output is not None:
            columns = [*stream.columns, *(["SourceThemes"] if "SourceThemes" not in stream.columns else [])]
            writer = stack.enter_context(PuzzleWriter(output, columns=columns))
        tagged = tag_stream(bars.counted(puzzles), engine_themes=hook, jobs=jobs or os.cpu_count() or 1)
        for batch in batched(tagged, PUZZLE_BATCH):
            if writer is not None:
                writer.write(with_computed_themes(p, t) for p, t in batch)
            if scores is not None:
                for puzzle, themes in batch:
                    scores.add(puzzle.themes, themes)
            if printing:
                with bars.paused():
                    for puzzle, themes in batch:
                        out.print(f"{puzzle.id}: {' '.join(themes or [])}")
            bars.advance(len(batch))
            stream.report_skipped()
    stream.report_skipped()
    if writer is not None:
        out.print(f"wrote {writer.written} tagged puzzles to {output}")
    if scores is not None:
        table = scores.table()
        _show_report(table)
        if report_csv is not None:
            report_csv.parent.mkdir(parents=True, exist_ok=True)
            table.to_csv(report_csv, index=False, float_format="%.4f")
            out.print(f"wrote the report to {report_csv}")


def _with_engine_themes(
    puzzles: Iterable[Puzzle], pool: EnginePool, progress: Callable[[int, int], None]
) -> tuple[Iterator[Puzzle], EngineThemes]:
    """The puzzles, their engine themes worked out a batch at a time as they are drawn, and the hook that gives a
    puzzle's (asked as each puzzle is drawn, see :func:`~chessteach.puzzles.tag.tag_stream`)."""
    found: dict[str, list[str]] = {}

    def ahead() -> Iterator[Puzzle]:
        running = RunningProgress(progress)
        for batch in batched(puzzles, PUZZLE_BATCH):
            found.clear()
            found.update(engine_themes(batch, pool, progress=running))
            running.next_call()
            yield from batch

    return ahead(), lambda puzzle: found.get(puzzle.id, [])


def _show_report(table) -> None:  # type: ignore[no-untyped-def]
    shown = Table(title="Computed themes against the source themes")
    for column in ("theme", "support", "predicted", "precision", "recall", "f1"):
        shown.add_column(column, justify="left" if column == "theme" else "right")
    for row in table.itertuples(index=False):
        if row.support == 0 and row.predicted == 0:
            continue
        shown.add_row(
            row.theme, str(row.support), str(row.predicted), *(f"{v:.3f}" for v in (row.precision, row.recall, row.f1))
        )
    out.print(shown)
    attrs = table.attrs
    out.print(
        f"micro-F1 {attrs['micro_f1']:.4f} (precision {attrs['micro_precision']:.4f}, "
        f"recall {attrs['micro_recall']:.4f}) over {attrs['puzzles']} puzzles"
    )


@puzzles_app.command("verify")
@engine_options(nodes=DEFAULT_VERIFY_NODES)
def verify(
    puzzles_csv: PuzzlesArg = None,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Where to write the CSV with Verified, VerifyReason.", callback=output_file)
    ] = Path("verified.csv"),
    fen: FenOpt = None,
    solution: SolutionOpt = None,
    limit: Annotated[int | None, typer.Option("--limit", "-n", min=1, help="Only the first N puzzles.")] = None,
    rating: RatingOpt = None,
    theme: ThemeOpt = None,
    all_themes: AllThemesOpt = None,
    min_popularity: MinPopularityOpt = None,
    min_plays: MinPlaysOpt = None,
    *,
    settings: EngineSettings,
) -> None:
    """Verify each solver move with the engine; add Verified and VerifyReason columns.

    A move must be the engine's best (a move that mates at once always is), and every alternative must be
    at least a blunder on Lichess's scale (0.3 winning chances); in a mate, every alternative must lose the
    mate or lengthen it; the line must keep its advantage to the end. Reruns are served from the cache.
    """
    stream = load_puzzle_stream(puzzles_csv, fen, solution)
    puzzles = filtered_puzzles(stream.puzzles, rating, theme, all_themes, min_popularity, min_plays)
    puzzles = itertools.islice(puzzles, limit) if limit else puzzles
    rejected: list[tuple[str, str, str]] = []  # the first REJECTED_SHOWN rejected: id, themes, reason
    verified = 0
    start = time.perf_counter()
    with (
        settings.open_pool() as pool,
        stream_bars("verifying", "puzzles", "positions") as bars,
        PuzzleWriter(output, columns=stream.columns) as writer,
    ):
        batches = verify_batches(bars.counted(puzzles), pool, progress=bars.positions,
                                 on_puzzle_done=lambda _: bars.advance())
        for batch in batches:
            for puzzle, verdict in batch:
                puzzle.extra["Verified"] = "true" if verdict.verified else "false"
                puzzle.extra["VerifyReason"] = verdict.reason
                verified += verdict.verified
                if not verdict.verified and len(rejected) < REJECTED_SHOWN:
                    rejected.append((puzzle.id, " ".join(puzzle.themes), verdict.reason))
            writer.write(puzzle for puzzle, _ in batch)
            stream.report_skipped()
        n_workers = pool.workers
    stream.report_skipped()
    seconds = time.perf_counter() - start
    total = writer.written
    if verified < total:
        table = Table(title=f"{total - verified} rejected")
        for column in ("PuzzleId", "themes", "reason"):
            table.add_column(column)
        for row in rejected:
            table.add_row(*row)
        if total - verified > len(rejected):
            table.caption = f"the first {len(rejected)}; every verdict is in {output} (VerifyReason)"
        out.print(table)
    share = 100 * verified / total if total else 0.0
    out.print(
        f"verified {verified}/{total} ({share:.1f}%) at {settings.nodes:,} nodes; "
        f"{seconds:.1f} s, {seconds / max(1, total):.2f} s per puzzle with {n_workers} workers "
        f"({seconds * n_workers / max(1, total):.2f} core-s per puzzle); wrote {output}"
    )


@puzzles_app.command("mine")
@engine_options(nodes=DEFAULT_MINE_NODES)
@game_filter_options()
def mine(
    pgn: Annotated[Path, typer.Argument(metavar="GAMES.pgn", help="A PGN file.", callback=input_file)],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the puzzle CSV.",
                                                   callback=output_file)] = Path("mined.csv"),
    margin: Annotated[
        float,
        typer.Option(
            "--margin",
            min=BLUNDER_MARGIN,
            max=2.0,
            help="Only-move margin: winning chances (-1..1) the best move must be above the second best.",
        ),
    ] = ONLY_MOVE_MARGIN,
    *,
    only: GameFilter | None,
    settings: EngineSettings,
) -> None:
    """Mine puzzles from games: only-move wins and forced mates after an opponent's mistake.

    Every position is analysed, candidates are the positions after a mistake or blunder (Lichess's
    judgment) where the solver was not already winning, each line is extended while every solver move is
    an only move (--margin winning chances above the second best, or the only mate), and every puzzle must pass
    `puzzles verify` at the same node count. The games go a batch at a time, each batch's puzzles written before
    the next is read, so a month of Lichess games (.pgn.zst) mines in flat memory. Reruns are served from the
    cache; bad games are reported and skipped.
    """
    start = time.perf_counter()
    result = MineResult()
    with (
        settings.open_pool() as pool,
        PuzzleWriter(output, columns=MINED_COLUMNS) as writer,
        stage_bars(MINE_STAGES, MINE_UNITS) as progress,
    ):
        for batch in mine_batches(pgn, pool, margin=margin, progress=progress, only=only):
            report_skipped(batch.bad_games)
            writer.write(batch.puzzles)  # each batch's puzzles are on disk before the next batch is read
            result.add(batch)
    seconds = time.perf_counter() - start
    good_games = result.games - len(result.bad_games)
    out.print(
        f"{result.games} games ({len(result.bad_games)} skipped), {result.candidates} candidates, "
        f"{result.found} puzzles found, {result.verified} verified ({len(result.rejected)} rejected), "
        f"{result.per_100_games:.1f} per 100 games; {seconds:.1f} s "
        f"({60 * good_games / seconds if seconds else 0:.1f} games/min) at {settings.nodes:,} nodes; wrote {output}"
    )
