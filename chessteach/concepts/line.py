"""A puzzle's solution line as a list of positions, indexed the way the motif detectors talk about it.

Plies are counted from the puzzle's first position. In Lichess's form ply 0 is the opponent's setup move
and the solver plays plies 1, 3, 5, ...; a puzzle given as the solver's own position (no setup move) has
the solver on plies 0, 2, 4, ... :attr:`Line.first` names the solver's first ply either way.
"""

from __future__ import annotations

from dataclasses import dataclass

import chess

from chessteach.concepts.pieces import material_balance


@dataclass(frozen=True)
class Line:
    """The positions of a solution line.

    ``boards[k]`` is the position before ply ``k`` (``boards[-1]`` the final one), ``moves[k]`` the move
    played at ply ``k``; ``pov`` is the solver's colour and ``first`` the solver's first ply.

    >>> line = Line.from_moves(chess.Board("6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1"), [chess.Move.from_uci("a1a8")],
    ...                        setup=False)
    >>> line.solver_plies, line.final.is_checkmate()
    ([0], True)
    """

    boards: tuple[chess.Board, ...]
    moves: tuple[chess.Move, ...]
    pov: chess.Color
    first: int

    @classmethod
    def from_moves(cls, start: chess.Board, moves: list[chess.Move], *, setup: bool = True) -> Line:
        """Play ``moves`` from ``start``; ``setup`` says whether ``moves[0]`` is the opponent's setup move."""
        board = start.copy(stack=False)
        boards = [board.copy(stack=False)]
        for move in moves:
            board.push(move)
            boards.append(board.copy(stack=False))
        first = 1 if setup else 0
        pov = boards[first].turn
        return cls(boards=tuple(boards), moves=tuple(moves), pov=pov, first=first)

    @property
    def plies(self) -> int:
        return len(self.moves)

    @property
    def final(self) -> chess.Board:
        """The position after the last move."""
        return self.boards[-1]

    @property
    def start(self) -> chess.Board:
        """The position the solver faces."""
        return self.boards[self.first]

    @property
    def solver_plies(self) -> list[int]:
        """The plies the solver plays."""
        return list(range(self.first, self.plies, 2))

    @property
    def reply_plies(self) -> list[int]:
        """The plies the opponent plays after the solver's first move."""
        return list(range(self.first + 1, self.plies, 2))

    def before(self, ply: int) -> chess.Board:
        """The position in which ply ``ply`` is played."""
        return self.boards[ply]

    def after(self, ply: int) -> chess.Board:
        """The position after ply ``ply``."""
        return self.boards[ply + 1]

    def moved_piece(self, ply: int) -> chess.PieceType:
        """The type of the piece that stands on the target square after the move (a promoted pawn counts as
        its new piece)."""
        piece_type = self.after(ply).piece_type_at(self.moves[ply].to_square)
        assert piece_type is not None
        return piece_type

    def captured(self, ply: int) -> chess.Piece | None:
        """The piece standing on the target square before the move (``None`` for en passant)."""
        return self.before(ply).piece_at(self.moves[ply].to_square)

    def is_capture(self, ply: int) -> bool:
        return self.before(ply).is_capture(self.moves[ply])

    def gives_check(self, ply: int) -> bool:
        return self.after(ply).is_check()

    def is_castling(self, ply: int) -> bool:
        move = self.moves[ply]
        return self.moved_piece(ply) == chess.KING and chess.square_distance(move.from_square, move.to_square) > 1

    def is_pawn_advance(self, ply: int, *, ranks_from_promotion: int = 3) -> bool:
        """A promotion, or a pawn move landing within ``ranks_from_promotion`` ranks of its promotion rank
        (counting the promotion rank itself as 0, so 3 means the 5th rank from the mover's side or beyond)."""
        move = self.moves[ply]
        if move.promotion:
            return True
        if self.moved_piece(ply) != chess.PAWN:
            return False
        rank = chess.square_rank(move.to_square)
        distance = 7 - rank if self.before(ply).turn == chess.WHITE else rank
        return distance < ranks_from_promotion

    def material(self, ply_board: int) -> int:
        """The solver's material minus the opponent's in ``boards[ply_board]`` (king excluded)."""
        return material_balance(self.boards[ply_board], self.pov)
