"""Positional exercises mined with the real Stockfish from real games (the 2022 Candidates), and the
positional-change rules they rest on."""

from __future__ import annotations

import csv
from pathlib import Path

import chess
import chess.pgn
import pytest
from games import extract_game
from typer.testing import CliRunner

from chessteach.cli import app
from chessteach.concepts.changes import is_quiet, positional_changes
from chessteach.concepts.facts import check_fact
from chessteach.engine import AnalysisCache, EngineLimit, EnginePool, clamp_cp, winning_chances
from chessteach.exercises import (
    DISTRACTORS,
    EXERCISE_COLUMNS,
    EXERCISE_MARGIN,
    REVERIFY_FACTOR,
    margin_of,
    mine_exercises,
)
from chessteach.puzzles import bundled_exercises, read_puzzles
from chessteach.puzzles.mine import puzzle_id

NODES = 20_000
NEPO_DING = 4
"""Game 4 of candidates-madrid-2022.pgn: at move 36 White's queen leaves a7 for c5, onto the c-file that is
half-open for White (only Black's c7 pawn on it); Stockfish ranks Qc5 clearly above every other move."""


@pytest.fixture(scope="module")
def madrid_game(pgn_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return extract_game(pgn_dir / "candidates-madrid-2022.pgn", NEPO_DING, tmp_path_factory.mktemp("exercises"))


@pytest.fixture(scope="module")
def pool() -> EnginePool:
    with EnginePool(limit=EngineLimit(nodes=NODES), workers=2, cache=AnalysisCache(":memory:")) as p:
        yield p  # type: ignore[misc]


@pytest.fixture(scope="module")
def mined(madrid_game: Path, pool: EnginePool):  # type: ignore[no-untyped-def]
    return mine_exercises([madrid_game], pool)


def test_known_exercise_is_mined(madrid_game: Path, mined) -> None:  # type: ignore[no-untyped-def]
    assert mined.games == 1 and not mined.bad_games
    by_ply = {e.extra["SourcePly"]: e for e in mined.exercises}
    exercise = by_ply["71"]  # White's 36th move
    assert exercise.fen == "r7/Q1pk2p1/2q1p3/4P3/3PR3/5P2/6P1/6K1 w - - 1 36"
    assert [m.uci() for m in exercise.moves] == ["a7c5"] and not exercise.setup
    assert exercise.solution_san() == ["Qc5"]
    assert "halfOpenFile" in exercise.themes
    assert exercise.id == puzzle_id(madrid_game.name, 1, 71)
    assert float(exercise.extra["Margin"]) >= EXERCISE_MARGIN
    assert len(exercise.extra["Distractors"].split()) == DISTRACTORS
    assert mined.stable <= mined.clearly_best <= mined.screened <= mined.positions


def test_every_tag_is_a_fact_the_best_move_changes_on_the_board(mined) -> None:  # type: ignore[no-untyped-def]
    assert mined.exercises
    for exercise in mined.exercises:
        before = exercise.position()
        best = exercise.solver_moves[0]
        assert is_quiet(before, best) and not before.is_check()
        after = before.copy()
        after.push(best)
        changes = positional_changes(before, best)
        for theme in exercise.themes:
            facts = [c for c in changes if c.concept == theme]
            assert facts, f"{exercise.id}: nothing of {theme} changes"
            for change in facts:
                # the fact's own checker, on the board before and after the move
                assert check_fact(after, change.fact) is change.gained
                assert check_fact(before, change.fact) is not change.gained
        assert exercise.extra["Facts"] == " | ".join(c.text for c in changes)


def test_distractors_are_legal_and_ranked_clearly_lower(mined) -> None:  # type: ignore[no-untyped-def]
    # A second pool without a cache: the engine searches every position again.
    with EnginePool(limit=EngineLimit(nodes=NODES), workers=2) as fresh:
        for exercise in mined.exercises:
            board = exercise.position()
            best = exercise.solver_moves[0]
            distractors = [chess.Move.from_uci(u) for u in exercise.extra["Distractors"].split()]
            assert len(set(distractors)) == DISTRACTORS and best not in distractors
            assert all(m in board.legal_moves for m in distractors)
            [root] = fresh.analyse([board], multipv=2)
            assert root is not None and root.lines[0].move == best
            best_chances = winning_chances(clamp_cp(root.lines[0].score.pov(board.turn)))
            afters = []
            for move in distractors:
                after = board.copy(stack=False)
                after.push(move)
                afters.append(after)
            for move, analysis in zip(distractors, fresh.analyse(afters), strict=True):
                assert analysis is not None
                chances = winning_chances(clamp_cp(analysis.score.pov(board.turn)))
                assert best_chances - chances >= EXERCISE_MARGIN, (exercise.id, move.uci())
            # still clearly best at REVERIFY_FACTOR x the nodes, by the margin recorded
            [check] = fresh.analyse([board], multipv=2, limit=EngineLimit(nodes=NODES * REVERIFY_FACTOR))
            assert check is not None and check.lines[0].move == best
            verified = margin_of(check, board.turn)
            assert verified is not None and abs(verified - float(exercise.extra["Margin"])) < 1e-3


def test_command_writes_exercises_and_skips_bad_games(madrid_game: Path, tmp_path: Path) -> None:
    pgn = tmp_path / "mixed.pgn"
    pgn.write_text('[Event "broken"]\n\n1. e4 e5 2. Ke3 *\n\n' + madrid_game.read_text(encoding="utf-8"),
                   encoding="utf-8")
    out = tmp_path / "exercises.csv"
    cache = tmp_path / "analysis.sqlite"
    args = ["exercises", "mine", str(pgn), "-o", str(out), "--nodes", str(NODES), "-w", "2", "--cache", str(cache)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    skipped = [line for line in result.output.splitlines() if line.startswith("skipped:")]
    assert len(skipped) == 1 and "mixed.pgn" in skipped[0] and "game 1" in skipped[0], result.output
    assert "halfOpenFile" in result.output and "stability" in result.output
    with open(out, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
    assert reader.fieldnames == EXERCISE_COLUMNS
    assert rows and all(r["SourceFile"] == "mixed.pgn" and r["SourceGame"] == "2" for r in rows)
    loaded = read_puzzles(out)
    assert not loaded.errors and len(loaded.puzzles) == len(rows)
    assert all(not p.setup and len(p.moves) == 1 for p in loaded.puzzles)

    rerun = CliRunner().invoke(app, args)  # served from the cache: the same file
    assert rerun.exit_code == 0, rerun.output
    with open(out, newline="", encoding="utf-8") as fh:
        assert list(csv.DictReader(fh)) == rows


# --- the change rules, on textbook positions -----------------------------------------------------------------


def concepts_of(fen: str, uci: str) -> set[str]:
    board = chess.Board(fen)
    changes = positional_changes(board, chess.Move.from_uci(uci))
    after = board.copy()
    after.push(chess.Move.from_uci(uci))
    assert all(c.holds(board, after) for c in changes)
    return {c.concept for c in changes}


def test_knight_onto_an_outpost() -> None:
    # White's e4 pawn protects d5; Black has no c- or e-pawn left to attack it.
    fen = "r4rk1/pp3ppp/3p4/8/4P3/2N5/PPP2PPP/R4RK1 w - - 0 1"
    assert "outpost" in concepts_of(fen, "c3d5")
    assert "outpost" not in concepts_of(fen, "c3b5")


def test_rook_onto_the_open_file() -> None:
    fen = "r4rk1/pp3ppp/8/8/8/8/PP3PPP/R4RK1 w - - 0 1"  # the c-, d- and e-files are open
    assert "openFile" in concepts_of(fen, "a1d1")
    assert "openFile" not in concepts_of(fen, "a1b1")  # still on a file with pawns


def test_castling_builds_the_pawn_shield() -> None:
    fen = "r3k2r/ppp2ppp/8/8/8/8/PPP2PPP/R3K2R w KQkq - 0 1"
    assert "kingSafety" in concepts_of(fen, "e1g1")


def test_pawn_push_that_creates_a_passed_pawn() -> None:
    fen = "8/5k2/8/1p6/P1P5/8/5K2/8 w - - 0 1"
    assert "passedPawn" in concepts_of(fen, "c4c5")  # c5 passes b5: no black pawn on b-, c- or d-file ahead


def test_piece_onto_the_square_in_front_of_an_isolated_pawn() -> None:
    # Black's d5 is isolated (and passed); Nf3-d4 blockades it, Nf3-e5 only attacks squares beside it.
    fen = "6k1/5ppp/8/3p4/8/5N2/5PPP/6K1 w - - 0 1"
    assert {"isolatedPawn", "passedPawn"} <= concepts_of(fen, "f3d4")
    assert not {"isolatedPawn", "passedPawn"} & concepts_of(fen, "f3e5")


def test_a_new_attacker_of_a_backward_pawn() -> None:
    # Black's d6 is backward (c4 and e4 guard d5) and the d1 rook already hits it up the d-file.
    fen = "4k3/8/3p4/4p3/2P1P3/6N1/8/3R2K1 w - - 0 1"
    assert "backwardPawn" in concepts_of(fen, "g3f5")  # a second attacker
    assert "backwardPawn" not in concepts_of(fen, "g3h5")  # not an attacker
    assert "backwardPawn" not in concepts_of(fen, "d1d3")  # the same single attacker, one square closer


def test_a_rook_behind_a_passed_pawn() -> None:
    # White's d5 is passed; Ra1-d1 defends it from behind, Ra1-b1 does not.
    fen = "6k1/5ppp/8/3P4/8/8/5PPP/R5K1 w - - 0 1"
    assert "passedPawn" in concepts_of(fen, "a1d1")
    assert "passedPawn" not in concepts_of(fen, "a1b1")


def test_quiet_moves() -> None:
    board = chess.Board("r1bqkbnr/pppp1ppp/2n5/4p3/3PP3/5N2/PPP2PPP/RNBQKB1R b KQkq - 0 3")
    assert not is_quiet(board, chess.Move.from_uci("e5d4"))  # a capture
    assert is_quiet(board, chess.Move.from_uci("g8f6"))
    check = chess.Board("rnbqkbnr/ppp2ppp/8/3pp3/4P3/5N2/PPPP1PPP/RNBQKB1R w KQkq - 0 3")
    assert not is_quiet(check, chess.Move.from_uci("f1b5"))  # a check


# --- the bundled set ------------------------------------------------------------------------------------------


def test_bundled_exercises_change_what_they_are_tagged_with() -> None:
    """Every shipped exercise: a quiet best move, three legal distractors, and each tag a fact the move changes,
    checked by the fact's checker on the board before and after."""
    loaded = read_puzzles(bundled_exercises())
    assert not loaded.errors and len(loaded.puzzles) >= 100
    assert loaded.columns == EXERCISE_COLUMNS
    for exercise in loaded.puzzles:
        board = exercise.position()
        best = exercise.solver_moves[0]
        assert not exercise.setup and is_quiet(board, best)
        assert float(exercise.extra["Margin"]) >= EXERCISE_MARGIN
        distractors = [chess.Move.from_uci(u) for u in exercise.extra["Distractors"].split()]
        assert len(set(distractors)) == DISTRACTORS and best not in distractors
        assert all(m in board.legal_moves for m in distractors)
        after = board.copy()
        after.push(best)
        changes = positional_changes(board, best)
        assert exercise.themes == list(dict.fromkeys(c.concept for c in changes)), exercise.id
        for change in changes:
            assert check_fact(after, change.fact) is change.gained
            assert check_fact(board, change.fact) is not change.gained, exercise.id
