"""Puzzle mining with the real Stockfish on real games from Zurich 1953."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from games import extract_game
from typer.testing import CliRunner

from chessteach.cli import app
from chessteach.engine import AnalysisCache, EngineLimit, EnginePool
from chessteach.puzzles.mine import mine_batches, mine_puzzles, puzzle_id

NODES = 50_000
GELLER_EUWE = 9
"""Geller - Euwe, Zurich 1953, game 9 of the file: 24.Rc1? Rxg2+ 25.Kf1 Qb3!, Euwe's famous queen move."""
SZABO_RESHEVSKY = 130
"""Szabo - Reshevsky, Zurich 1953, game 130: 20...Bxf6? allows 21.Qxg6+ Kh8 22.Bxf6#, a forced mate in two."""
NAJDORF_GLIGORIC = 15
"""Najdorf - Gligoric, Zurich 1953, game 15: a quiet 20-move draw."""


@pytest.fixture(scope="module")
def zurich(pgn_dir: Path) -> Path:
    return pgn_dir / "candidates-zurich-1953.pgn"


@pytest.fixture(scope="module")
def pool() -> EnginePool:
    with EnginePool(limit=EngineLimit(nodes=NODES), workers=2, cache=AnalysisCache(":memory:")) as p:
        yield p  # type: ignore[misc]


def test_known_tactic_is_mined(zurich: Path, tmp_path: Path, pool: EnginePool) -> None:
    pgn = extract_game(zurich, GELLER_EUWE, tmp_path)
    result = mine_puzzles(pgn, pool)
    assert result.games == 1 and not result.bad_games
    assert not result.rejected
    by_ply = {p.extra["SourcePly"]: p for p in result.puzzles}
    puzzle = by_ply["47"]  # white's 24th move, the mistake
    assert [m.uci() for m in puzzle.moves[:4]] == ["a1c1", "c2g2", "g1f1", "e6b3"]
    assert puzzle.solution_san()[::2][:2] == ["Rxg2+", "Qb3"]  # the solver's moves
    assert puzzle.id == puzzle_id(pgn.name, 1, 47)
    assert puzzle.fen.startswith("4n2Q/pb1p1kp1/4qp1B/1p6/3P3R/P5N1/2r3PP/R5K1 w")
    assert puzzle.extra["SourceFile"] == pgn.name and puzzle.extra["GameUrl"] == ""  # Site is "Zurich"
    assert puzzle.themes and len(puzzle.moves) % 2 == 0  # ends on a solver move


def test_forced_mate_is_mined(zurich: Path, tmp_path: Path, pool: EnginePool) -> None:
    pgn = extract_game(zurich, SZABO_RESHEVSKY, tmp_path)
    result = mine_puzzles(pgn, pool)
    by_ply = {p.extra["SourcePly"]: p for p in result.puzzles}
    puzzle = by_ply["40"]
    assert [m.uci() for m in puzzle.moves] == ["g7f6", "c2g6", "g8h8", "b2f6"]
    assert puzzle.final_board().is_checkmate()
    assert {"mate", "mateIn2"} <= set(puzzle.themes)


def test_margin_below_the_verifier_is_refused(zurich: Path, pool: EnginePool) -> None:
    with pytest.raises(ValueError, match="at least 0.3"):
        mine_puzzles(zurich, pool, margin=0.2)


def test_quiet_draw_yields_none(zurich: Path, tmp_path: Path, pool: EnginePool) -> None:
    result = mine_puzzles(extract_game(zurich, NAJDORF_GLIGORIC, tmp_path), pool)
    assert result.games == 1 and result.found == 0 and result.puzzles == []


def test_bad_game_is_skipped(zurich: Path, tmp_path: Path, pool: EnginePool) -> None:
    good = extract_game(zurich, NAJDORF_GLIGORIC, tmp_path).read_text(encoding="utf-8")
    pgn = tmp_path / "mixed.pgn"
    pgn.write_text('[Event "broken"]\n\n1. e4 e5 2. Ke3 *\n\n' + good, encoding="utf-8")
    result = mine_puzzles(pgn, pool)
    assert result.games == 2 and len(result.bad_games) == 1 and "game 1" in result.bad_games[0]


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_mined_puzzles_round_trip_through_tag_and_verify(zurich: Path, tmp_path: Path) -> None:
    pgn = extract_game(zurich, GELLER_EUWE, tmp_path)
    cache = tmp_path / "analysis.sqlite"
    mined, tagged, verified = tmp_path / "mined.csv", tmp_path / "tagged.csv", tmp_path / "verified.csv"
    runner = CliRunner()
    common = ["--nodes", str(NODES), "-w", "2", "--cache", str(cache)]

    result = runner.invoke(app, ["puzzles", "mine", str(pgn), "-o", str(mined), *common])
    assert result.exit_code == 0, result.output
    assert "1 games" in result.output and "verified" in result.output
    rows = read_rows(mined)
    assert rows and all(r["Rating"] == "" and r["SourceGame"] == "1" and r["SourceFile"] == pgn.name for r in rows)

    result = runner.invoke(app, ["puzzles", "tag", str(mined), "-o", str(tagged)])
    assert result.exit_code == 0, result.output
    assert all(r["Themes"] == r["SourceThemes"] for r in read_rows(tagged))

    result = runner.invoke(app, ["puzzles", "verify", str(mined), "-o", str(verified), *common])
    assert result.exit_code == 0, result.output
    checked = read_rows(verified)
    assert len(checked) == len(rows)
    assert all(r["Verified"] == "true" for r in checked), [r["VerifyReason"] for r in checked]


def test_game_url_comes_from_a_site_header_that_is_a_url(zurich: Path, tmp_path: Path, pool: EnginePool) -> None:
    text = extract_game(zurich, GELLER_EUWE, tmp_path).read_text(encoding="utf-8")
    url = "https://lichess.org/study/zurich1953/game9"
    pgn = tmp_path / "with-url.pgn"
    pgn.write_text(text.replace('[Site "Zurich"]', f'[Site "{url}"]'), encoding="utf-8")
    result = mine_puzzles(pgn, pool)
    assert result.puzzles and all(p.extra["GameUrl"] == url for p in result.puzzles)


def test_mining_a_batch_at_a_time_finds_what_one_batch_finds(zurich: Path, tmp_path: Path, pool: EnginePool) -> None:
    """Four games mined one per batch: each batch's result comes before the next game is read, a position
    repeated in a later batch is mined once, and the puzzles are those of one batch of all four."""
    texts = [extract_game(zurich, n, tmp_path).read_text(encoding="utf-8")
             for n in (GELLER_EUWE, NAJDORF_GLIGORIC, SZABO_RESHEVSKY, GELLER_EUWE)]
    pgn = tmp_path / "four.pgn"
    pgn.write_text("\n\n".join(texts), encoding="utf-8")
    batches = list(mine_batches(pgn, pool, size=1))
    assert [b.games for b in batches] == [1, 1, 1, 1]
    assert batches[0].verified >= 1 and batches[2].verified >= 1
    assert batches[3].candidates == 0 and batches[3].puzzles == []  # game 4 repeats game 1's positions
    whole = mine_puzzles(pgn, pool, size=10)
    one_by_one = [p for b in batches for p in b.puzzles]
    assert [(p.id, p.moves) for p in one_by_one] == [(p.id, p.moves) for p in whole.puzzles]
    assert whole.candidates == sum(b.candidates for b in batches) and whole.games == 4


def test_fragments_of_lichess_puzzles_come_back_more_often_with_deeper_rechecks(engine_path: str) -> None:
    """Lichess puzzles turned back into short games: a step that fails at 50,000 nodes is searched again at 4 and
    16 times the nodes, and more of them come back, each verified, with Lichess's first move."""
    from chessteach.engine import load_config
    from chessteach.puzzles import read_puzzles
    from chessteach.puzzles.bench import run_fragment_bench

    puzzles = [p for p in read_puzzles(Path(__file__).parent / "data" / "lichess-dev.csv").puzzles if p.setup][:12]
    config = load_config(engine_path)
    once = run_fragment_bench(puzzles, config=config, nodes=NODES, workers=2, recheck=())
    again = run_fragment_bench(puzzles, config=config, nodes=NODES, workers=2)
    assert once.fragments == again.fragments == 12
    assert again.recalled > once.recalled and set(again.missed) < set(once.missed)
    assert once.precision == again.precision == 1.0  # every puzzle the lines give passes the verifier
