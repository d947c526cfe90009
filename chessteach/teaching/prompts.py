"""The exam's prompts and answer format: what the student is shown about a puzzle, and what it answers.

Each puzzle is put to the student in one of the named :data:`PROMPT_FORMATS` (the FEN, optionally the board
drawn as text, :mod:`chessteach.teaching.boards`), with the explanation (when given) before the question. The
question lists every legal move in SAN or, for **multiple choice** (a positional exercise: a puzzle CSV with a
``Distractors`` column), the best move and the three distractors (:func:`exam_choices`, in an order fixed by the
puzzle id). The student answers with one move in SAN: after ``Answer:`` in plain text (the continuation starts
with a space), as the assistant's reply in a chat (:func:`move_continuation`).

>>> from chessteach.puzzles import Puzzle
>>> p = Puzzle.from_solution("6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1", ["a1a8"], id="backRank")
>>> print(exam_prompt(p, "Look at the back rank.").splitlines()[1])
Look at the back rank.
>>> solution_continuation(p), solution_continuation(p, chat=True)
(' Ra8#', 'Ra8#')
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import chess

from chessteach.errors import ChessteachError
from chessteach.llm.base import Prompt
from chessteach.puzzles.lichess_csv import DISTRACTORS, DISTRACTORS_COLUMN
from chessteach.puzzles.puzzle import Puzzle
from chessteach.teaching.boards import labelled_grid, plain_board

DEFAULT_PROMPT_FORMAT = "fen-san"


class ExamError(ChessteachError, ValueError):
    """An exam that cannot be drawn, asked or run as asked (no puzzles of the theme, a bad rating band, a puzzle
    without usable distractors, an unknown prompt format, ...)."""


class _HasText(Protocol):
    text: str


ExplanationLike = str | _HasText
"""An explanation's text, or any object with a ``text`` attribute (such as an ``Explanation``)."""


def explanation_text(explanation: ExplanationLike | None) -> str | None:
    """The text of an explanation given as text or as an object with ``.text``; empty text is no explanation."""
    if explanation is None:
        return None
    text = explanation if isinstance(explanation, str) else explanation.text
    return text.strip() or None


# --- prompt formats ------------------------------------------------------------------------------------------


def _side(board: chess.Board) -> str:
    return "White" if board.turn == chess.WHITE else "Black"


def legal_moves_san(board: chess.Board) -> list[str]:
    """The legal moves in SAN, in python-chess's generation order (by piece, from a1 to h8)."""
    return [board.san(move) for move in board.legal_moves]


@dataclass(frozen=True)
class PromptFormat:
    """How a position is shown to the student: the FEN, and optionally the board as text."""

    name: str
    help: str
    board: Callable[[chess.Board], str] | None = None


PROMPT_FORMATS: dict[str, PromptFormat] = {
    f.name: f
    for f in (
        PromptFormat("fen-san", "the FEN and the legal moves in SAN"),
        PromptFormat("board", "the FEN, the board as python-chess prints it, the legal moves in SAN", plain_board),
        PromptFormat(
            "grid", "the FEN, a board grid labelled with ranks and files, the legal moves in SAN", labelled_grid
        ),
    )
}
"""The named prompt formats (``--format``)."""


def get_prompt_format(name: str) -> PromptFormat:
    """The prompt format of that name; an unknown name raises :class:`ExamError` listing the valid ones."""
    try:
        return PROMPT_FORMATS[name]
    except KeyError:
        raise ExamError(f"unknown prompt format {name!r}; valid formats: {', '.join(PROMPT_FORMATS)}") from None


SYSTEM_PROMPT = "You are a chess student. Answer with one move in standard algebraic notation (SAN), nothing else."
CHOICES_SYSTEM_PROMPT = (
    "You are a chess student. Choose one of the candidate moves and answer with it in standard algebraic notation"
    " (SAN), nothing else."
)
"""The chat system prompt of a multiple-choice exam."""


# --- the candidates ------------------------------------------------------------------------------------------


def is_exercise(puzzle: Puzzle) -> bool:
    """Whether the puzzle is a positional exercise: it came with a ``Distractors`` column."""
    return DISTRACTORS_COLUMN in puzzle.extra


def exam_choices(puzzle: Puzzle) -> list[chess.Move]:
    """The candidate moves of a multiple-choice question: the best move (the first solver move) and the
    puzzle's three ``Distractors``, in an order fixed by the puzzle id (a hash of the id and each move), so the
    best move is not always first and a rerun asks the same question.

    Raises :class:`ExamError` naming the puzzle when the column is missing or empty, does not hold exactly three
    moves, or holds a move that is not UCI, is illegal in the solver's position, repeats, or is the best move.

    >>> from chessteach.puzzles import Puzzle
    >>> p = Puzzle.from_solution("6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1", ["a1a8"], id="m1")
    >>> p.extra["Distractors"] = "a1a2 g1f1 h2h3"
    >>> sorted(m.uci() for m in exam_choices(p))
    ['a1a2', 'a1a8', 'g1f1', 'h2h3']
    """
    where = f"puzzle {puzzle.id}"
    text = puzzle.extra.get(DISTRACTORS_COLUMN)
    if text is None:
        raise ExamError(f"{where}: no {DISTRACTORS_COLUMN} column; multiple choice needs an exercises CSV")
    tokens = text.split()
    if not tokens:
        raise ExamError(f"{where}: the {DISTRACTORS_COLUMN} column is empty; multiple choice needs {DISTRACTORS} moves")
    if len(tokens) != DISTRACTORS:
        raise ExamError(
            f"{where}: {DISTRACTORS_COLUMN} {text.strip()!r} holds {len(tokens)} move(s), not {DISTRACTORS}"
        )
    board = puzzle.position()
    best = puzzle.solver_moves[0]
    wrong: list[chess.Move] = []
    for token in tokens:
        try:
            move = chess.Move.from_uci(token)
        except ValueError:
            raise ExamError(f"{where}: distractor {token!r} is not a UCI move") from None
        if move not in board.legal_moves:
            raise ExamError(f"{where}: distractor {token} is illegal in {board.fen()}")
        if move == best:
            raise ExamError(f"{where}: distractor {token} is the best move itself")
        if move in wrong:
            raise ExamError(f"{where}: distractor {token} is listed twice")
        wrong.append(move)
    return sorted([best, *wrong], key=lambda m: hashlib.sha256(f"{puzzle.id}:{m.uci()}".encode()).digest())


def candidate_moves(puzzle: Puzzle) -> list[chess.Move]:
    """The candidates of a likelihood question: an exercise's best move and three distractors (in
    :func:`exam_choices`'s order), else every legal move of the solver's position."""
    if is_exercise(puzzle):
        return exam_choices(puzzle)
    return list(puzzle.position().legal_moves)


# --- the prompt and the answer -------------------------------------------------------------------------------


def exam_question(puzzle: Puzzle, *, prompt_format: str = DEFAULT_PROMPT_FORMAT, choices: bool = False) -> str:
    """The question about the solver's position (without the explanation and the ``Answer:`` cue): the legal
    moves in SAN, or with ``choices`` the four candidates of :func:`exam_choices` (raises :class:`ExamError`
    for a puzzle without usable distractors)."""
    form = get_prompt_format(prompt_format)
    board = puzzle.position()
    side = _side(board)
    lines = [f"Puzzle. FEN: {board.fen()}"]
    if form.board is not None:
        lines.append(form.board(board))
    if choices:
        candidates = " ".join(board.san(move) for move in exam_choices(puzzle))
        lines.append(f"{side} to move. Candidate moves: {candidates}")
        lines.append(f"Choose the best move for {side} from the candidates. Answer with one of them in SAN.")
    else:
        lines.append(f"{side} to move. Legal moves: {' '.join(legal_moves_san(board))}")
        lines.append(f"Find the best move for {side}. Answer with one move in SAN.")
    return "\n".join(lines)


def exam_prompt(
    puzzle: Puzzle,
    explanation: ExplanationLike | None = None,
    *,
    prompt_format: str = DEFAULT_PROMPT_FORMAT,
    chat: bool = False,
    choices: bool = False,
) -> Prompt:
    """The student's prompt: the explanation (when given) before the question.

    Plain text ends with ``Answer:`` (the model continues with `` MOVE``); a chat is a system message and one
    user message, and the model answers as the assistant. ``choices`` asks a multiple-choice question
    (:func:`exam_question`).
    """
    question = exam_question(puzzle, prompt_format=prompt_format, choices=choices)
    text = explanation_text(explanation)
    body = question if text is None else f"Explanation:\n{text}\n\n{question}"
    if chat:
        system = CHOICES_SYSTEM_PROMPT if choices else SYSTEM_PROMPT
        return [{"role": "system", "content": system}, {"role": "user", "content": body}]
    return f"{body}\nAnswer:"


def move_continuation(san: str, *, chat: bool) -> str:
    """A move as the prompt's continuation: SAN, after a space in plain text (the prompt ends ``Answer:``)."""
    return san if chat else f" {san}"


def solution_continuation(puzzle: Puzzle, *, chat: bool = False) -> str:
    """What the student should say: the first solver move in SAN (after a space in plain text prompts)."""
    return move_continuation(puzzle.position().san(puzzle.solver_moves[0]), chat=chat)


__all__ = [
    "CHOICES_SYSTEM_PROMPT",
    "DEFAULT_PROMPT_FORMAT",
    "PROMPT_FORMATS",
    "SYSTEM_PROMPT",
    "ExamError",
    "ExplanationLike",
    "PromptFormat",
    "candidate_moves",
    "exam_choices",
    "exam_prompt",
    "exam_question",
    "explanation_text",
    "get_prompt_format",
    "is_exercise",
    "legal_moves_san",
    "move_continuation",
    "solution_continuation",
]
