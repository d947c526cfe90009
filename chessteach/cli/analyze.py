"""``chessteach analyze``: the game review for players and coaches."""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import chess
import typer
from rich.table import Table

from chessteach.cli.console import err, fail, out, report_skipped
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
from chessteach.cli.paths import input_file, output_dir
from chessteach.games.annotate import write_annotated_games
from chessteach.games.export import CsvAppender, games_frame, moves_frame
from chessteach.games.filters import GameFilter
from chessteach.games.read import GameRecord, read_games
from chessteach.games.review import GameReview, review_batches


def _plays(headers: dict[str, str], player: str) -> chess.Color | None:
    needle = player.casefold()
    if needle in headers.get("White", "").casefold():
        return chess.WHITE
    if needle in headers.get("Black", "").casefold():
        return chess.BLACK
    return None


REPORT_GAMES = 200
"""The games ``report.html`` and the accuracy table show by default (every game is in the other files)."""


@engine_options()
@game_filter_options(player=False)
def analyze(
    pgn: Annotated[Path, typer.Argument(metavar="GAMES.pgn", help="A PGN file, any number of games.", callback=input_file)],
    output: Annotated[Path, typer.Option("--output", "-o", help="Output directory.", callback=output_dir)] = Path("review"),
    player: Annotated[
        str | None, typer.Option("--player", help="Only games of this player (a part of the name); their summary.")
    ] = None,
    game: GameNumbersOpt = None,
    adaptive: AdaptiveOpt = False,
    first_nodes: FirstNodesOpt = None,
    report_games: Annotated[
        int, typer.Option("--report-games", min=1, help="Show the first N games in report.html and the accuracy "
                                                         "table (every game is in the CSVs and annotated.pgn).")
    ] = REPORT_GAMES,
    *,
    only: GameFilter | None,
    settings: EngineSettings,
) -> None:
    """Review every game: annotated.pgn, moves.csv, games.csv and report.html in the output directory.

    Each position is analysed at a fixed node limit, or with --adaptive at a fraction of it first and deeper only
    where a judgment could change; results go to the analysis cache, so after
    Ctrl-C a rerun resumes where it stopped. The games are read and reviewed a batch at a time, and each batch
    is written before the next is read, so memory stays flat however many games the file holds.
    """
    budget = review_budget(settings, adaptive, first_nodes)
    skipped = 0
    if player:  # the player's games, chosen at their headers as the other filters are
        only = dataclasses.replace(only or GameFilter(), players=(player,))

    def selected() -> Iterator[GameRecord]:
        nonlocal skipped
        for record in read_games(pgn, only=only, numbers=game or None):
            if record.error is not None or record.game is None:
                skipped += 1
                report_skipped([record.error])
            else:
                yield record

    records = selected()
    first = next(records, None)  # a file with no game to review ends here, before any engine starts
    if first is None:
        fail(f"{pgn}: no game to analyse" + (f" with player {player!r}" if player else ""))
    output.mkdir(parents=True, exist_ok=True)
    shown: list[GameReview] = []  # the first report_games reviews, for report.html and the table
    accuracies = _PlayerAccuracy(player)
    reviewed = 0
    start = time.perf_counter()
    with (
        settings.open_pool() as pool,
        stream_bars("games", "games", "positions") as bars,  # Ctrl-C: one line and exit code 130 (cli._Commands)
        open(output / "annotated.pgn", "w", encoding="utf-8") as annotated,
        CsvAppender(output / "moves.csv") as moves,
        CsvAppender(output / "games.csv") as games,
    ):
        nodes = f"{settings.nodes} nodes" if budget is None else f"{budget.key}"
        annotator = f"chessteach ({pool.engine_id}, {nodes})"
        batches = review_batches(bars.counted(itertools.chain([first], records)), pool, progress=bars.positions,
                                 on_game_done=lambda _: bars.advance(), budget=budget)
        for batch in batches:
            reviews = [review for _, review in batch]
            write_annotated_games(annotated, [r.game for r, _ in batch if r.game is not None], reviews,
                                  annotator=annotator)
            moves.write(moves_frame(reviews))
            games.write(games_frame(reviews))
            shown += reviews[: max(0, report_games - len(shown))]
            accuracies.add(reviews)
            reviewed += len(reviews)
        failures = list(pool.failures)
    seconds = time.perf_counter() - start

    from chessteach.games.report import write_report
    from chessteach.teaching.moments import games_writeups

    report = write_report(
        shown, output / "report.html", title=f"Game review: {pgn.name}", source=str(pgn),
        writeups=games_writeups(shown), reviewed=reviewed,
    )
    _summary(shown, reviewed)
    accuracies.show()
    if failures:
        err.print(f"[red]{len(failures)} position(s) failed twice in the engine[/red]; their moves are skipped")
    out.print(
        f"{reviewed} game(s) reviewed in {seconds:.1f} s ({skipped} skipped). "
        f"Report: [bold]{report}[/bold]; also annotated.pgn, moves.csv, games.csv in {output}"
    )


PLAYER_WIDTH = 25
"""The player column's width at most: longer names are cut with an ellipsis, so the table fits 80 columns."""


def _summary(reviews: list[GameReview], reviewed: int | None = None) -> None:
    """The accuracy table of the games shown, a row per side (80 columns wide at most: names are cut, never
    wrapped); ``reviewed``: the games reviewed in all, when more."""
    table = Table(title="Accuracy (Lichess)")
    table.add_column("#", justify="right")
    table.add_column("Side")
    table.add_column("Player", max_width=PLAYER_WIDTH, no_wrap=True, overflow="ellipsis")
    table.add_column("Result")
    for column in ("Accuracy", "?!", "?", "??"):
        table.add_column(column, justify="right")
    for r in reviews:
        for side, stats in (("White", r.white), ("Black", r.black)):
            first = side == "White"
            table.add_row(
                str(r.number) if first else "",
                side,
                r.headers.get(side, "?"),
                r.headers.get("Result", "*") if first else "",
                "n/a" if stats.accuracy is None else f"{stats.accuracy:.1f}",
                str(stats.inaccuracies),
                str(stats.mistakes),
                str(stats.blunders),
                end_section=not first,
            )
    if reviewed is not None and reviewed > len(reviews):
        table.caption = f"the first {len(reviews)} of {reviewed} games (all of them: games.csv)"
    out.print(table)


class _PlayerAccuracy:
    """The mean accuracy of ``--player`` over every game reviewed, counted a batch at a time."""

    def __init__(self, player: str | None) -> None:
        self.player = player
        self.total = 0.0
        self.games = 0

    def add(self, reviews: list[GameReview]) -> None:
        if not self.player:
            return
        for review in reviews:
            color = _plays(review.headers, self.player)
            accuracy = review.side(color).accuracy if color is not None else None
            if accuracy is not None:
                self.total += accuracy
                self.games += 1

    def show(self) -> None:
        if self.player and self.games:
            out.print(f"{self.player}: {self.games} game(s), mean accuracy {self.total / self.games:.1f}%")
