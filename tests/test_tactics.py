"""Motif detectors on real Lichess puzzles: every fact they emit is checkable, and checks fail off the board."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import chess
import pytest

from chessteach.concepts import Fact, check_fact, fact_kinds, mates, motifs
from chessteach.concepts.line import Line
from chessteach.concepts.phase import game_phase
from chessteach.concepts.tactics import find_fork, find_hanging, is_trapped
from chessteach.puzzles import Puzzle, read_puzzles
from chessteach.puzzles.tag import has_generator_themes, puzzle_line, tag_puzzle

FACT_FINDERS: dict[str, Callable[[Line], list[Fact] | bool]] = {
    "fork": motifs.forks,
    "pin": motifs.pins,
    "skewer": motifs.skewers,
    "double_check": motifs.double_checks,
    "discovered_check": motifs.discovered_checks,
    "trapped_piece": motifs.trapped_pieces,
    "f2_f7_attack": motifs.f2_f7_attacks,
}


@pytest.fixture(scope="module")
def dev_puzzles(lichess_csv: Path) -> dict[str, Puzzle]:
    return {p.id: p for p in read_puzzles(lichess_csv).puzzles}


def test_every_fact_kind_has_a_checker() -> None:
    assert set(FACT_FINDERS) | {"mate_pattern", "hanging_piece"} <= set(fact_kinds())


@pytest.mark.parametrize("kind", sorted(FACT_FINDERS))
def test_every_fact_passes_its_check(dev_puzzles: dict[str, Puzzle], kind: str) -> None:
    found = 0
    for puzzle in dev_puzzles.values():
        facts = FACT_FINDERS[kind](puzzle_line(puzzle))
        for fact in facts if isinstance(facts, list) else []:
            assert fact.kind == kind
            board = chess.Board(fact.position)
            assert check_fact(board, fact), f"{puzzle.id}: {fact.text}"
            found += 1
    assert found >= 10 if kind not in ("trapped_piece", "f2_f7_attack") else found >= 5


def test_every_mate_pattern_fact_passes_its_check(dev_puzzles: dict[str, Puzzle]) -> None:
    found = 0
    for puzzle in dev_puzzles.values():
        board = puzzle.final_board()
        for fact in mates.find_mate_patterns(board, puzzle.moves[-1]):
            assert check_fact(board, fact), f"{puzzle.id}: {fact.text}"
            if has_generator_themes(puzzle.themes) and fact.concept in mates.CLASSIC_MATES:
                assert fact.concept in puzzle.themes, puzzle.id
            found += 1
    assert found >= 150


def test_facts_fail_on_another_board(dev_puzzles: dict[str, Puzzle]) -> None:
    line = puzzle_line(dev_puzzles["000Pw"])  # Nd2 ... Ne2+ Kf1 Nxc3: the knight forks king and queen
    (fork,) = motifs.forks(line)
    assert fork.square_names == ["e2", "g1", "c3"]
    assert fork.pieces == ("n", "K", "Q")
    assert "forks" in fork.text
    assert check_fact(chess.Board(fork.position), fork)
    assert not check_fact(line.start, fork)  # before the knight got there
    assert not check_fact(line.final, fork)


def test_fork_needs_two_worthy_targets(dev_puzzles: dict[str, Puzzle]) -> None:
    line = puzzle_line(dev_puzzles["000Pw"])
    board = line.after(line.first)  # after ...Ne2+, the knight on e2
    assert find_fork(board, chess.E2) is not None
    assert find_fork(line.start, chess.D4) is None  # on d4 the knight attacked nothing worth forking


def test_hanging_piece_fact(dev_puzzles: dict[str, Puzzle]) -> None:
    puzzle = dev_puzzles["00008"]  # hangingPiece: after ...Bxg3 the rook on e6 can take the loose rook on e7
    line = puzzle_line(puzzle)
    hanging = [f for s in chess.SquareSet(line.start.occupied) if (f := find_hanging(line.start, s))]
    assert hanging
    for fact in hanging:
        assert check_fact(line.start, fact)


def test_trapped_piece_on_a_real_puzzle(dev_puzzles: dict[str, Puzzle]) -> None:
    facts = motifs.trapped_pieces(puzzle_line(dev_puzzles["008nF"]))
    assert facts
    board = chess.Board(facts[0].position)
    assert is_trapped(board, facts[0].squares[0])


@pytest.mark.parametrize(
    ("puzzle_id", "pattern"),
    [
        ("00A9Q", "smotheredMate"),
        ("001Wz", "backRankMate"),
        ("009IO", "hookMate"),
        ("00H8a", "arabianMate"),
        ("01YDB", "anastasiaMate"),
        ("098RM", "bodenMate"),
        ("03PJo", "doubleBishopMate"),
        ("00j1r", "dovetailMate"),
        ("01HvT", "operaMate"),
        ("00QOp", "pillsburysMate"),
        ("04zy6", "morphysMate"),
        ("002Q2", "cornerMate"),
        ("00LWX", "epauletteMate"),
        ("068cj", "swallowstailMate"),
        ("08TXc", "killBoxMate"),
        ("00VIe", "vukovicMate"),
    ],
)
def test_named_mates(dev_puzzles: dict[str, Puzzle], puzzle_id: str, pattern: str) -> None:
    puzzle = dev_puzzles[puzzle_id]
    assert pattern in puzzle.themes
    assert pattern in mates.named_mates(puzzle.final_board(), puzzle.moves[-1])


def test_no_named_mate_without_mate(dev_puzzles: dict[str, Puzzle]) -> None:
    puzzle = dev_puzzles["0000D"]
    assert mates.named_mates(puzzle.final_board(), puzzle.moves[-1]) == []


@pytest.mark.parametrize(("puzzle_id", "phase"), [("000rZ", "opening"), ("00008", "middlegame"), ("0000D", "endgame")])
def test_phase(dev_puzzles: dict[str, Puzzle], puzzle_id: str, phase: str) -> None:
    puzzle = dev_puzzles[puzzle_id]
    assert phase in puzzle.themes
    assert game_phase(puzzle.position()) == phase


def test_a_skewer_with_a_pawn_behind_is_tagged_but_states_no_fact(dev_puzzles: dict[str, Puzzle]) -> None:
    """Lichess's rule tags 09eZH a skewer (the bishop takes the pawn behind the king); the board fact of a
    skewer never counts a pawn behind, so the detector says yes and emits no fact, and a fact written by hand
    for it fails its check, as the fact-checker rejects the claim."""
    puzzle = dev_puzzles["09eZH"]
    line = puzzle_line(puzzle)
    assert motifs.skewers(line) is True
    assert "skewer" in tag_puzzle(puzzle)
    ply = next(
        p for p in line.solver_plies[1:] if line.captured(p) is not None and line.captured(p).piece_type == chess.PAWN
    )
    board = line.before(ply - 1)
    move, reply = line.moves[ply], line.moves[ply - 1]
    squares = (move.from_square, reply.from_square, move.to_square)
    fact = Fact(
        kind="skewer",
        squares=squares,
        pieces=tuple(board.piece_at(s).symbol() for s in squares),  # type: ignore[union-attr]
        text="hand-written",
        concept="skewer",
    )
    assert not check_fact(board, fact)
