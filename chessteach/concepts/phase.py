"""The phase of the game a position belongs to, by Lichess's division of a game.

Lichess divides a game where the middlegame begins (at most 10 queens, rooks, bishops and knights left on
the board, or a back rank thinned out to fewer than 4 pieces of its side, or the pieces of both sides
mixed together across the board) and where the endgame begins (at most 6 of those pieces left). A puzzle
takes the phase of the position the solver faces. From one position alone the division is read off that
position: the conditions that start a later phase are the ones it meets now.
"""

from __future__ import annotations

import chess

MIDDLEGAME_PIECES = 10
"""Middlegame once at most this many queens, rooks, bishops and knights are left."""
ENDGAME_PIECES = 6
"""Endgame once at most this many queens, rooks, bishops and knights are left."""
SPARSE_BACK_RANK = 4
"""A back rank with fewer than this many pieces of its own side is thinned out."""
MIXED = 150
"""Mixedness above this starts the middlegame."""


def majors_and_minors(board: chess.Board) -> int:
    """Queens, rooks, bishops and knights on the board, both sides."""
    return chess.popcount(board.occupied & ~board.pawns & ~board.kings)


def back_rank_sparse(board: chess.Board) -> bool:
    """Either side has fewer than :data:`SPARSE_BACK_RANK` of its pieces left on its own back rank."""
    white = chess.popcount(board.occupied_co[chess.WHITE] & chess.BB_RANK_1)
    black = chess.popcount(board.occupied_co[chess.BLACK] & chess.BB_RANK_8)
    return white < SPARSE_BACK_RANK or black < SPARSE_BACK_RANK


def _region_score(rank: int, white: int, black: int) -> int:
    """How mixed a 2x2 region is; ``rank`` (1..7) is the region's lower rank, counted from White's side."""
    if (white, black) == (1, 0):
        return 1 + (8 - rank)
    if (white, black) == (2, 0):
        return 2 + (rank - 2) if rank > 2 else 0
    if (white, black) in ((3, 0), (4, 0)):
        return 3 + (rank - 1) if rank > 1 else 0
    if (white, black) == (0, 1):
        return 1 + rank
    if (white, black) == (1, 1):
        return 5 + abs(4 - rank)
    if (white, black) == (2, 1):
        return 4 + (rank - 1)
    if (white, black) == (3, 1):
        return 5 + (rank - 1)
    if (white, black) == (0, 2):
        return 2 + (6 - rank) if rank < 6 else 0
    if (white, black) == (1, 2):
        return 4 + (7 - rank)
    if (white, black) == (2, 2):
        return 7
    if (white, black) in ((0, 3), (0, 4)):
        return 3 + (7 - rank) if rank < 7 else 0
    if (white, black) == (1, 3):
        return 5 + (7 - rank)
    return 0


def mixedness(board: chess.Board) -> int:
    """How far the two sides' pieces have come into contact, summed over every 2x2 region of the board."""
    total = 0
    white, black = board.occupied_co[chess.WHITE], board.occupied_co[chess.BLACK]
    for y in range(7):
        for x in range(7):
            region = 0x0303 << (x + 8 * y)
            total += _region_score(y + 1, chess.popcount(white & region), chess.popcount(black & region))
    return total


def game_phase(board: chess.Board) -> str:
    """``"opening"``, ``"middlegame"`` or ``"endgame"``.

    >>> game_phase(chess.Board())
    'opening'
    >>> game_phase(chess.Board("8/5pk1/8/8/8/8/5PK1/3R4 w - - 0 40"))
    'endgame'
    """
    pieces = majors_and_minors(board)
    if pieces <= ENDGAME_PIECES:
        return "endgame"
    if pieces <= MIDDLEGAME_PIECES or back_rank_sparse(board) or mixedness(board) > MIXED:
        return "middlegame"
    return "opening"
