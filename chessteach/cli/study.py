"""``chessteach study``: a study guide of one player's games: the concepts they keep missing, write-ups with their
own positions, and drills (index.html, study.pgn, drills.csv)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from chessteach.cli.console import err, fail, out, report_skipped
from chessteach.cli.display import progress
from chessteach.cli.options import EngineSettings, engine_options, read_puzzle_file
from chessteach.cli.paths import input_file, output_dir
from chessteach.games.read import read_games
from chessteach.puzzles.lichess_csv import bundled_exercises, bundled_puzzles
from chessteach.puzzles.puzzle import Puzzle
from chessteach.study.guide import WEAK_CONCEPTS, make_guide, write_guide
from chessteach.study.player import UnknownPlayerError, select_games


@engine_options()
def study(
    pgn: Annotated[Path, typer.Argument(metavar="GAMES.pgn", help="A PGN file with the player's games.", callback=input_file)],
    player: Annotated[str, typer.Option("--player", help="The player: any part of the name, any case.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Output directory.", callback=output_dir)] = Path(
        "study"),
    alias: Annotated[
        list[str] | None, typer.Option("--alias", help="Another name the player appears under (repeatable).")
    ] = None,
    puzzles: Annotated[
        Path | None,
        typer.Option("--puzzles", help="Puzzles to drill (a Lichess CSV; default: the bundled puzzles and exercises).",
                     callback=input_file),
    ] = None,
    concepts: Annotated[int, typer.Option("--concepts", min=1, help="Weak concepts written up and drilled.")] = (
        WEAK_CONCEPTS),
    *,
    settings: EngineSettings,
) -> None:
    """A study guide: the player's games reviewed, the concepts they keep missing (with rates and intervals),
    write-ups with their own positions, and drills: index.html, study.pgn and drills.csv in the output directory.

    Only games not analysed before cost engine time (the analysis cache)."""
    if not player.strip():
        fail("--player: give a name")
    try:
        records = list(read_games(pgn))
    except OSError as exc:
        fail(f"{pgn}: cannot read: {exc}")
    report_skipped([r.error for r in records if r.error is not None or r.game is None])
    try:
        games = select_games(records, [player, *(alias or ())], source=str(pgn))
    except UnknownPlayerError as exc:
        fail(str(exc))
    pool_puzzles: list[Puzzle] = []
    for path in [puzzles] if puzzles is not None else [bundled_puzzles(), bundled_exercises()]:
        pool_puzzles += read_puzzle_file(path, "cannot read puzzles: ").puzzles
    name = games[0].name
    start = time.perf_counter()
    with settings.open_pool() as pool:
        with progress() as bar:
            games_task = bar.add_task("games", total=len(games), unit="games")
            positions_task = bar.add_task("positions", total=None, unit="positions")
            guide = make_guide(
                name, games, pool, pool_puzzles, weak_concepts=concepts,
                progress=lambda done, total: bar.update(positions_task, completed=done, total=total),
                on_game_done=lambda _: bar.advance(games_task),
            )
        searched, failures = pool.searches, list(pool.failures)
    paths = write_guide(output, guide, source=pgn.name)
    seconds = time.perf_counter() - start
    s = guide.study
    out.print(
        f"{name}: {len(games)} game(s), {len(s.decisions)} decisions, {len(s.errors)} went wrong; weakest: "
        + (", ".join(r.concept for r in guide.weak) or "none")
        + f". {len(guide.drills)} drills. {seconds:.1f} s"
        + f", {searched} position(s) searched by the engine (the rest from the cache)"
    )
    if failures:
        err.print(f"[red]{len(failures)} position(s) failed twice in the engine[/red]; their moves are skipped")
    out.print(f"Guide: [bold]{paths['index.html']}[/bold]; also study.pgn, drills.csv in {output}")
