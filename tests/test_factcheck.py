"""Fact-checking explanations: true claims are verified, deliberately false ones are caught, on real puzzles."""

from __future__ import annotations

import re
from pathlib import Path

import chess
import pytest

from chessteach.puzzles import Puzzle, read_puzzles
from chessteach.teaching.explain import explain_concept
from chessteach.teaching.factcheck import (
    FALSE,
    UNCHECKABLE,
    VERIFIED,
    ExampleLine,
    FactCheck,
    check_explanation,
    check_text,
)
from chessteach.teaching.sections import render_sections

# Real Lichess puzzles from tests/data (their solution lines, as the template explains them):
FORK = "09kiE"  # 31... Kf7 32. Nd6+ Ke7 33. Nxc8+   (the knight on d6 forks the king on f7 and the rook on c8)
PIN = "02J2r"  # 20... Rxf7 21. Rd8+ Be8 22. Rxe8#  (the bishop on b3 pins the rook on f7 to the king on g8)
MATE = "00JET"  # 34... Rxd6 35. Rc8+ Rd8 36. Rxd8#  (back-rank mate in 2)
SKEWER = "00PrK"  # 55... Rxa6 56. Rh6+ Kd5 57. Rxa6  (the rook on h6 skewers the king on e6 and the rook on a6)


@pytest.fixture(scope="module")
def puzzles(lichess_csv: Path) -> dict[str, Puzzle]:
    return {p.id: p for p in read_puzzles(lichess_csv).puzzles}


def _check(puzzles: dict[str, Puzzle], puzzle_id: str, text: str) -> FactCheck:
    return check_text(text, puzzles[puzzle_id])


# ------------------------------------------------------------------ the false-explanation table

FALSE_CLAIMS = [
    # (puzzle, text, kind of the false claim, words of the reason)
    (FORK, "The white bishop on f5 goes to d6.", "piece", "no white bishop on f5"),
    (FORK, "32. Nd7+ wins the rook.", "move", "not a legal move at 32."),
    (FORK, "32... Nd6+ forks the king and the rook.", "move", "not a legal move at 32..."),
    (FORK, "Then g5f7 decides.", "move", "not a legal move"),
    (FORK, "32. Nd6+ Ke7 33. Nxc8+ Kd8 34. Ne5 wins more.", "move", "not legal after Kd8"),
    (FORK, "The white knight on d6 attacks the black pawn on g7.", "relation", "attack"),
    (FORK, "The knight forks the king and the queen.", "relation", "fork"),
    (FORK, "The white king on b2 attacks the pawn on c2.", "relation", "attack"),
    (FORK, "33. Nxc8# is mate.", "move", "not checkmate"),
    (FORK, "After the fork, Nxc8 is checkmate.", "move", "not checkmate"),
    (FORK, "White mates on h7.", "mate", "checkmate"),
    (FORK, "The knight takes the black queen on c8.", "capture", "no legal capture on c8"),
    (FORK, "The black rook on c8 is defended.", "state", "never defended"),
    (FORK, "The black rook on c8 is pinned.", "state", "never pinned"),
    (PIN, "The white bishop on b3 pins the black pawn on g7.", "relation", "pin"),
    (PIN, "The white rook on d8 pins the black rook on f7.", "relation", "pin"),
    (PIN, "The black knight on e7 is pinned by the bishop on b3.", "state", "never pinned"),
    (PIN, "21. Rd8 is already mate.", "move", "not checkmate"),
    (MATE, "35. Rc8# ends the game at once.", "move", "not checkmate"),
    (MATE, "The white queen on c1 goes to c8.", "piece", "no white queen on c1"),
    (MATE, "The black king on h8 is checkmated by the rook on d8.", "piece", "no black king on h8"),
    (MATE, "White checks on e8.", "check", "gives check"),
    (SKEWER, "The white rook on h6 skewers the black king on e6 against the black bishop on d4.", "relation", "skewer"),
    (SKEWER, "56. Rh6+ pins the black rook on a6.", "state", ""),
]


@pytest.mark.parametrize(("puzzle_id", "text", "kind", "reason"), FALSE_CLAIMS)
def test_false_claims_are_caught(puzzles: dict[str, Puzzle], puzzle_id: str, text: str, kind: str, reason: str) -> None:
    if kind == "state" and not reason:  # "pins the black rook on a6": a relation with no pin on that line
        kind, reason = "relation", "pin"
    check = _check(puzzles, puzzle_id, text)
    false = check.false_claims
    assert false, f"no false claim found in {text!r}: {check.claims}"
    assert any(c.kind == kind and reason in c.reason for c in false), [(c.kind, c.reason) for c in false]
    assert all(c.sentence == text for c in false)


TRUE_CLAIMS = [
    (FORK, "The white knight on f5 goes to d6."),
    (FORK, "32. Nd6+ forks the king and the rook."),
    (FORK, "The white knight on d6 attacks the black rook on c8 and the black king on f7."),
    (FORK, "Nd6+ forks the king on f7 and the rook on c8, and 33. Nxc8+ takes the rook with check."),
    (FORK, "32. Nd6+ Ke7 33. Nxc8+ Kd8 34. Nb6 wins."),
    (FORK, "If 32... Kg6 instead, 33. Nxc8 still wins the rook."),
    (FORK, "The white king on b2 defends the pawn on c2."),
    (FORK, "The black rook on c8 is undefended, so the knight takes the black rook on c8."),
    (FORK, "The black king on e7 is in check after 33. Nxc8+."),
    (FORK, "f5d6 is the key move."),
    (PIN, "The white bishop on b3 pins the black rook on f7 to its king on g8."),
    (PIN, "The black rook on f7 is pinned, so 21. Rd8+ Be8 22. Rxe8# is mate."),
    (PIN, "The white rook mates on e8."),
    (MATE, "35. Rc8+ Rd8 36. Rxd8# is a back-rank mate: the black king on g8 is checkmated by the rook on d8."),
    (MATE, "It is mate in 2."),
    (MATE, "Black's pawns on f7, g7 and h7 block the king."),
    (SKEWER, "The white rook on h6 skewers the black king on e6 against the black rook on a6."),
    (SKEWER, "56. Rh6+ Kd5 57. Rxa6 wins the black rook on a6."),
]


@pytest.mark.parametrize(("puzzle_id", "text"), TRUE_CLAIMS)
def test_true_claims_are_verified(puzzles: dict[str, Puzzle], puzzle_id: str, text: str) -> None:
    check = _check(puzzles, puzzle_id, text)
    assert check.false == 0, [(c.text, c.reason) for c in check.false_claims]
    assert check.verified >= 1


def test_a_whole_false_explanation(puzzles: dict[str, Puzzle]) -> None:
    text = render_sections(
        {
            "What it is": "A fork attacks two pieces at once.",
            "How to spot it": "Look for knight checks.",
            "Worked example": "White plays 32. Nd7+, and the white knight on d7 forks the black king on f7 and the "
            "black queen on c8. Then 33. Nxc8# is mate.",
            "Common mistakes": "Forking defended pieces.",
        }
    )
    check = _check(puzzles, FORK, text)
    reasons = " / ".join(c.reason for c in check.false_claims)
    assert check.false >= 4, reasons
    assert "not a legal move at 32." in reasons and "no black queen on c8" in reasons
    assert all(c.section == "Worked example" for c in check.false_claims)


# ------------------------------------------------------------------ mutations of true explanations


def test_mutated_template_explanations_are_caught(lichess_csv: Path) -> None:
    """On 40 real puzzles: the template is all true; giving a moving piece the wrong type, or a non-mating final
    move a '#', is caught every time."""
    caught = 0
    for puzzle in read_puzzles(lichess_csv).puzzles[:40]:
        explanation = explain_concept(puzzle.themes[0], puzzle)
        assert check_explanation(explanation, puzzle).false == 0
        line = ExampleLine.from_puzzle(puzzle)
        match = re.search(
            r"the (white|black) (king|queen|rook|bishop|knight|pawn) on ([a-h][1-8]) moves to", explanation.text
        )
        if match:
            square = chess.parse_square(match.group(3))
            absent = next(
                name
                for name in ("queen", "rook", "bishop", "knight", "pawn", "king")
                if all(board.piece_type_at(square) != chess.PIECE_NAMES.index(name) for board in line.boards)
            )
            wrong = explanation.text.replace(match.group(0), match.group(0).replace(match.group(2), absent), 1)
            assert check_text(wrong, puzzle).false >= 1, (puzzle.id, match.group(0), absent)
            caught += 1
        if not puzzle.final_board().is_checkmate():
            last = puzzle.final_board().move_stack[-1]
            board = puzzle.final_board()
            board.pop()
            san = board.san(last)
            wrong = explanation.text.replace(f"{san}:", f"{san.rstrip('+')}#:")
            check = check_text(wrong, puzzle)
            assert any("not checkmate" in c.reason for c in check.false_claims), (puzzle.id, san)
            caught += 1
    assert caught >= 40


# ------------------------------------------------------------------ fairness


def test_general_sections_are_not_held_to_the_example(puzzles: dict[str, Puzzle]) -> None:
    text = render_sections(
        {
            "What it is": "For instance a knight on e5 forks the king on g8 and the queen on d7.",
            "How to spot it": "Look for a knight check; in this position the knight on h1 is the key.",
            "Worked example": "32. Nd6+ forks the king and the rook.",
            "Common mistakes": "Playing 32. Nh5 here, which drops the rook.",
        }
    )
    check = _check(puzzles, FORK, text)
    general = [c for c in check.claims if c.section == "What it is"]
    assert {c.status for c in general} == {VERIFIED, UNCHECKABLE}  # the king did stand on g8; the rest is general
    assert all("not about the example" in c.reason for c in general if c.status == UNCHECKABLE)
    # a sentence that says it is about this position, and any numbered move, is checked strictly
    false = {(c.section, c.text) for c in check.false_claims}
    assert ("How to spot it", "knight on h1") in false
    assert ("Common mistakes", "Nh5") in false
    assert not any(c.section == "Worked example" and c.status != VERIFIED for c in check.claims)


def test_claims_after_the_first_move_count(puzzles: dict[str, Puzzle]) -> None:
    check = _check(puzzles, FORK, "The white knight on d6 checks the black king on f7.")
    assert check.false == 0 and check.verified == 3


def test_fen_and_code_are_not_read_as_claims(puzzles: dict[str, Puzzle]) -> None:
    puzzle = puzzles[FORK]
    text = f"Position: `{puzzle.position().fen()}` (see {puzzle.position().fen()}); `Nd7#` in code is ignored."
    assert check_text(text, puzzle).claims == []


def test_squares_alone_and_negations_are_not_false(puzzles: dict[str, Puzzle]) -> None:
    check = _check(
        puzzles,
        FORK,
        "The squares e4 and h1 matter. There is no knight on e5. The knight on d6 does not attack the pawn on g7.",
    )
    assert check.false == 0
    assert {c.status for c in check.claims} <= {VERIFIED, UNCHECKABLE}
    assert any("negated" in c.reason for c in check.claims)


def test_summary_and_counts(puzzles: dict[str, Puzzle]) -> None:
    check = _check(puzzles, FORK, "32. Nd6+ Ke7 33. Nxc8+ wins. 32. Nd7 fails. It is mate in 5.")
    assert (check.verified, check.false, check.uncheckable) == (3, 1, 1)
    assert check.summary() == "5 claims: 3 verified, 1 false, 1 uncheckable (75% true)"
    assert [c.status for c in check.claims].count(FALSE) == 1
    assert FactCheck.of([]).summary() == "no checkable claims" and FactCheck.of([]).truth_rate == 1.0


def test_example_line_numbers_the_moves(puzzles: dict[str, Puzzle]) -> None:
    line = ExampleLine.from_puzzle(puzzles[FORK])
    assert len(line.boards) == len(puzzles[FORK].moves) + 1
    assert line.numbered[(31, chess.BLACK)] == 0 and line.numbered[(32, chess.WHITE)] == 1
    assert line.where(1) == "at 32. (White to move)"


@pytest.mark.parametrize(("rear", "status"), [("r", VERIFIED), ("p", FALSE)])
def test_a_skewer_against_a_pawn_is_rejected_as_concepts_rejects_it(rear: str, status: str) -> None:
    """The checker agrees with :func:`chessteach.concepts.tactics.skewers`: a skewer's rear piece is never a pawn."""
    from chessteach.concepts.tactics import skewers

    puzzle = Puzzle.from_solution(f"6k1/8/5{rear}2/8/3q4/8/8/B6K w - - 0 1", ["a1d4"])
    name = chess.piece_name(chess.Piece.from_symbol(rear).piece_type)
    check = check_text(f"The white bishop on a1 skewers the black queen on d4 against the black {name} on f6.", puzzle)
    [relation] = [c for c in check.claims if c.kind == "relation"]
    assert relation.status == status, relation
    assert bool(list(skewers(puzzle.position(), chess.A1))) == (status == VERIFIED)
