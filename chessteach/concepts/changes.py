"""What a move changes in the positional facts, for the better of the side that plays it.

:func:`positional_changes` compares the positional facts (:mod:`chessteach.concepts.positional`) before and
after a move and keeps the changes that favour the mover, each a :class:`FactChange`: a fact that becomes
true (``gained``) or stops being true (``gained=False``). Every change can be checked on the boards with the
fact's own checker (:meth:`FactChange.holds`): a gained fact holds after the move and not before, a lost one
the other way round.

The changes that count, for the mover ("we") and the opponent ("they"):

- ``outpost``: one of our knights or bishops now stands on an outpost, or can now reach one it could not
  reach before, or a pawn move made a new outpost square;
- ``openFile`` / ``halfOpenFile``: one of our rooks or queens moved onto an open file, or a file half-open for
  us, from another file;
- ``passedPawn``: our moved pawn is passed on its new square (a pawn move that creates or advances a passer),
  or our moved piece is a new defender of one of our passed pawns (a rook behind it, say);
- ``backwardPawn``: one of their pawns became backward (a weakness fixed), or one of ours stopped being
  backward;
- ``isolatedPawn``, ``backwardPawn``, ``doubledPawns``, ``passedPawn``: our moved piece is a new attacker of
  their isolated, backward, doubled or passed pawn (more attackers than before), or now blockades their
  isolated, backward or passed pawn from the square in front of it;
- ``weakSquares``: our moved piece now uses (occupies or attacks) a weak square in their camp;
- ``overloadedDefender``: one of their pieces became overloaded;
- ``kingSafety``: our king's pawn shield grew (castling), our moved piece joined the attack on their king's
  zone, or fewer of their pieces attack our king's zone;
- ``pieceActivity``: our pieces' safe moves rose by at least :data:`ACTIVITY_GAIN`, or theirs fell by as much;
- ``space``: our space count rose by at least :data:`SPACE_GAIN`.

A quiet move (:func:`is_quiet`) changes no pawn's file and takes nothing, so it cannot make a pawn isolated or
doubled, change the pawn islands or win the bishop pair; what it can do against isolated and doubled pawns is
attack or blockade them, and those changes are followed. ``pawnIslands`` and ``bishopPair`` never appear.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import chess

from chessteach.concepts.facts import Fact, check_fact
from chessteach.concepts.positional import is_outpost
from chessteach.concepts.registry import positional_facts

ACTIVITY_GAIN = 4
"""Safe moves (see :func:`~chessteach.concepts.positional.piece_mobility`) a side's pieces must gain (or the
opponent's lose) for a move to count as a change in piece activity."""

SPACE_GAIN = 1
"""How much a side's space count must rise for a move to count as gaining space (any rise)."""

_HEAVY = (chess.ROOK, chess.QUEEN)

CHANGING_CONCEPTS = (
    "isolatedPawn",
    "doubledPawns",
    "outpost",
    "openFile",
    "halfOpenFile",
    "passedPawn",
    "backwardPawn",
    "weakSquares",
    "overloadedDefender",
    "kingSafety",
    "pieceActivity",
    "space",
)
"""The positional concepts whose facts :func:`positional_changes` follows (see the module doc)."""


@dataclass(frozen=True)
class FactChange:
    """A positional fact that a move made true (``gained``) or false (``gained=False``)."""

    fact: Fact
    gained: bool

    @property
    def concept(self) -> str:
        """The catalog id of the fact's concept."""
        assert self.fact.concept is not None
        return self.fact.concept

    @property
    def text(self) -> str:
        """The fact's sentence, marked as new or as no longer true."""
        return self.fact.text if self.gained else f"No longer: {self.fact.text}"

    def holds(self, before: chess.Board, after: chess.Board) -> bool:
        """Whether the change is real on these boards, by the fact's checker on both."""
        now, then = (after, before) if self.gained else (before, after)
        return check_fact(now, self.fact) and not check_fact(then, self.fact)


def is_quiet(board: chess.Board, move: chess.Move) -> bool:
    """Whether ``move`` is quiet: no capture (so no recapture), no check, no promotion.

    >>> board = chess.Board()
    >>> is_quiet(board, chess.Move.from_uci("g1f3")), is_quiet(board, chess.Move.from_uci("e2e4"))
    (True, True)
    """
    return not (board.is_capture(move) or board.gives_check(move) or move.promotion is not None)


def _count(fact: Fact) -> int:
    return fact.count or 0


def _find(facts: Sequence[Fact], kind: str, color: chess.Color) -> Fact | None:
    return next((f for f in facts if f.kind == kind and f.color == color), None)


def _same_subject(facts: Sequence[Fact], fact: Fact) -> Fact | None:
    """The fact of the same kind about the same pawn (and the same feature) among ``facts``, if any."""
    return next(
        (
            f
            for f in facts
            if f.kind == fact.kind and f.squares[0] == fact.squares[0] and f.weakness == fact.weakness
        ),
        None,
    )


def _joins(fact: Fact, move: chess.Move, old: Fact | None) -> bool:
    """Whether the moved piece is among the pieces a fact lists after its subject, and their count rose."""
    return move.to_square in fact.squares[1:] and _count(fact) > (_count(old) if old is not None else 0)


def _gained(
    fact: Fact, before: chess.Board, after: chess.Board, move: chess.Move, facts_before: Sequence[Fact]
) -> bool:
    """Whether a fact that became true favours the mover (see the module doc)."""
    we = before.turn
    color = fact.color
    moved = after.piece_at(move.to_square)
    kind = fact.kind
    if kind == "outpost":
        if color != we:
            return False
        square = fact.square
        if square is None:
            return False
        if fact.status == "occupied":
            return fact.squares[0] == move.to_square
        return move.to_square in fact.squares or not is_outpost(before, square, we)
    if kind in ("open_file", "half_open_file"):
        if kind == "half_open_file" and color != we:
            return False
        return (
            moved is not None
            and moved.color == we
            and moved.piece_type in _HEAVY
            and move.to_square in fact.squares
            and chess.square_file(move.from_square) != chess.square_file(move.to_square)
        )
    if kind == "passed_pawn":
        return color == we and fact.squares[0] == move.to_square
    if kind == "pawn_target":  # a new attacker of their pawn
        return color == (not we) and _joins(fact, move, _same_subject(facts_before, fact))
    if kind == "blockade":
        return color == we and fact.squares[0] == move.to_square
    if kind == "passed_pawn_support":  # a new defender of our passed pawn
        return color == we and _joins(fact, move, _same_subject(facts_before, fact))
    if kind in ("backward_pawn", "overloaded_defender"):
        return color == (not we)
    if kind == "weak_square":
        return color == (not we) and move.to_square in fact.squares
    if kind == "pawn_shield":
        old = _find(facts_before, kind, we)
        return color == we and _count(fact) > (_count(old) if old is not None else 0)
    if kind == "king_attackers":  # a new attacker of their king's zone
        return color == (not we) and _joins(fact, move, _find(facts_before, kind, not we))
    if kind == "mobility":
        old = _find(facts_before, kind, color) if color is not None else None
        if old is None:
            return False
        change = _count(fact) - _count(old)
        return change >= ACTIVITY_GAIN if color == we else -change >= ACTIVITY_GAIN
    if kind == "space":
        old = _find(facts_before, kind, we)
        return color == we and old is not None and _count(fact) - _count(old) >= SPACE_GAIN
    return False


def _lost(fact: Fact, move: chess.Move, facts_after: Sequence[Fact], we: chess.Color) -> bool:
    """Whether a fact that stopped being true favours the mover (see the module doc)."""
    color = fact.color
    if fact.kind == "backward_pawn" and color == we:
        file = chess.square_file(fact.squares[0])
        return not any(
            f.kind == "backward_pawn" and f.color == we and chess.square_file(f.squares[0]) == file
            for f in facts_after
        )
    if fact.kind == "king_attackers" and color == we:
        new = _find(facts_after, "king_attackers", we)
        return new is None or _count(new) < _count(fact)
    return False


def positional_changes(board: chess.Board, move: chess.Move) -> list[FactChange]:
    """The changes in positional facts that ``move`` makes on ``board`` in the mover's favour.

    Each one is checked on both boards (:meth:`FactChange.holds`) before it is returned.

    >>> board = chess.Board("3r1rk1/1p4q1/p1ppb3/4p3/4P1p1/1P2Q3/P1PN2PP/R4RK1 w - - 0 24")
    >>> [c.text for c in positional_changes(board, chess.Move.from_uci("a1d1"))]  # doctest: +NORMALIZE_WHITESPACE
    ["The d-file is half-open for White: no white pawn stands on it, only Black's pawn on d6; White's rook on d1
      stands on it."]
    """
    if move not in board.legal_moves:
        raise ValueError(f"illegal move {move.uci()} in {board.fen()}")
    before = board.copy(stack=False)
    after = board.copy(stack=False)
    after.push(move)
    facts_before = positional_facts(before, CHANGING_CONCEPTS)
    facts_after = positional_facts(after, CHANGING_CONCEPTS)
    unchanged = set(facts_before) & set(facts_after)  # the same statement on both boards: no change
    changes: list[FactChange] = []
    for fact in facts_after:
        if fact.concept is not None and fact not in unchanged and _gained(fact, before, after, move, facts_before):
            changes.append(FactChange(fact, gained=True))
    for fact in facts_before:
        if fact.concept is not None and fact not in unchanged and _lost(fact, move, facts_after, before.turn):
            changes.append(FactChange(fact, gained=False))
    return [c for c in changes if c.holds(before, after)]  # each checked on both boards by its own checker


def changed_concepts(changes: Sequence[FactChange]) -> list[str]:
    """The distinct concept ids of some changes, in first-seen order."""
    return list(dict.fromkeys(c.concept for c in changes))


__all__ = ["ACTIVITY_GAIN", "CHANGING_CONCEPTS", "SPACE_GAIN", "FactChange", "changed_concepts", "is_quiet", "positional_changes"]
