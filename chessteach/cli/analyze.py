"""``chessteach analyze``: the game review for players and coaches."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import chess
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from chessteach.cli.console import err, fail, out, report_skipped
from chessteach.cli.options import EngineSettings, GameNumbersOpt, engine_options, game_filter_options
from chessteach.cli.paths import input_file, output_dir
from chessteach.games.annotate import write_annotated_pgn
from chessteach.games.export import games_frame, moves_frame
from chessteach.games.filters import GameFilter
from chessteach.games.read import read_games
from chessteach.games.review import GameReview, review_games


def _plays(headers: dict[str, str], player: str) -> chess.Color | None:
    needle = player.casefold()
    if needle in headers.get("White", "").casefold():
        return chess.WHITE
    if needle in headers.get("Black", "").casefold():
        return chess.BLACK
    return None


@engine_options()
@game_filter_options(player=False)
def analyze(
    pgn: Annotated[Path, typer.Argument(metavar="GAMES.pgn", help="A PGN file, any number of games.", callback=input_file)],
    output: Annotated[Path, typer.Option("--output", "-o", help="Output directory.", callback=output_dir)] = Path("review"),
    player: Annotated[
        str | None, typer.Option("--player", help="Only games of this player (a part of the name); their summary.")
    ] = None,
    game: GameNumbersOpt = None,
    *,
    only: GameFilter | None,
    settings: EngineSettings,
) -> None:
    """Review every game: annotated.pgn, moves.csv, games.csv and report.html in the output directory.

    Each position is analysed once at a fixed node limit; results go to the analysis cache, so after
    Ctrl-C a rerun resumes where it stopped.
    """
    records = [r for r in read_games(pgn) if not game or r.number in game]
    records = list(only.select(records)) if only is not None else records
    skipped = [r for r in records if r.error is not None or r.game is None]
    report_skipped([r.error for r in skipped])
    selected = [r for r in records if r not in skipped]
    if player:
        selected = [r for r in selected if _plays(r.headers, player) is not None]
    if not selected:
        fail(f"{pgn}: no game to analyse" + (f" with player {player!r}" if player else ""))
    games = [r.game for r in selected if r.game is not None]
    output.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with settings.open_pool() as pool:
        columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   TimeRemainingColumn())
        with Progress(*columns, console=err) as bar:  # Ctrl-C: one line and exit code 130 (cli._Commands)
            games_task = bar.add_task("games", total=len(games))
            positions_task = bar.add_task("positions", total=None)
            reviews = review_games(
                games,
                pool,
                progress=lambda done, total: bar.update(positions_task, completed=done, total=total),
                on_game_done=lambda _: bar.advance(games_task),
                numbers=[r.number for r in selected],
            )
        annotator = f"chessteach ({pool.engine_id}, {settings.nodes} nodes)"
        failures = list(pool.failures)
    seconds = time.perf_counter() - start

    write_annotated_pgn(str(output / "annotated.pgn"), games, reviews, annotator=annotator)
    moves_frame(reviews).to_csv(output / "moves.csv", index=False)
    games_frame(reviews).to_csv(output / "games.csv", index=False)
    from chessteach.games.report import write_report
    from chessteach.teaching.moments import games_writeups

    report = write_report(
        reviews, output / "report.html", title=f"Game review: {pgn.name}", source=str(pgn),
        writeups=games_writeups(reviews),
    )
    _summary(reviews, player)
    if failures:
        err.print(f"[red]{len(failures)} position(s) failed twice in the engine[/red]; their moves are skipped")
    out.print(
        f"{len(reviews)} game(s) reviewed in {seconds:.1f} s ({len(skipped)} skipped). "
        f"Report: [bold]{report}[/bold]; also annotated.pgn, moves.csv, games.csv in {output}"
    )


PLAYER_WIDTH = 25
"""The player column's width at most: longer names are cut with an ellipsis, so the table fits 80 columns."""


def _summary(reviews: list[GameReview], player: str | None) -> None:
    """The accuracy table, a row per side (80 columns wide at most: names are cut, never wrapped)."""
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
    out.print(table)
    if player:
        own = [(r, _plays(r.headers, player)) for r in reviews]
        accs = [r.side(c).accuracy for r, c in own if c is not None and r.side(c).accuracy is not None]
        if accs:
            out.print(f"{player}: {len(accs)} game(s), mean accuracy {sum(a for a in accs if a) / len(accs):.1f}%")
