"""``chessteach puzzles ...``: tagging and verifying puzzle sets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from chessteach.cli.display import progress_bar
from chessteach.cli.options import CacheOpt, FenOpt, PuzzlesArg, SolutionOpt, WorkersOpt, load_puzzle_file, open_pool
from chessteach.cli.paths import output_file
from chessteach.puzzles import write_puzzles
from chessteach.puzzles.engine_themes import engine_themes
from chessteach.puzzles.tag import scored_themes, tag_puzzles, theme_report, with_computed_themes
from chessteach.puzzles.verify import DEFAULT_VERIFY_NODES

puzzles_app = typer.Typer(help="Puzzle sets: tag themes, verify with the engine, mine them from games.", no_args_is_help=True)

console = Console()


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
    engine_path: Annotated[
        str | None, typer.Option("--engine-path", help="Engine binary (here --engine is the on/off switch).")
    ] = None,
    cache: CacheOpt = None,
    fen: FenOpt = None,
    solution: SolutionOpt = None,
) -> None:
    """Compute Lichess themes from each puzzle's position and line.

    Without -o or --report, print each puzzle's themes. With -o the file's own themes move to a SourceThemes column. With --report, print precision, recall
    and F1 per theme against the file's own themes, and micro-F1 over all computed themes. With --engine,
    the themes that need an engine are computed too (their analyses are shared with `puzzles verify`
    through the cache).
    """
    puzzle_file = load_puzzle_file(puzzles_csv, fen, solution)
    puzzles = puzzle_file.puzzles
    hook = None
    if engine_themes_on:
        with open_pool(
            engine=engine_path, engine_config=None, engine_option=None, nodes=nodes, workers=workers, cache=cache
        ) as pool, progress_bar("engine themes: positions") as progress:
            by_id = engine_themes(puzzles, pool, progress=progress)
        hook = lambda puzzle: by_id.get(puzzle.id, [])  # noqa: E731
    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("tagging", total=len(puzzles))
        computed = tag_puzzles(
            puzzles, engine_themes=hook, progress=lambda done, total: bar.update(task, completed=done)
        )
    if output is not None:
        columns = [*puzzle_file.columns, *(["SourceThemes"] if "SourceThemes" not in puzzle_file.columns else [])]
        write_puzzles(
            output, [with_computed_themes(p, t) for p, t in zip(puzzles, computed, strict=True)], columns=columns
        )
        console.print(f"wrote {len(puzzles)} tagged puzzles to {output}")
    if output is None and not report:
        for puzzle, themes in zip(puzzles, computed, strict=True):
            console.print(f"{puzzle.id}: {' '.join(themes or [])}")
    if report:
        table = theme_report(
            [p.themes for p in puzzles], computed, themes=scored_themes(engine=engine_themes_on)
        )
        _show_report(table)
        if report_csv is not None:
            report_csv.parent.mkdir(parents=True, exist_ok=True)
            table.to_csv(report_csv, index=False, float_format="%.4f")
            console.print(f"wrote the report to {report_csv}")


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
    console.print(shown)
    attrs = table.attrs
    console.print(
        f"micro-F1 {attrs['micro_f1']:.4f} (precision {attrs['micro_precision']:.4f}, "
        f"recall {attrs['micro_recall']:.4f}) over {attrs['puzzles']} puzzles"
    )
