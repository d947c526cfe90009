"""``chessteach puzzles ...``: the puzzle-set commands, ``tag`` (Lichess themes), ``verify`` (every solver move
checked with the engine) and ``mine`` (verified puzzles from the games of a PGN file)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress
from rich.table import Table

from chessteach.cli.console import err, out, report_skipped
from chessteach.cli.display import progress_bar, stage_bars
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
    load_puzzle_file,
)
from chessteach.cli.paths import input_file, output_file
from chessteach.games.filters import GameFilter
from chessteach.puzzles import write_puzzles
from chessteach.puzzles.engine_themes import engine_themes
from chessteach.puzzles.mine import MINED_COLUMNS, ONLY_MOVE_MARGIN, mine_puzzles
from chessteach.puzzles.tag import scored_themes, tag_puzzles, theme_report, with_computed_themes
from chessteach.puzzles.verify import BLUNDER_MARGIN, DEFAULT_VERIFY_NODES, verify_puzzles

puzzles_app = typer.Typer(help="Puzzle sets: tag themes, verify with the engine, mine them from games.", no_args_is_help=True)

DEFAULT_MINE_NODES = 250_000
"""Nodes per position when mining (the game-review default; the verifier reuses the same analyses)."""

MINE_STAGES = {"games": "analysing games: positions", "lines": "building lines: rounds", "verify": "verifying: positions"}
"""The progress bars of ``puzzles mine``, by the library's stage names."""


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
    puzzle_file = load_puzzle_file(puzzles_csv, fen, solution)
    puzzles = filtered_puzzles(puzzle_file.puzzles, rating, theme, all_themes, min_popularity, min_plays)
    hook = None
    if engine_themes_on:
        settings = EngineSettings(engine=engine_path, nodes=nodes, workers=workers, cache=cache)
        with settings.open_pool() as pool, progress_bar("engine themes: positions") as progress:
            by_id = engine_themes(puzzles, pool, progress=progress)
        hook = lambda puzzle: by_id.get(puzzle.id, [])  # noqa: E731
    with Progress(console=err, transient=True) as bar:
        task = bar.add_task("tagging", total=len(puzzles))
        computed = tag_puzzles(
            puzzles, engine_themes=hook, progress=lambda done, total: bar.update(task, completed=done),
            jobs=jobs or os.cpu_count() or 1,
        )
    if output is not None:
        columns = [*puzzle_file.columns, *(["SourceThemes"] if "SourceThemes" not in puzzle_file.columns else [])]
        write_puzzles(
            output, [with_computed_themes(p, t) for p, t in zip(puzzles, computed, strict=True)], columns=columns
        )
        out.print(f"wrote {len(puzzles)} tagged puzzles to {output}")
    if output is None and not report:
        for puzzle, themes in zip(puzzles, computed, strict=True):
            out.print(f"{puzzle.id}: {' '.join(themes or [])}")
    if report:
        table = theme_report(
            [p.themes for p in puzzles], computed, themes=scored_themes(engine=engine_themes_on)
        )
        _show_report(table)
        if report_csv is not None:
            report_csv.parent.mkdir(parents=True, exist_ok=True)
            table.to_csv(report_csv, index=False, float_format="%.4f")
            out.print(f"wrote the report to {report_csv}")


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
    puzzle_file = load_puzzle_file(puzzles_csv, fen, solution)
    puzzles = filtered_puzzles(puzzle_file.puzzles, rating, theme, all_themes, min_popularity, min_plays)
    puzzles = puzzles[:limit] if limit else puzzles
    start = time.perf_counter()
    with settings.open_pool() as pool, progress_bar(f"verifying {len(puzzles)} puzzles") as progress:
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
        f"verified {verified}/{len(puzzles)} ({share:.1f}%) at {settings.nodes:,} nodes; "
        f"{seconds:.1f} s, {seconds / max(1, len(puzzles)):.2f} s per puzzle with {n_workers} workers "
        f"({seconds * n_workers / max(1, len(puzzles)):.2f} core-s per puzzle); wrote {output}"
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
    `puzzles verify` at the same node count. Reruns are served from the cache; bad games are reported and skipped.
    """
    start = time.perf_counter()
    with settings.open_pool() as pool, stage_bars(MINE_STAGES) as progress:
        result = mine_puzzles(pgn, pool, margin=margin, progress=progress, only=only)
    seconds = time.perf_counter() - start
    report_skipped(result.bad_games)
    write_puzzles(output, result.puzzles, columns=MINED_COLUMNS)
    good_games = result.games - len(result.bad_games)
    out.print(
        f"{result.games} games ({len(result.bad_games)} skipped), {result.candidates} candidates, "
        f"{result.found} puzzles found, {result.verified} verified ({len(result.rejected)} rejected), "
        f"{result.per_100_games:.1f} per 100 games; {seconds:.1f} s "
        f"({60 * good_games / seconds if seconds else 0:.1f} games/min) at {settings.nodes:,} nodes; wrote {output}"
    )
