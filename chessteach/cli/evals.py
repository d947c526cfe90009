"""``chessteach evals``: the engine's evaluation of every move of a PGN's games."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from chessteach.cli.console import fail, out, report_skipped
from chessteach.cli.display import progress_bar
from chessteach.cli.options import EngineSettings, GameNumbersOpt, engine_options, game_filter_options
from chessteach.cli.paths import input_file
from chessteach.games.filters import GameFilter
from chessteach.games.read import read_games
from chessteach.games.review import format_score, review_games


@engine_options()
@game_filter_options()
def evals(
    pgn: Annotated[Path, typer.Argument(help="A PGN file.", callback=input_file)],
    game: GameNumbersOpt = None,
    *,
    only: GameFilter | None,
    settings: EngineSettings,
) -> None:
    """Print the evaluation, win%, judgment and best move of every move (Lichess's formulas)."""
    records = [r for r in read_games(pgn) if not game or r.number in game]
    records = list(only.select(records)) if only is not None else records
    report_skipped([r.error for r in records if r.error])
    good = [r for r in records if r.game is not None and r.error is None]
    if not good:
        fail(f"{pgn}: no readable game selected")
    with settings.open_pool() as pool, progress_bar(f"analysing {len(good)} game(s)") as progress:
        reviews = review_games([r.game for r in good if r.game is not None], pool, progress=progress)
    for record, review in zip(good, reviews, strict=True):
        table = Table(title=f"Game {record.number}: {record.title}  {review.headers.get('Result', '')}")
        for column in ("move", "eval", "win% (mover)", "judgment", "best"):
            table.add_column(column, justify="right" if column in ("eval", "win% (mover)") else "left")
        for m in review.moves:
            prefix = f"{m.move_number}." if m.color else f"{m.move_number}..."
            style = {"Blunder": "red", "Mistake": "yellow", "Inaccuracy": "cyan"}.get(str(m.judgment), "")
            table.add_row(
                f"{prefix} {m.san}",
                format_score(m.eval_after),
                f"{m.win_before:.0f} -> {m.win_after:.0f}",
                f"[{style}]{m.judgment}[/{style}]" if m.judgment else "",
                m.best_san if m.judgment and m.best_san != m.san else "",
            )
        out.print(table)
        for side, stats in (("White", review.white), ("Black", review.black)):
            acc = f"{stats.accuracy:.1f}%" if stats.accuracy is not None else "n/a"
            acpl = f"{stats.acpl:.0f}" if stats.acpl is not None else "n/a"
            out.print(
                f"{side}: accuracy {acc}, ACPL {acpl}, {stats.inaccuracies} inaccuracies, "
                f"{stats.mistakes} mistakes, {stats.blunders} blunders"
            )
    if pool.failures:
        typer.secho(f"{len(pool.failures)} position(s) failed twice in the engine; see the log", fg="red", err=True)
