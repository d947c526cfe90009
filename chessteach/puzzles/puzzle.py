"""The Puzzle type, following Lichess's conventions.

``fen`` is the position *before* the opponent's setup move; ``moves`` are UCI, ``moves[0]`` is that setup
move, and the solver plays ``moves[1::2]``. A puzzle with ``setup=False`` (an exercise, a position given on
the command line) has no setup move: ``fen`` is the solver's position and the solver plays ``moves[0::2]``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import chess

from chessteach.errors import BadRecordError, ChessteachError


class PuzzleError(ChessteachError, ValueError):
    """A puzzle that cannot be one: a bad FEN, an invalid position, no moves, an illegal or unreadable move. The
    message quotes the bad FEN or move."""


@dataclass
class Puzzle:
    """A puzzle in Lichess's form, plus every other column it came with (``extra``).

    ``setup`` says whether ``moves[0]`` is the opponent's setup move (Lichess's form, the default) or already
    the solver's first move (``fen`` is then the solver's own position; see :meth:`from_solution`).

    >>> p = Puzzle.from_solution("6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1", ["a1a8"])
    >>> p.solution_san()
    ['Ra8#']
    """

    id: str
    fen: str
    moves: list[chess.Move]
    rating: int | None = None
    themes: list[str] = field(default_factory=list)
    source: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    setup: bool = True

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise :class:`PuzzleError` if the FEN is bad or a move is illegal in its position."""
        try:
            board = chess.Board(self.fen)
        except ValueError as exc:
            raise PuzzleError(f"bad FEN {self.fen!r}: {exc}") from None
        status = board.status()
        if status & ~chess.STATUS_VALID & ~chess.STATUS_IMPOSSIBLE_CHECK & ~chess.STATUS_TOO_MANY_CHECKERS:
            raise PuzzleError(f"invalid position {self.fen!r} ({status!r})")
        if not self.moves:
            raise PuzzleError("no moves")
        for i, move in enumerate(self.moves):
            if move not in board.legal_moves:
                raise PuzzleError(f"illegal move {move.uci()} (move {i + 1} of Moves) in {board.fen()}")
            board.push(move)

    @classmethod
    def from_solution(
        cls, fen: str, solution: list[str], *, id: str = "", rating: int | None = None, themes: list[str] | None = None
    ) -> Puzzle:
        """A puzzle given as the position the solver faces and the solution (UCI or SAN), as on the command line.

        This form has no setup move: ``fen`` is the solver's position and ``moves`` starts with the solver's
        first move (:attr:`setup` is False).
        """
        try:
            board = chess.Board(fen)
        except ValueError as exc:
            raise PuzzleError(f"bad FEN {fen!r}: {exc}") from None
        moves: list[chess.Move] = []
        for text in solution:
            try:
                move = board.parse_uci(text) if _looks_uci(text) else board.parse_san(text)
            except ValueError as exc:
                raise PuzzleError(f"bad solution move {text!r} in {board.fen()}: {exc}") from None
            moves.append(move)
            board.push(move)
        return cls(id=id or _fen_id(fen), fen=fen, moves=moves, rating=rating, themes=list(themes or []), setup=False)

    @property
    def setup_moves(self) -> int:
        """How many of :attr:`moves` come before the solver's first move: 1 with a setup move, else 0."""
        return 1 if self.setup else 0

    @property
    def solver_moves(self) -> list[chess.Move]:
        """The moves the solver must find."""
        return self.moves[self.setup_moves :: 2]

    def position(self) -> chess.Board:
        """The board the solver faces (after the setup move), with the setup move on its stack."""
        board = chess.Board(self.fen)
        if self.setup:
            board.push(self.moves[0])
        return board

    def boards(self) -> Iterator[tuple[chess.Board, chess.Move]]:
        """Each position of the solution line (from the solver's first move on) with the move played there."""
        board = self.position()
        for move in self.moves[self.setup_moves :]:
            yield board.copy(), move
            board.push(move)

    def final_board(self) -> chess.Board:
        board = chess.Board(self.fen)
        for move in self.moves:
            board.push(move)
        return board

    def solution_san(self) -> list[str]:
        """The line from the solver's first move, in SAN."""
        return [board.san(move) for board, move in self.boards()]


def mates_at_once(board: chess.Board, move: chess.Move) -> bool:
    """Whether ``move`` gives checkmate on ``board``.

    >>> mates_at_once(chess.Board("6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1"), chess.Move.from_uci("a1a8"))
    True
    """
    board.push(move)
    try:
        return board.is_checkmate()
    finally:
        board.pop()


def _looks_uci(text: str) -> bool:
    try:
        chess.Move.from_uci(text)
    except ValueError:
        return False
    return True


def _fen_id(fen: str) -> str:
    return "fen-" + hashlib.sha1(fen.encode()).hexdigest()[:8]


def parse_moves(text: str) -> list[chess.Move]:
    """Space-separated UCI moves; raises :class:`PuzzleError` naming the bad one."""
    moves = []
    for token in text.split():
        try:
            moves.append(chess.Move.from_uci(token))
        except ValueError:
            raise PuzzleError(f"bad UCI move {token!r}") from None
    return moves


__all__ = ["BadRecordError", "Puzzle", "PuzzleError", "mates_at_once", "parse_moves"]
