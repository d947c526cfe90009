"""The puzzle and game filters on real bundled data, each count checked against a plain pandas or python-chess
count; the filter options on the commands, and their usage errors (exit code 2, one line); ``puzzles tag --jobs``
gives the same file on one core as on two."""

from __future__ import annotations

from pathlib import Path

import chess.pgn
import pandas as pd
import pytest
from typer.testing import CliRunner

from chessteach.cli import app
from chessteach.games.filters import GameFilter, GameFilterError, game_filter, speed
from chessteach.games.read import GameRecord, read_games
from chessteach.puzzles import read_puzzles
from chessteach.puzzles.filters import FilterError, PuzzleFilter, puzzle_filter


@pytest.fixture(scope="module")
def frame(lichess_csv: Path) -> pd.DataFrame:
    return pd.read_csv(lichess_csv, dtype={"PuzzleId": str}, keep_default_na=False)


def _count(lichess_csv: Path, chosen: PuzzleFilter) -> int:
    return sum(chosen.matches(p) for p in read_puzzles(lichess_csv).puzzles)


def _themes(frame: pd.DataFrame) -> pd.Series:
    return frame["Themes"].str.split()


def test_the_rating_range_counts_as_pandas_does(lichess_csv: Path, frame: pd.DataFrame) -> None:
    expected = int(frame["Rating"].between(1500, 2000).sum())
    assert 0 < expected < len(frame)
    assert _count(lichess_csv, puzzle_filter(rating="1500-2000")) == expected
    assert _count(lichess_csv, puzzle_filter(rating="1500-")) == int((frame["Rating"] >= 1500).sum())
    assert _count(lichess_csv, puzzle_filter(rating="-1499")) == int((frame["Rating"] <= 1499).sum())


def test_themes_any_of_and_all_of_count_as_pandas_does(lichess_csv: Path, frame: pd.DataFrame) -> None:
    themes = _themes(frame)
    any_of = int(themes.map(lambda t: bool({"fork", "pin"} & set(t))).sum())
    all_of = int(themes.map(lambda t: {"fork", "short"} <= set(t)).sum())
    assert 0 < all_of < any_of < len(frame)
    assert _count(lichess_csv, puzzle_filter(themes=["fork", "pin"])) == any_of
    assert _count(lichess_csv, puzzle_filter(all_themes=["fork", "short"])) == all_of


def test_popularity_and_plays_minimums_count_as_pandas_does(lichess_csv: Path, frame: pd.DataFrame) -> None:
    popular = int((frame["Popularity"] >= 95).sum())
    played = int((frame["NbPlays"] >= 1000).sum())
    both = int(((frame["Popularity"] >= 95) & (frame["NbPlays"] >= 1000) & (frame["Rating"] <= 2000)).sum())
    assert 0 < popular < len(frame) and 0 < played < len(frame)
    assert _count(lichess_csv, puzzle_filter(min_popularity=95)) == popular
    assert _count(lichess_csv, puzzle_filter(min_plays=1000)) == played
    assert _count(lichess_csv, puzzle_filter(rating="-2000", min_popularity=95, min_plays=1000)) == both


@pytest.mark.parametrize("bad", ["abc", "2000-1500", "-", "15OO-2000"])
def test_a_bad_rating_range_is_a_usage_error(bad: str) -> None:
    with pytest.raises(FilterError, match="is not a range"):
        puzzle_filter(rating=bad)


def _pgn_headers(pgn_dir: Path) -> list[dict[str, str]]:
    headers = []
    for path in sorted(pgn_dir.glob("*.pgn")):
        with open(path, encoding="utf-8") as handle:
            while (found := chess.pgn.read_headers(handle)) is not None:
                headers.append(dict(found))
    return headers


def _filtered(pgn_dir: Path, chosen: GameFilter) -> int:
    return sum(len(list(read_games(path, only=chosen))) for path in sorted(pgn_dir.glob("*.pgn")))


def test_the_game_filters_count_as_python_chess_headers_do(pgn_dir: Path) -> None:
    headers = _pgn_headers(pgn_dir)
    assert _filtered(pgn_dir, GameFilter()) == len(headers)

    def elo(h: dict[str, str], side: str) -> int:
        return int(h.get(f"{side}Elo") or 0) if (h.get(f"{side}Elo") or "").isdigit() else 0

    rated = sum(min(elo(h, "White"), elo(h, "Black")) >= 2750 for h in headers)
    carlsen = sum("carlsen" in (h.get("White", "") + "|" + h.get("Black", "")).lower() for h in headers)
    wins = sum(h.get("Result") == "1-0" for h in headers)
    decisive = sum(h.get("Result") in ("1-0", "0-1") for h in headers)
    assert 0 < rated < len(headers) and 0 < carlsen < len(headers) and 0 < wins < decisive < len(headers)
    assert _filtered(pgn_dir, game_filter(min_elo=2750)) == rated
    assert _filtered(pgn_dir, game_filter(players=["CARLSEN"])) == carlsen
    assert _filtered(pgn_dir, game_filter(results=["1-0"])) == wins
    assert _filtered(pgn_dir, game_filter(results=["1-0", "0-1"])) == decisive
    both = sum("carlsen" in (h.get("White", "") + "|" + h.get("Black", "")).lower() and h.get("Result") == "1-0"
               for h in headers)
    assert _filtered(pgn_dir, game_filter(players=["carlsen"], results=["1-0"])) == both
    # The bundled games are over the board: no TimeControl header, so no speed matches them.
    timed = sum(speed(h.get("TimeControl", "")) == "classical" for h in headers)
    assert _filtered(pgn_dir, game_filter(time_controls=["classical"])) == timed


def _record(r: GameRecord) -> tuple[object, ...]:
    return r.number, r.line, r.error, r.headers, r.tags, r.encoding, None if r.game is None else str(r.game)


def test_filtering_at_the_headers_gives_the_games_filtering_after_parsing_does(pgn_dir: Path, tmp_path: Path) -> None:
    """``read_games(only=...)`` passes a game over before its moves are parsed; the records that come out are
    those of ``GameFilter.matches`` on every record, damaged games and python-chess's default headers included."""
    games = (pgn_dir / "candidates-madrid-2022.pgn").read_text(encoding="utf-8").split("\n\n[Event ")
    first, second, third = games[0] + "\n\n", "[Event " + games[1] + "\n\n", "[Event " + games[2] + "\n\n"
    raises = second.replace(" 5. cxd5 ", " 5. Qh8)! cxd5 ", 1)  # python-chess raises: no game, its tags alone
    no_result = third.replace('[Result "1-0"]\n', "", 1)  # python-chess's default: Result "*"
    assert raises != second and no_result != third
    hostile = tmp_path / "hostile.pgn"
    hostile.write_text("".join([first, "1. e4 e5 2. Nf3 *\n\n", raises, no_result, third.replace('[White "', 'White "', 1),
                                "\x00\x01junk\n\n", first.split("\n\n")[0] + "\n\n", third]))
    files = [pgn_dir / "candidates-madrid-2022.pgn", hostile]
    filters = [game_filter(min_elo=2750), game_filter(players=["ding"]), game_filter(results=["*"]),
               game_filter(players=["?"]), game_filter(results=["1-0", "1/2-1/2"]), GameFilter()]
    for path in files:
        everything = list(read_games(path))
        for chosen in filters:
            expected = [_record(r) for r in everything if chosen.matches(r.headers)]
            assert [_record(r) for r in read_games(path, only=chosen)] == expected, (path.name, chosen)
        assert [_record(r) for r in read_games(path, numbers={2, 5})] == [_record(r) for r in everything
                                                                           if r.number in (2, 5)]
    hostile_records = list(read_games(hostile))
    assert [r.error is None for r in hostile_records] == [True, True, False, True, False, False, False, True]
    assert [r.number for r in read_games(hostile, only=game_filter(results=["*"]))] == [2]  # no tags: the roster's
    assert [r.number for r in read_games(hostile, only=game_filter(results=["1-0"]))] == [4, 5, 8]  # 4: its moves'
    assert [r.number for r in read_games(hostile, only=game_filter(players=["?"]))] == [2, 5]


def test_time_controls_follow_lichess_speeds() -> None:
    blitz, rapid = game_filter(time_controls=["blitz"]), game_filter(time_controls=["rapid"])
    assert blitz.matches({"TimeControl": "180+2"}) and blitz.matches({"TimeControl": "300+0"})
    assert not blitz.matches({"TimeControl": "600+0"}) and rapid.matches({"TimeControl": "600+0"})
    assert rapid.matches({"TimeControl": "300+5"})  # 300 + 40 * 5 = 500 s: rapid, not blitz
    base = game_filter(time_controls=["180-300"])
    assert base.matches({"TimeControl": "180+2"}) and not base.matches({"TimeControl": "600+0"})
    assert not base.matches({"TimeControl": "-"}) and not blitz.matches({})


@pytest.mark.parametrize("values", [{"time_controls": ["fast"]}, {"time_controls": ["600-300"]},
                                    {"results": ["1:0"]}, {"min_elo": -5}])
def test_a_bad_game_filter_is_a_usage_error(values: dict[str, object]) -> None:
    with pytest.raises(GameFilterError):
        game_filter(**values)  # type: ignore[arg-type]


def test_puzzles_tag_tags_only_the_filtered_puzzles(lichess_csv: Path, frame: pd.DataFrame, tmp_path: Path) -> None:
    out = tmp_path / "tagged.csv"
    result = CliRunner().invoke(app, ["puzzles", "tag", str(lichess_csv), "--rating", "1500-2000", "--theme", "fork",
                                      "--min-plays", "1000", "-o", str(out), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    expected = frame[frame["Rating"].between(1500, 2000) & _themes(frame).map(lambda t: "fork" in t)
                     & (frame["NbPlays"] >= 1000)]
    tagged = pd.read_csv(out, dtype={"PuzzleId": str}, keep_default_na=False)
    assert 0 < len(tagged) == len(expected)
    assert list(tagged["PuzzleId"]) == list(expected["PuzzleId"])


def test_tagging_on_two_cores_writes_the_same_file_as_one(lichess_csv: Path, tmp_path: Path) -> None:
    written = []
    for jobs in (1, 2):
        out = tmp_path / f"jobs{jobs}.csv"
        result = CliRunner().invoke(app, ["puzzles", "tag", str(lichess_csv), "--jobs", str(jobs), "-o", str(out)])
        assert result.exit_code == 0, result.output
        written.append(out.read_bytes())
    assert written[0] == written[1] and written[0].count(b"\n") > 2000


USAGE_ERRORS = {
    "a bad --rating": (["puzzles", "tag", "{csv}", "--rating", "high"], "'high'"),
    "a reversed --rating": (["puzzles", "verify", "{csv}", "--rating", "2000-1500"], "'2000-1500'"),
    "a bad --min-popularity": (["puzzles", "verify", "{csv}", "--min-popularity", "500"], "--min-popularity"),
    "a bad --jobs": (["puzzles", "tag", "{csv}", "--jobs", "0"], "--jobs"),
    "a bad --time-control": (["puzzles", "mine", "{pgn}", "--time-control", "fast"], "'fast'"),
    "a bad --result": (["evals", "{pgn}", "--result", "1:0"], "'1:0'"),
    "a bad --min-elo": (["exercises", "mine", "{pgn}", "--min-elo", "-1"], "--min-elo"),
    "a bad --time-control to analyze": (["analyze", "{pgn}", "--time-control", "9-1"], "'9-1'"),
}


@pytest.mark.parametrize("case", USAGE_ERRORS)
def test_a_bad_filter_exits_2_in_one_line_naming_it(case: str, pgn_dir: Path, lichess_csv: Path) -> None:
    args, named = USAGE_ERRORS[case]
    pgn = pgn_dir / "candidates-2022-sample.pgn"
    result = CliRunner().invoke(app, [a.format(pgn=pgn, csv=lichess_csv) for a in args])
    assert result.exit_code == 2, (case, result.output)
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit), (case, result.exception)
    assert named in " ".join(result.output.replace("│", " ").split()), (case, result.output)


def test_the_game_filter_options_reach_the_commands(pgn_dir: Path, tmp_path: Path, cache_path: Path) -> None:
    pgn = str(pgn_dir / "candidates-2022-sample.pgn")
    nobody = CliRunner().invoke(app, ["evals", pgn, "--player", "nobody-at-all", "--no-cache"])
    assert nobody.exit_code == 2 and "no readable game selected" in nobody.output, nobody.output
    drawn = CliRunner().invoke(app, ["analyze", pgn, "--result", "*", "--no-cache", "-o", str(tmp_path / "r")])
    assert drawn.exit_code == 2 and "no game to analyse" in drawn.output, drawn.output
    out = tmp_path / "mined.csv"
    mined = CliRunner().invoke(app, ["puzzles", "mine", pgn, "--time-control", "bullet", "-o", str(out), "-w", "1",
                                     "--cache", str(cache_path)])
    assert mined.exit_code == 0 and "0 games (0 skipped)" in mined.output, mined.output
