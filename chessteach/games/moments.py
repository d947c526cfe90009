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
from chessteach.concepts.positional import PAWN_PLAY_KINDS
from chessteach.concepts.registry import move_facts as concept_move_facts
from chessteach.concepts.registry import positional_facts
from chessteach.engine import Judgment

SWING = 20.0
"""A move that changes the mover's win% by at least this many points is critical whatever its judgment."""

MOVE_TACTICS = ("fork", "skewer", "pin", "doubleCheck", "discoveredCheck")
"""The concepts whose move detectors read what the moved piece does, in the order their facts are listed."""
PIECE_SAFETY = ("hangingPiece", "trappedPiece")
"""The concepts whose move detectors read the mover's pieces a move leaves loose, listed piece by piece."""
POSITIONAL_AFTER_MOVE = ("passedPawn", "isolatedPawn", "doubledPawns", "outpost", "bishopPair", "openFile")
"""The positional concepts whose new facts a move's review lists."""


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
    """Tactics ``move`` creates on ``board`` (the board *after* the move, with the move on its stack or not), by
    the move detectors of the registry: forks, skewers and pins by the moved piece, the checks it gives, then
    the mover's pieces it leaves hanging or trapped, square by square."""
    loose = concept_move_facts(board, move, PIECE_SAFETY)
    return [*concept_move_facts(board, move, MOVE_TACTICS), *sorted(loose, key=lambda f: f.squares[0])]


def _structure_facts(board: chess.Board) -> list[Fact]:
    """The facts of :data:`POSITIONAL_AFTER_MOVE` about the structure itself, not about the pieces playing
    against or for a pawn (:data:`~chessteach.concepts.positional.PAWN_PLAY_KINDS`, which change with almost
    every move)."""
    return [f for f in positional_facts(board, POSITIONAL_AFTER_MOVE) if f.kind not in PAWN_PLAY_KINDS]


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
