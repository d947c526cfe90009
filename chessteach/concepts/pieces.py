"""Piece values and kinds of piece that every detector shares, and material counts built on them.

:data:`PIECE_VALUES` is the one table of material values in the project: pawns 1, knights and bishops 3,
rooks 5, queens 9, and the king 99, more than any other piece (it can never be given up, so a king in front
is always worth more than what stands behind it). Counts of material (:func:`material_count`,
:func:`non_pawn_material`) leave the king out.

>>> material_balance(chess.Board("4k3/8/8/8/8/8/8/R3K3 w - - 0 1"), chess.WHITE)
5
"""

from __future__ import annotations

import chess

PIECE_VALUES: dict[chess.PieceType, int] = {
    chess.PAWN: 1,
    chess.KNIGHT: 3,
    chess.BISHOP: 3,
    chess.ROOK: 5,
    chess.QUEEN: 9,
    chess.KING: 99,
}
"""Material values in pawns; the king counts as more than any other piece (it can never be given up)."""

LINE_PIECES = (chess.BISHOP, chess.ROOK, chess.QUEEN)
"""Pieces that move along lines (and so can pin, skewer, x-ray and be discovered)."""

NON_PAWN_PIECES = (chess.KNIGHT, chess.BISHOP, chess.ROOK, chess.QUEEN)
"""The pieces that count as non-pawn material (the king is never counted)."""


def material_count(board: chess.Board, color: chess.Color) -> int:
    """The material of one side in pawns (the king not counted)."""
    return sum(
        len(board.pieces(piece_type, color)) * value
        for piece_type, value in PIECE_VALUES.items()
        if piece_type != chess.KING
    )


def material_balance(board: chess.Board, color: chess.Color) -> int:
    """``color``'s material minus the other side's."""
    return material_count(board, color) - material_count(board, not color)


def non_pawn_material(board: chess.Board) -> int:
    """The knights, bishops, rooks and queens of both sides together, in pawns (N=B=3, R=5, Q=9).

    >>> non_pawn_material(chess.Board())
    62
    """
    return sum(PIECE_VALUES[t] * len(board.pieces(t, c)) for t in NON_PAWN_PIECES for c in chess.COLORS)
