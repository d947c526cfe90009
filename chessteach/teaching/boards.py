"""Drawing a board as text for an exam prompt.

>>> import chess
>>> print(labelled_grid(chess.Board("6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1")).splitlines()[0])
8 . . . . . . k .
"""

from __future__ import annotations

import chess


def labelled_grid(board: chess.Board) -> str:
    """The board as a diagram from White's side, ranks and files labelled (uppercase White, lowercase Black,
    ``.`` an empty square)."""
    rows = []
    for rank in range(7, -1, -1):
        cells = []
        for file in range(8):
            piece = board.piece_at(chess.square(file, rank))
            cells.append(piece.symbol() if piece else ".")
        rows.append(f"{rank + 1} " + " ".join(cells))
    rows.append("  a b c d e f g h")
    return "\n".join(rows)


def plain_board(board: chess.Board) -> str:
    """The board as python-chess prints it: eight rows from White's side, no labels."""
    return str(board)


__all__ = ["labelled_grid", "plain_board"]
