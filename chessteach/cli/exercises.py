"""``chessteach exercises ...``: positional exercises, ``mine`` (engine-verified, from the games of PGN files) and
``show`` (each one's best move, distractors, concepts and facts)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from chessteach.cli.console import fail, out, report_skipped
from chessteach.cli.display import stage_bars
from chessteach.cli.options import EngineSettings, engine_options, game_filter_options, read_puzzle_file
from chessteach.cli.paths import input_file, output_dir, output_file
from chessteach.exercises import (
    EXERCISE_COLUMNS,
    EXERCISE_MARGIN,
    MIN_PLY,
    REVERIFY_FACTOR,
    SCREEN_MARGIN,
    SELECTION_BUFFER,
    ExerciseResult,
    mine_exercises,
)
from chessteach.exercises.mine import SCREEN_FACTOR
from chessteach.exercises.show import exercise_summary, exercise_svg
from chessteach.filenames import file_in
from chessteach.games.filters import GameFilter
from chessteach.puzzles import Puzzle, write_puzzles
from chessteach.puzzles.lichess_csv import DISTRACTORS_COLUMN

exercises_app = typer.Typer(help="Positional exercises: find the clearly best quiet move.", no_args_is_help=True)

EXERCISE_STAGES = {
    "games": "analysing games: positions",
    "screen": f"screening (multipv 2, 1/{SCREEN_FACTOR} nodes)",
    "search": "clearly best? (multipv 2)",
    "reverify": f"re-verifying at {REVERIFY_FACTOR}x nodes",
    "distractors": "searching distractors",
}
"""The progress bars of ``exercises mine``, by the library's stage names."""

MARGIN_BINS = (0.1, 0.2, 0.3, 0.4, 0.6, 0.8, 2.01)
"""Edges of the margin histogram printed after mining."""

def summary_tables(
    result: ExerciseResult, seconds: float, margin: float = EXERCISE_MARGIN, buffer: float = SELECTION_BUFFER
) -> list[Table]:
    """The mining funnel, the concepts and the margins, as Rich tables."""
    funnel = Table(title="exercises mined")
    funnel.add_column("stage")
    funnel.add_column("count", justify="right")
    funnel.add_row("games (skipped)", f"{result.games} ({len(result.bad_games)})")
    funnel.add_row(f"positions (from ply {MIN_PLY}, not in check, no repeats)", str(result.positions))
    funnel.add_row(
        f"screen (1/{SCREEN_FACTOR} nodes): quiet, positional, margin >= {SCREEN_MARGIN}", str(result.screened)
    )
    funnel.add_row(f"clearly best at the full node count (margin >= {margin + buffer:.2f})", str(result.clearly_best))
    funnel.add_row(
        f"still clearly best at {REVERIFY_FACTOR}x nodes, margin >= {margin:.2f} (stability)",
        f"{result.stable} ({result.stability:.1%})",
    )
    funnel.add_row("dropped: fewer than 3 distractors", str(result.without_distractors))
    funnel.add_row("[bold]exercises[/bold]", f"[bold]{len(result.exercises)}[/bold]")
    funnel.add_row("time", f"{seconds:.0f} s")
    concepts = Table(title="exercises per concept")
    concepts.add_column("concept")
    concepts.add_column("exercises", justify="right")
    for concept, count in result.concepts().most_common():
        concepts.add_row(concept, str(count))
    margins = Table(title=f"margins at {REVERIFY_FACTOR}x nodes (winning chances, -1..1)")
    margins.add_column("margin")
    margins.add_column("exercises", justify="right")
    values = [float(e.extra["Margin"]) for e in result.exercises]
    for low, high in zip(MARGIN_BINS, MARGIN_BINS[1:], strict=False):
        label = f"{low:.1f}-{high:.1f}" if high < 2 else f">= {low:.1f}"
        margins.add_row(label, str(sum(low <= v < high for v in values)))
    return [funnel, concepts, margins]


@exercises_app.command("mine")
@engine_options()
@game_filter_options()
def mine(
    pgns: Annotated[
        list[Path],
        typer.Argument(metavar="GAMES.pgn...", help="One or more PGN files.", callback=input_file),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the exercise CSV.", callback=output_file)] = Path(
        "exercises.csv"
    ),
    margin: Annotated[
        float,
        typer.Option(
            "--margin", min=0.01, max=2.0,
            help="Winning chances (-1..1) the best move must stand above every alternative.",
        ),
    ] = EXERCISE_MARGIN,
    buffer: Annotated[
        float,
        typer.Option(
            "--selection-buffer", min=0.0, max=1.0,
            help="Added to --margin at the full node count, against search noise before the re-verification.",
        ),
    ] = SELECTION_BUFFER,
    *,
    only: GameFilter | None,
    settings: EngineSettings,
) -> None:
    """Mine positional exercises: positions where a quiet move that changes a positional fact is clearly best.

    Every position is analysed; a quiet best move (no capture, check or promotion) that changes a positional
    fact in the mover's favour (an outpost, an open file, a passed pawn, ...) and stands --margin above every
    alternative, still so at 4x the nodes, makes an exercise, with three plausible distractors the engine ranks
    clearly lower. Reruns are served from the cache; bad games are reported and skipped.
    """
    start = time.perf_counter()
    with settings.open_pool() as pool, stage_bars(EXERCISE_STAGES) as progress:
        result = mine_exercises(pgns, pool, margin=margin, selection_buffer=buffer, progress=progress, only=only)
    seconds = time.perf_counter() - start
    report_skipped(result.bad_games)
    write_puzzles(output, result.exercises, columns=EXERCISE_COLUMNS)
    for table in summary_tables(result, seconds, margin, buffer):
        out.print(table)
    out.print(f"wrote {len(result.exercises)} exercises to {output}")


@exercises_app.command("show")
def show(
    exercises_csv: Annotated[
        Path, typer.Argument(metavar="EXERCISES.csv", help="An exercise CSV.", callback=input_file)
    ],
    ids: Annotated[list[str] | None, typer.Option("--id", help="Exercises to show (repeatable; default all).")] = None,
    svg_dir: Annotated[
        Path | None, typer.Option("--svg-dir", help="Also write each board as DIR/ID.svg (arrows: best, distractors; an ID that is not a "
                                      "plain file name is made one).", callback=output_dir)
    ] = None,
) -> None:
    """Show exercises: the best move and the distractors in SAN, the concepts, the margin and the facts."""
    loaded = load_exercises(exercises_csv)
    chosen = [e for e in loaded if ids is None or e.id in ids]
    missing = sorted(set(ids or []) - {e.id for e in chosen})
    if missing:
        fail(f"{exercises_csv}: no exercise with id {', '.join(missing)}")
    for exercise in chosen:
        out.print(exercise_summary(exercise), highlight=False, soft_wrap=True)
        if svg_dir is not None:
            svg_dir.mkdir(parents=True, exist_ok=True)
            path = file_in(svg_dir, exercise.id, ".svg")  # the id is data: it never leads out of svg_dir
            path.write_text(exercise_svg(exercise), encoding="utf-8")
            out.print(f"board: {path}", highlight=False)
        out.print()


def load_exercises(path: Path) -> list[Puzzle]:
    """The exercises of a CSV; a file without a Distractors column exits with a one-line error."""
    loaded = read_puzzle_file(path)
    if DISTRACTORS_COLUMN not in loaded.columns:
        fail(f"{path}: no Distractors column; not an exercise file")
    return loaded.puzzles
