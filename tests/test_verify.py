"""Puzzle verification with the real Stockfish on real Lichess puzzles."""

from __future__ import annotations

from pathlib import Path

import chess
import pytest
from typer.testing import CliRunner

from chessteach.cli import app
from chessteach.engine import AnalysisCache, EngineLimit, EnginePool
from chessteach.puzzles import Puzzle, read_puzzles
from chessteach.puzzles.verify import solver_positions, verify_puzzles

NODES = 150_000
GOOD = ["00008", "000lC", "001Hi", "001m3", "002Ds", "002X3"]


@pytest.fixture(scope="module")
def real_puzzles(lichess_csv: Path) -> dict[str, Puzzle]:
    return {p.id: p for p in read_puzzles(lichess_csv).puzzles}


@pytest.fixture(scope="module")
def pool() -> EnginePool:
    with EnginePool(limit=EngineLimit(nodes=NODES), workers=2, cache=AnalysisCache(":memory:")) as p:
        yield p  # type: ignore[misc]


def corrupt(puzzle: Puzzle) -> Puzzle:
    """The same puzzle with its first solver move replaced by another legal move (the line cut there)."""
    board = puzzle.position()
    solution = puzzle.solver_moves[0]
    other = next(m for m in board.legal_moves if m != solution and not board.gives_check(m))
    return Puzzle(id=puzzle.id + "-corrupt", fen=puzzle.fen, moves=[puzzle.moves[0], other], themes=puzzle.themes)


def test_known_good_puzzles_verify(real_puzzles: dict[str, Puzzle], pool: EnginePool) -> None:
    puzzles = [real_puzzles[i] for i in GOOD]
    verdicts = verify_puzzles(puzzles, pool)
    assert [(v.puzzle_id, v.reason) for v in verdicts] == [(i, "ok") for i in GOOD]
    assert all(v.verified for v in verdicts)


def test_corrupted_solution_is_rejected(real_puzzles: dict[str, Puzzle], pool: EnginePool) -> None:
    bad = [corrupt(real_puzzles[i]) for i in GOOD[:3]]
    verdicts = verify_puzzles(bad, pool)
    assert not any(v.verified for v in verdicts)
    for v in verdicts:
        assert "the engine prefers" in v.reason, v.reason


def test_any_mate_in_one_is_as_good_as_the_listed_one(pool: EnginePool) -> None:
    # Ra8# and Re8# both mate at once: whichever is listed, the puzzle is verified.
    fen = "6k1/5ppp/8/8/8/8/5PPP/R3R1K1 w - - 0 1"
    board = chess.Board(fen)
    mates = [m for m in board.legal_moves if board.gives_check(m) and _mates(board, m)]
    assert len(mates) >= 2
    for move in mates:
        puzzle = Puzzle.from_solution(fen, [move.uci()])
        assert solver_positions(puzzle) == []  # nothing for the engine to decide
        [verdict] = verify_puzzles([puzzle], pool)
        assert verdict.verified


def test_a_slower_mate_with_a_faster_one_on_the_board_is_rejected(pool: EnginePool) -> None:
    # Back rank: Re8# mates at once; the listed Re7 does not.
    puzzle = Puzzle.from_solution("6k1/5ppp/8/8/8/8/5PPP/4R1K1 w - - 0 1", ["e1e7"])
    [verdict] = verify_puzzles([puzzle], pool)
    assert not verdict.verified
    assert "Re8#" in verdict.reason


def test_cli_writes_verified_columns(lichess_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "verified.csv"
    result = CliRunner().invoke(
        app,
        ["puzzles", "verify", str(lichess_csv), "-o", str(out), "-n", "4", "--nodes", "50000", "--cache",
         str(tmp_path / "c.sqlite")],
    )
    assert result.exit_code == 0, result.output
    assert "per puzzle" in result.output
    verified = read_puzzles(out)
    assert len(verified.puzzles) == 4
    assert {p.extra["Verified"] for p in verified.puzzles} <= {"true", "false"}
    assert all(p.extra["VerifyReason"] for p in verified.puzzles)
    assert verified.columns[-2:] == ["Verified", "VerifyReason"]


def test_verifying_a_batch_at_a_time_writes_the_same_file(
    lichess_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``puzzles verify`` reads, verifies and writes a batch of puzzles at a time: batches of three (the third
    one short) give the same file and summary as one batch."""
    from chessteach.puzzles import verify

    common = ["puzzles", "verify", str(lichess_csv), "-n", "8", "--nodes", "20000", "--cache", str(tmp_path / "c.sqlite")]
    whole = CliRunner().invoke(app, [*common, "-o", str(tmp_path / "whole.csv")])
    monkeypatch.setattr(verify, "PUZZLE_BATCH", 3)
    batched = CliRunner().invoke(app, [*common, "-o", str(tmp_path / "batched.csv")])
    assert whole.exit_code == 0 and batched.exit_code == 0, whole.output + batched.output
    assert (tmp_path / "batched.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()
    assert whole.output.split("verified ")[1].split(";")[0] == batched.output.split("verified ")[1].split(";")[0]
    assert len(read_puzzles(tmp_path / "batched.csv").puzzles) == 8


def _mates(board: chess.Board, move: chess.Move) -> bool:
    board.push(move)
    try:
        return board.is_checkmate()
    finally:
        board.pop()
