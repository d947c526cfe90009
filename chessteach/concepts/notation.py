"""Moves as players write them: move numbers (``24.``, ``24...``), labelled moves (``31... Re1#``) and
numbered lines in SAN (``24... Qb1+ 25. Nc1 Qxc1#``).

A move is placed either by the board it is played on (its full-move number and side to move) or by its
*ply* as a game review counts them (1 for White's first move, 2 for Black's, ...).

>>> numbered_line(chess.Board(), [chess.Move.from_uci("e2e4"), chess.Move.from_uci("e7e5")])
'1. e4 e5'
>>> numbered_sans(34, ["Bxh4", "gxh4", "Qxh4"])
'17... Bxh4 18. gxh4 Qxh4'
"""

from __future__ import annotations

from collections.abc import Sequence

import chess


def move_number(fullmove: int, color: chess.Color) -> str:
    """``24.`` before White's 24th move, ``24...`` before Black's.

    >>> move_number(24, chess.BLACK)
    '24...'
    """
    return f"{fullmove}{'.' if color == chess.WHITE else '...'}"


def board_move_number(board: chess.Board) -> str:
    """The move number of the side to move on ``board``: ``24.`` or ``24...``."""
    return move_number(board.fullmove_number, board.turn)


def ply_move_number(ply: int) -> str:
    """The move number of the move at ``ply`` (1 is White's first move): ``17.`` for 33, ``17...`` for 34."""
    return move_number((ply + 1) // 2, chess.WHITE if ply % 2 == 1 else chess.BLACK)


def move_label(number: str, san: str) -> str:
    """A move with its number: ``move_label("31...", "Re1#")`` is ``31... Re1#``."""
    return f"{number} {san}"


def ply_label(ply: int, san: str) -> str:
    """``17. Nf3`` for White's move at ``ply``, ``17... Bxb2`` for Black's.

    >>> ply_label(34, "Bxb2")
    '17... Bxb2'
    """
    return move_label(ply_move_number(ply), san)


def numbered_sans(ply: int, sans: Sequence[str]) -> str:
    """A line of SAN moves from ``ply`` on, numbered: the first move and each of White's get their number."""
    words: list[str] = []
    for i, san in enumerate(sans):
        current = ply + i
        words.append(ply_label(current, san) if i == 0 or current % 2 == 1 else san)
    return " ".join(words)


def board_ply(board: chess.Board) -> int:
    """The ply (1 is White's first move) of the move about to be played on ``board``."""
    return 2 * (board.fullmove_number - 1) + (1 if board.turn == chess.WHITE else 2)


def numbered_line(board: chess.Board, moves: Sequence[chess.Move]) -> str:
    """Moves played from ``board``, in SAN with move numbers, as in ``24... Qb1+ 25. Nc1 Qxc1#`` (an illegal
    move raises ``ValueError``, as :meth:`chess.Board.san` does)."""
    first = board_ply(board)
    board = board.copy(stack=False)
    sans: list[str] = []
    for move in moves:
        sans.append(board.san(move))
        board.push(move)
    return numbered_sans(first, sans)


def legal_sans(board: chess.Board, moves: Sequence[chess.Move]) -> list[str]:
    """The SAN of ``moves`` played in turn from ``board``, up to the first one that is not legal there (an
    engine's principal variation read back from a cache, say).

    >>> legal_sans(chess.Board(), [chess.Move.from_uci("e2e4"), chess.Move.from_uci("e2e4")])
    ['e4']
    """
    board = board.copy(stack=False)
    sans: list[str] = []
    for move in moves:
        if move not in board.legal_moves:
            break
        sans.append(board.san(move))
        board.push(move)
    return sans


__all__ = [
    "board_move_number",
    "board_ply",
    "legal_sans",
    "move_label",
    "move_number",
    "numbered_line",
    "numbered_sans",
    "ply_label",
    "ply_move_number",
]
