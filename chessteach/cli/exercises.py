"""``chessteach exercises ...``: positional exercises, ``mine`` (engine-verified, from the games of PGN files) and
``show`` (each one's best move, distractors, concepts and facts)."""

from __future__ import annotations

import itertools
import time
from collections import Counter
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
    exercise_batches,
)
from chessteach.exercises.mine import SCREEN_FACTOR
from chessteach.exercises.show import exercise_summary, exercise_svg
from chessteach.filenames import file_in
from chessteach.games.filters import GameFilter
from chessteach.puzzles import Puzzle, PuzzleWriter
from chessteach.puzzles.lichess_csv import DISTRACTORS_COLUMN

exercises_app = typer.Typer(help="Positional exercises: find the clearly best quiet move.", no_args_is_help=True)

EXERCISE_STAGES = {
    "screen": f"screening (multipv 2, 1/{SCREEN_FACTOR} nodes)",
    "search": "clearly best? (multipv 2)",
    "reverify": f"re-verifying at {REVERIFY_FACTOR}x nodes",
    "distractors": "searching distractors",
}
"""The progress bars of ``exercises mine``, by the library's stage names."""

MARGIN_BINS = (0.1, 0.2, 0.3, 0.4, 0.6, 0.8, 2.01)
"""Edges of the margin histogram printed after mining."""

class ExerciseTally:
    """What the summary of a mining run needs, added up batch by batch once each batch's exercises are written:
    the counts, the exercises per concept and per margin bin (:data:`MARGIN_BINS`)."""

    def __init__(self) -> None:
        self.result = ExerciseResult()
        self.concepts: Counter[str] = Counter()
        self.margins: Counter[int] = Counter()
        self.exercises = 0

    def add(self, batch: ExerciseResult) -> None:
        self.result.add(batch, keep=False)
        self.exercises += len(batch.exercises)
        self.concepts.update(batch.concepts())
        for exercise in batch.exercises:
            value = float(exercise.extra["Margin"])
            self.margins.update(i for i, (low, high) in enumerate(itertools.pairwise(MARGIN_BINS)) if low <= value < high)


def summary_tables(
    tally: ExerciseTally, seconds: float, margin: float = EXERCISE_MARGIN, buffer: float = SELECTION_BUFFER
) -> list[Table]:
    """The mining funnel, the concepts and the margins, as Rich tables."""
    result = tally.result
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
    funnel.add_row("[bold]exercises[/bold]", f"[bold]{tally.exercises}[/bold]")
    funnel.add_row("time", f"{seconds:.0f} s")
    concepts = Table(title="exercises per concept")
    concepts.add_column("concept")
    concepts.add_column("exercises", justify="right")
    for concept, count in tally.concepts.most_common():
        concepts.add_row(concept, str(count))
    margins = Table(title=f"margins at {REVERIFY_FACTOR}x nodes (winning chances, -1..1)")
    margins.add_column("margin")
    margins.add_column("exercises", justify="right")
    for i, (low, high) in enumerate(itertools.pairwise(MARGIN_BINS)):
        label = f"{low:.1f}-{high:.1f}" if high < 2 else f">= {low:.1f}"
        margins.add_row(label, str(tally.margins[i]))
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
    clearly lower. The games go a batch at a time, each batch's exercises written before the next is read.
    Reruns are served from the cache; bad games are reported and skipped.
    """
    start = time.perf_counter()
    tally = ExerciseTally()
    with (
        settings.open_pool() as pool,
        PuzzleWriter(output, columns=EXERCISE_COLUMNS) as writer,
        stage_bars(EXERCISE_STAGES) as progress,
    ):
        for batch in exercise_batches(pgns, pool, margin=margin, selection_buffer=buffer, progress=progress, only=only):
            report_skipped(batch.bad_games)
            writer.write(batch.exercises)  # on disk before the next batch of games is read
            tally.add(batch)
    seconds = time.perf_counter() - start
    for table in summary_tables(tally, seconds, margin, buffer):
        out.print(table)
    out.print(f"wrote {writer.written} exercises to {output}")


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
