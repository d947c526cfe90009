"""A student's answer: finding the move in free text, and grading it against the puzzle.

Parsing (:func:`parse_answer`) is forgiving about the form and strict about the board: the answer may be in
SAN or UCI (or long algebraic, ``Ng1-f3``, ``e2-e4``), with move numbers (``12...``), check and mate marks,
annotation glyphs (``!?``), quotes, Markdown emphasis, an ``Answer:`` prefix and any trailing text; castling
may be written ``O-O``, ``0-0`` or ``o-o``; UCI may come in capitals. The first move mentioned that is legal in
the position is the answer. Nothing legal means no answer, which is graded wrong.

Grading (:func:`accepted_moves`, :func:`grade`) follows the engine's equivalences as the verifier
(:mod:`chessteach.puzzles.verify`) applies them: at each solver move it accepts the listed move, or any move
that mates at once, and requires every other alternative to lose at least a blunder's worth of winning
chances (or to lose or lengthen the mate). So on a verified puzzle the moves as good as the solution are
exactly the solution itself and, when the solution mates at once, every other mate in one. Lichess's own
puzzle player accepts any mating move too. A mating move is accepted even on an unverified puzzle whose
listed move does not mate: checkmate ends the game, nothing is better.

>>> board = chess.Board()
>>> parse_answer("Answer: 1. e4!", board)
Move.from_uci('e2e4')
>>> parse_answer("I would play g1f3, developing.", board)
Move.from_uci('g1f3')
>>> parse_answer("Resign.", board) is None
True
"""

from __future__ import annotations

import re

import chess

from chessteach.puzzles.puzzle import Puzzle, mates_at_once

_FIGURINES = str.maketrans(
    {"♔": "K", "♕": "Q", "♖": "R", "♗": "B", "♘": "N", "♚": "K", "♛": "Q", "♜": "R", "♝": "B", "♞": "N",
     "\u2013": "-", "\u2014": "-", "\u2212": "-", "×": "x"}
)
"""Figurine notation and typographic dashes, as chat models like to write them."""

_TOKEN = re.compile(
    r"""(?<![A-Za-z0-9])(?:
        (?P<castle>[O0o](?:-[O0o]){1,2})
      | (?P<long>[KQRBNkqrbn]?[a-hA-H][1-8][-xX:][a-hA-H][1-8](?:=?[QRBNqrbn])?)
      | (?P<uci>[a-hA-H][1-8][a-hA-H][1-8][qrbnQRBN]?)
      | (?P<san>[KQRBNkqrbn]?[a-hA-H]?[1-8]?[xX:]?[a-hA-H][1-8](?:=?[QRBNqrbn])?)
    )(?=[+#!?.,;:)\]'"`*\s]|$)""",
    re.VERBOSE,
)
"""A move-shaped token: castling, long algebraic, UCI or SAN, ending where the move ends (a check mark,
glyph, punctuation, a closing quote or bracket, a space or the end of the text)."""

_ANSWER_PREFIX = re.compile(r"\b(?:final\s+)?(?:answer|best\s+move|move)\s*(?:is)?\s*[:=\-]", re.IGNORECASE)


def parse_answer(text: str, board: chess.Board) -> chess.Move | None:
    """The first legal move the text mentions, or ``None`` if it mentions none.

    An ``Answer:`` (or ``Move:``, ``Best move:``) label moves the search to the text after its first
    occurrence when that text holds a legal move.

    >>> parse_answer("**0-0**", chess.Board("r3k2r/8/8/8/8/8/8/R3K2R w KQkq - 0 1"))
    Move.from_uci('e1g1')
    """
    text = text.translate(_FIGURINES)
    label = _ANSWER_PREFIX.search(text)
    if label is not None:
        move = _first_legal(text[label.end() :], board)
        if move is not None:
            return move
    return _first_legal(text, board)


def _first_legal(text: str, board: chess.Board) -> chess.Move | None:
    for match in _TOKEN.finditer(text):
        move = _read_token(match, board)
        if move is not None:
            return move
    return None


def _read_token(match: re.Match[str], board: chess.Board) -> chess.Move | None:
    kind = match.lastgroup
    token = match.group(0)
    if kind == "castle":
        return _parse_san(board, "O-O-O" if token.count("-") == 2 else "O-O")
    if kind in ("uci", "long"):
        squares = re.sub(r"^[KQRBNkqrbn](?=[a-hA-H][1-8])", "", token) if kind == "long" else token
        return _parse_uci(board, re.sub(r"[-xX:=]", "", squares).lower())
    return _parse_san_forgiving(board, token)


def _parse_uci(board: chess.Board, text: str) -> chess.Move | None:
    """A legal UCI move (a king's move onto its own rook, as some engines write castling, included)."""
    try:
        return board.parse_uci(text)
    except ValueError:
        return None


def _parse_san(board: chess.Board, text: str) -> chess.Move | None:
    try:
        return board.parse_san(text)
    except ValueError:
        return None


def _parse_san_forgiving(board: chess.Board, token: str) -> chess.Move | None:
    """SAN as written, then with its case repaired (``NF3``, ``nf3``, ``E4``, ``Exd5``), then with ``:`` as
    the capture mark. A lowercase ``b`` stays a pawn's file unless no pawn move fits."""
    token = token.replace(":", "x")
    move = _parse_san(board, token)
    if move is not None:
        return move
    head, rest = token[0], token[1:].lower()
    candidates = []
    if head in "KQRBNkqrbn" and len(token) >= 3 and token[1].lower() in "abcdefghx12345678":
        candidates.append(head.upper() + rest)
    candidates.append(token.lower() if "=" not in token else token[:-1].lower() + token[-1].upper())
    promotion = re.fullmatch(r"([a-h](?:x[a-h])?[18])([qrbn])", candidates[-1])
    if promotion is not None:
        candidates.append(f"{promotion.group(1)}={promotion.group(2).upper()}")
    for candidate in candidates:
        move = _parse_san(board, candidate)
        if move is not None:
            return move
    return None


def accepted_moves(puzzle: Puzzle) -> set[chess.Move]:
    """The first moves graded correct: the solution's first move and every move that mates at once.

    >>> p = Puzzle.from_solution("6k1/5ppp/8/8/8/8/5PPP/RR4K1 w - - 0 1", ["a1a8"])
    >>> sorted(m.uci() for m in accepted_moves(p))
    ['a1a8', 'b1b8']
    """
    board = puzzle.position()
    accepted = {puzzle.solver_moves[0]}
    accepted.update(move for move in board.legal_moves if mates_at_once(board, move))
    return accepted


def grade(puzzle: Puzzle, move: chess.Move | None) -> bool:
    """Whether the answer is correct (see :func:`accepted_moves`); no answer is wrong."""
    if move is None:
        return False
    if move == puzzle.solver_moves[0]:
        return True
    board = puzzle.position()
    return move in board.legal_moves and mates_at_once(board, move)
