"""Showing an exercise: its board with the best move and the distractors marked, and its text summary."""

from __future__ import annotations

import chess
import chess.svg

from chessteach.puzzles.lichess_csv import DISTRACTORS_COLUMN
from chessteach.puzzles.puzzle import Puzzle

BEST_ARROW = "#15781B80"
"""Green: the best move."""
DISTRACTOR_ARROW = "#88202080"
"""Red: the distractors."""


def distractor_moves(exercise: Puzzle) -> list[chess.Move]:
    """The exercise's distractors (its ``Distractors`` column, UCI)."""
    return [chess.Move.from_uci(token) for token in exercise.extra.get(DISTRACTORS_COLUMN, "").split()]


def exercise_svg(exercise: Puzzle, *, size: int = 360) -> str:
    """The solver's position as SVG from the solver's side: a green arrow for the best move, red ones for the
    distractors."""
    board = exercise.position()
    best = exercise.solver_moves[0]
    arrows = [chess.svg.Arrow(best.from_square, best.to_square, color=BEST_ARROW)]
    arrows += [chess.svg.Arrow(m.from_square, m.to_square, color=DISTRACTOR_ARROW) for m in distractor_moves(exercise)]
    return chess.svg.board(board, orientation=board.turn, arrows=arrows, size=size)


def exercise_summary(exercise: Puzzle) -> str:
    """A few lines of text: who moves, the best move and the distractors in SAN, concepts, margin, facts, source.

    >>> p = Puzzle.from_solution("6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1", ["a1a8"], id="x", themes=["openFile"])
    >>> p.extra.update({"Distractors": "a1a2 g1f1 h2h3", "Margin": "0.9"})
    >>> print(exercise_summary(p).splitlines()[1])
    White to move. Best: Ra8#; distractors: Ra2, Kf1, h3
    """
    board = exercise.position()
    side = "White" if board.turn == chess.WHITE else "Black"
    best = board.san(exercise.solver_moves[0])
    wrong = ", ".join(board.san(m) for m in distractor_moves(exercise))
    lines = [
        f"{exercise.id}: {' '.join(exercise.themes)} (margin {exercise.extra.get('Margin', '?')})",
        f"{side} to move. Best: {best}; distractors: {wrong or '-'}",
        f"FEN: {exercise.fen}",
    ]
    facts = [f for f in exercise.extra.get("Facts", "").split(" | ") if f]
    lines += [f"- {fact}" for fact in facts]
    source = exercise.extra.get("SourceFile")
    if source:
        lines.append(f"Source: {source}, game {exercise.extra.get('SourceGame')}, ply {exercise.extra.get('SourcePly')}")
    return "\n".join(lines)


__all__ = ["distractor_moves", "exercise_summary", "exercise_svg"]
