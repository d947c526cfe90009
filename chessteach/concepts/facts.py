"""Facts: checkable statements about a position.

A :class:`Fact` says one thing about a board ("the knight on e5 attacks d7 and f7") in a structured form
(its kind, the squares and pieces involved) and in one sentence. Every kind of fact has a checker,
registered with :func:`fact_check`, that recomputes the statement from the board; :func:`check_fact`
runs it. Detectors only return facts whose checker agrees, and the tests check every fact they emit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import chess

FactChecker = Callable[[chess.Board, "Fact"], bool]

_CHECKERS: dict[str, FactChecker] = {}


@dataclass(frozen=True)
class Fact:
    """One checkable statement about a position.

    ``kind`` names the statement's form (``"attacks"``, ``"fork"``, ``"isolated_pawn"``, ...) and so its
    checker; ``squares`` and ``pieces`` are what it is about (pieces as python-chess symbols, ``"N"`` a
    white knight, ``"q"`` a black queen, in the order of ``squares``); ``text`` is the sentence;
    ``concept`` the catalog id it illustrates, if any; ``data`` any further structured detail
    (for example the move that creates the motif, in UCI).
    """

    kind: str
    squares: tuple[chess.Square, ...]
    pieces: tuple[str, ...]
    text: str
    concept: str | None = None
    data: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    def get(self, key: str, default: str | None = None) -> str | None:
        """A value from :attr:`data`."""
        return dict(self.data).get(key, default)

    @property
    def square_names(self) -> list[str]:
        return [chess.square_name(s) for s in self.squares]


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
