"""Facts: checkable statements about a position.

A :class:`Fact` says one thing about a board ("the knight on e5 attacks d7 and f7") in a structured form
(its kind, the squares and pieces involved) and in one sentence. Every kind of fact has a checker,
registered with :func:`fact_check`, that recomputes the statement from the board; :func:`check_fact`
runs it. Detectors only return facts whose checker agrees, and the tests check every fact they emit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import chess

FactChecker = Callable[[chess.Board, "Fact"], bool]

_CHECKERS: dict[str, FactChecker] = {}


OutpostStatus = Literal["occupied", "reachable"]
"""An outpost fact's status: a knight or bishop stands on it, or can move there."""


@dataclass(frozen=True)
class Fact:
    """One checkable statement about a position.

    ``kind`` names the statement's form (``"attacks"``, ``"fork"``, ``"isolated_pawn"``, ...) and so its
    checker; ``squares`` and ``pieces`` are what it is about (pieces as python-chess symbols, ``"N"`` a
    white knight, ``"q"`` a black queen, in the order of ``squares``); ``text`` is the sentence;
    ``concept`` the catalog id it illustrates, if any.

    The other fields are the structured detail some kinds carry (``None`` or empty where a kind has none):

    - ``color``: the side the fact is about (every positional fact about one side);
    - ``count``: how many of the things it lists (pawns, islands, attackers, defenders, safe moves, ...);
    - ``position``: the FEN of the board the fact was found on, when it was found along a line (see :meth:`at`);
    - ``move``: the move that makes the motif (a discovered check, a mate pattern);
    - ``square``: the square it is about that need not hold a listed piece (an outpost, a weak square, the
      stop square of a backward pawn); ``file`` (0 for the a-file) and ``rank`` (1-8 from the owner's side);
    - ``weakness``: the pawn feature pieces attack or blockade (``"isolated"``, ``"passed"``, ...);
    - ``pattern``: the named mate; ``status``: an outpost's (:data:`OutpostStatus`); ``islands``: the files of
      each pawn island (``("a-c", "e", "g-h")``);
    - ``opponent_count`` (space: the other side's count), ``defenders`` (a pawn target's defenders),
      ``zone_hits`` (king-zone squares the attackers hit), ``mobility`` (the safe moves of each listed piece).
    """

    kind: str
    squares: tuple[chess.Square, ...]
    pieces: tuple[str, ...]
    text: str
    concept: str | None = None
    color: chess.Color | None = None
    count: int | None = None
    position: str | None = None
    move: chess.Move | None = None
    square: chess.Square | None = None
    file: int | None = None
    rank: int | None = None
    weakness: str | None = None
    pattern: str | None = None
    status: OutpostStatus | None = None
    islands: tuple[str, ...] = ()
    opponent_count: int | None = None
    defenders: int | None = None
    zone_hits: int | None = None
    mobility: tuple[int, ...] = ()

    @property
    def square_names(self) -> list[str]:
        return [chess.square_name(s) for s in self.squares]

    def at(self, board: chess.Board) -> Fact:
        """The fact with the board it is about recorded as its :attr:`position`."""
        return dataclasses.replace(self, position=board.fen())


def fact_check(kind: str) -> Callable[[FactChecker], FactChecker]:
    """Register the checker of a kind of fact (a decorator)."""

    def register(func: FactChecker) -> FactChecker:
        if kind in _CHECKERS and _CHECKERS[kind] is not func:
            raise ValueError(f"a checker for fact kind {kind!r} is already registered")
        _CHECKERS[kind] = func
        return func

    return register


def fact_kinds() -> list[str]:
    """Every kind of fact that has a checker."""
    return sorted(_CHECKERS)


def pieces_match(board: chess.Board, fact: Fact) -> bool:
    """True when each of the fact's pieces stands on its square (the common part of every check)."""
    if len(fact.pieces) > len(fact.squares):
        return False
    for square, symbol in zip(fact.squares, fact.pieces, strict=False):
        piece = board.piece_at(square)
        if piece is None or piece.symbol() != symbol:
            return False
    return True


def check_fact(board: chess.Board, fact: Fact) -> bool:
    """Whether the fact holds on this board, by its kind's checker.

    Raises ``KeyError`` naming the known kinds when the fact's kind has no checker.
    """
    try:
        checker = _CHECKERS[fact.kind]
    except KeyError:
        raise KeyError(f"no checker for fact kind {fact.kind!r}; known kinds: {', '.join(fact_kinds())}") from None
    return checker(board, fact)
