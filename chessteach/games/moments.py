"""Critical moments of a reviewed game and the concepts at play there, as checkable facts.

A moment is critical when the move is a mistake or a blunder, or when it swings the mover's win% by a
large amount. For the move played and for the engine's best move, the facts are what the concept
detectors find on the board after the move (a fork it makes, a piece it leaves hanging, a pin, a passed
pawn it creates) and after the engine's best reply to it (the opponent's tactic that punishes it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import chess

from chessteach.concepts.facts import Fact, check_fact
from chessteach.concepts.positional import PAWN_PLAY_KINDS, positional_facts
from chessteach.concepts.tactics import (
    find_discovered_check,
    find_double_check,
    find_fork,
    find_hanging,
    find_pins,
    find_skewer,
    find_trapped,
)
from chessteach.engine import Judgment

SWING = 20.0
"""A move that changes the mover's win% by at least this many points is critical whatever its judgment."""

_POSITIONAL_AFTER_MOVE = ("passedPawn", "isolatedPawn", "doubledPawns", "outpost", "bishopPair", "openFile")


@dataclass(frozen=True)
class MoveFacts:
    """The facts about one move: on the board after it, and after the engine's best reply to it."""

    san: str
    after_move: list[Fact] = field(default_factory=list)
    reply_san: str | None = None
    after_reply: list[Fact] = field(default_factory=list)

    @property
    def all(self) -> list[Fact]:
        return [*self.after_move, *self.after_reply]


def is_critical(judgment: Judgment | None, win_before: float, win_after: float) -> bool:
    return judgment in (Judgment.MISTAKE, Judgment.BLUNDER) or abs(win_before - win_after) >= SWING


def tactical_facts(board: chess.Board, move: chess.Move) -> list[Fact]:
    """Tactics ``move`` creates on ``board`` (the board *after* the move, with the move on its stack or not):
    forks, skewers and pins by the moved piece, checks it discovers, and the mover's pieces it leaves hanging
    or trapped."""
    mover = not board.turn
    to = move.to_square
    facts: list[Fact] = []
    for finder in (find_fork, find_skewer):
        fact = finder(board, to)
        if fact is not None:
            facts.append(fact)
    facts += [f for f in find_pins(board, not mover) if f.squares[0] == to]
    for fact in (find_double_check(board), find_discovered_check(board, move)):
        if fact is not None:
            facts.append(fact)
    for square in chess.SquareSet(board.occupied_co[mover] & ~board.pawns & ~board.kings):
        for finder in (find_hanging, find_trapped):
            fact = finder(board, square)
            if fact is not None:
                facts.append(fact)
    return facts


def _structure_facts(board: chess.Board) -> list[Fact]:
    """The facts of :data:`_POSITIONAL_AFTER_MOVE` about the structure itself, not about the pieces playing
    against or for a pawn (:data:`~chessteach.concepts.positional.PAWN_PLAY_KINDS`, which change with almost
    every move)."""
    return [f for f in positional_facts(board, _POSITIONAL_AFTER_MOVE) if f.kind not in PAWN_PLAY_KINDS]


def new_positional_facts(before: chess.Board, after: chess.Board) -> list[Fact]:
    """Positional facts true after a move but not before it (a passed pawn created, a file opened, ...)."""
    old = {(f.kind, f.squares) for f in _structure_facts(before)}
    return [f for f in _structure_facts(after) if (f.kind, f.squares) not in old]


def move_facts(board: chess.Board, move: chess.Move, reply: chess.Move | None = None) -> MoveFacts:
    """The facts of ``move`` played on ``board`` (the board before it), and of ``reply`` to it if given.

    Every fact returned holds on the board it describes (checked with :func:`check_fact`).
    """
    san = board.san(move)
    after = board.copy(stack=False)
    after.push(move)
    facts = [f for f in tactical_facts(after, move) + new_positional_facts(board, after) if check_fact(after, f)]
    if reply is None or reply not in after.legal_moves:
        return MoveFacts(san, facts)
    reply_san = after.san(reply)
    after_reply = after.copy(stack=False)
    after_reply.push(reply)
    reply_facts = [f for f in tactical_facts(after_reply, reply) if check_fact(after_reply, f)]
    return MoveFacts(san, facts, reply_san, reply_facts)
