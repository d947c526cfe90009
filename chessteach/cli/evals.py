"""``chessteach evals``: the engine's evaluation of every move of a PGN's games."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from chessteach.cli.console import fail, out, report_skipped
from chessteach.cli.display import stream_bars
from chessteach.cli.options import (
    AdaptiveOpt,
    EngineSettings,
    FirstNodesOpt,
    GameNumbersOpt,
    engine_options,
    game_filter_options,
    review_budget,
)
from chessteach.cli.paths import input_file
from chessteach.games.filters import GameFilter
from chessteach.games.read import GameRecord, read_games
from chessteach.games.review import GameReview, format_score, review_batches


@engine_options()
@game_filter_options()
def evals(
    pgn: Annotated[Path, typer.Argument(help="A PGN file.", callback=input_file)],
    game: GameNumbersOpt = None,
    adaptive: AdaptiveOpt = False,
    first_nodes: FirstNodesOpt = None,
    *,
    only: GameFilter | None,
    settings: EngineSettings,
) -> None:
    """Print the evaluation, win%, judgment and best move of every move (Lichess's formulas).

    The games are read and reviewed a batch at a time, each batch printed before the next is read."""
    budget = review_budget(settings, adaptive, first_nodes)
    bad = 0

    def good() -> Iterator[GameRecord]:
        nonlocal bad
        for record in read_games(pgn, only=only, numbers=game or None):
            if record.error:
                bad += 1
                report_skipped([record.error])
            elif record.game is not None:
                yield record

    records = good()
    first = next(records, None)  # nothing to review ends here, before any engine starts
    if first is None:
        fail(f"{pgn}: no readable game selected")
    with settings.open_pool() as pool, stream_bars("games", "games", "positions", transient=True) as bars:
        batches = review_batches(bars.counted(itertools.chain([first], records)), pool, progress=bars.positions,
                                 on_game_done=lambda _: bars.advance(), budget=budget)
        for batch in batches:
            with bars.paused():
                for record, review in batch:
                    _print_review(record, review)
    if pool.failures:
        typer.secho(f"{len(pool.failures)} position(s) failed twice in the engine; see the log", fg="red", err=True)


def _print_review(record: GameRecord, review: GameReview) -> None:
    """One game's table of moves, and each side's accuracy, ACPL and judgments."""
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
