"""Critical moments of a reviewed game and the concepts at play there, as checkable facts.

A moment is critical when the move is a mistake or a blunder, or when it swings the mover's win% by a
large amount. For the move played and for the engine's best move, the facts are what the concept
detectors find on the board after the move (a fork it makes, a piece it leaves hanging, a pin, a passed
pawn it creates) and after the engine's best reply to it (the opponent's tactic that punishes it).

The :class:`Refutation` of a move is the engine's best line in the position after it: the opponent's best reply
and what follows, with what the line wins (material, or mate) and the checked facts along it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import chess

from chessteach.concepts.facts import Fact, check_fact
from chessteach.concepts.mates import checkmate_fact, find_mate_patterns
from chessteach.concepts.notation import legal_sans
from chessteach.concepts.pieces import material_balance
from chessteach.concepts.positional import PAWN_PLAY_KINDS
from chessteach.concepts.registry import move_facts as concept_move_facts
from chessteach.concepts.registry import positional_facts
from chessteach.concepts.tactics import find_hanging, find_trapped
from chessteach.engine import EngineLine, Judgment

SWING = 20.0
"""A move that changes the mover's win% by at least this many points is critical whatever its judgment."""

MOVE_TACTICS = ("fork", "skewer", "pin", "doubleCheck", "discoveredCheck")
"""The concepts whose move detectors read what the moved piece does, in the order their facts are listed."""
PIECE_SAFETY = ("hangingPiece", "trappedPiece")
"""The concepts whose move detectors read the mover's pieces a move leaves loose, listed piece by piece."""
POSITIONAL_AFTER_MOVE = ("passedPawn", "isolatedPawn", "doubledPawns", "outpost", "bishopPair", "openFile")
"""The positional concepts whose new facts a move's review lists."""

REFUTATION_PLIES = 8
"""How many plies of the engine's line after a move its refutation keeps (as many as the best line keeps)."""
REFUTATION_MATE_PLIES = 11
"""A refutation that mates within this many plies keeps its whole line, to the mate."""


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


@dataclass(frozen=True)
class Refutation:
    """The opponent's best reply to a move and the engine's line after it, with what the line wins.

    ``san`` is the line in SAN from the position after the move, the reply first (so ``san[0]`` is the
    engine's best reply); ``material`` the refuting side's material balance at the line's end minus at its
    start, in pawns (:func:`~chessteach.concepts.pieces.material_balance`); ``mate`` the moves to mate when the
    engine's score after the move is a mate for the refuting side, else None. ``facts`` are the checked facts
    along the line, each with the ``position`` (FEN) it holds on: the tactics of the refuting side's moves
    (forks, skewers, pins, double and discovered checks), the other side's pieces left hanging or trapped
    (after a move of the refuting side, or by the other side's own reply; each piece once), the checkmate the line ends in and its pattern (or, for a mate score, the pieces attacking the
    king at its end: the mating net), and the refuting side's passed pawns new at its end.
    """

    san: list[str]
    facts: list[Fact] = field(default_factory=list)
    material: int = 0
    mate: int | None = None

    @property
    def reply_san(self) -> str:
        """The engine's best reply, the line's first move."""
        return self.san[0]

    @property
    def gain(self) -> str | None:
        """What the line wins, in words: ``mate in 3``, ``a pawn``, ``material worth 3 pawns``; None when it
        wins no material and no mate.

        >>> Refutation(["Nxe4"], material=1).gain, Refutation(["Qh7+"], material=-3, mate=2).gain
        ('a pawn', 'mate in 2')
        """
        if self.mate is not None:
            return f"mate in {self.mate}"
        if self.material <= 0:
            return None
        return "a pawn" if self.material == 1 else f"material worth {self.material} pawns"

    @property
    def wins(self) -> str | None:
        """:attr:`gain` as a phrase after the line: ``winning a pawn``, ``with mate in 3``.

        >>> Refutation(["Nxe4"], material=3).wins
        'winning material worth 3 pawns'
        """
        gain = self.gain
        if gain is None:
            return None
        return f"with {gain}" if self.mate is not None else f"winning {gain}"


def _checked_at(board: chess.Board, facts: list[Fact]) -> list[Fact]:
    """The facts that hold on ``board``, each with the board recorded as its position."""
    return [f.at(board) for f in facts if check_fact(board, f)]


def _targets(board: chess.Board) -> list[Fact]:
    """The side to move's pieces (not pawns or the king) left hanging or trapped on ``board``, square by square:
    what the other side's last move threatens."""
    pieces = board.occupied_co[board.turn] & ~board.pawns & ~board.kings
    found = [find(board, square) for square in chess.SquareSet(pieces) for find in (find_hanging, find_trapped)]
    return [f for f in found if f is not None]


def _mating_net(board: chess.Board, last: chess.Move, victim: chess.Color, mate: int | None) -> list[Fact]:
    """The checkmate a line ends in and its named pattern; for a line that stops short of a mate the engine
    sees, the pieces attacking the ``victim``'s king at its end."""
    mate_fact = checkmate_fact(board, last)
    if mate_fact is not None:
        return _checked_at(board, [mate_fact, *find_mate_patterns(board, last)])
    if mate is None:
        return []
    attackers = [f for f in positional_facts(board, ["kingSafety"]) if f.kind == "king_attackers"]
    return _checked_at(board, [f for f in attackers if f.color == victim])


def refutation(board: chess.Board, move: chess.Move, line: EngineLine) -> Refutation | None:
    """The refutation of ``move`` played on ``board`` (the board before it): ``line`` is the engine's best line
    in the position after the move; None when it has no legal first move there (a finished game, a cache
    entry that does not fit).

    Every fact returned holds on the board it describes (checked with :func:`check_fact`), recorded as its
    ``position``.
    """
    start = board.copy(stack=False)
    start.push(move)
    refuter = start.turn
    relative = line.score.relative
    mate = relative.mate() if relative.is_mate() and (relative.mate() or 0) > 0 else None
    plies = 2 * mate - 1 if mate is not None and 2 * mate - 1 <= REFUTATION_MATE_PLIES else REFUTATION_PLIES
    san = legal_sans(start, line.pv[:plies])
    if not san:
        return None
    facts: list[Fact] = []
    seen: set[tuple[str, tuple[chess.Square, ...], tuple[str, ...]]] = set()
    current = start.copy(stack=False)
    for played in line.pv[: len(san)]:
        current.push(played)
        if current.turn != refuter:  # the refuting side's move: the tactics it makes, the pieces it leaves loose
            facts += _checked_at(current, concept_move_facts(current, played, MOVE_TACTICS))
            loose = _targets(current)
        else:  # the other side's reply: the pieces it leaves loose
            loose = sorted(concept_move_facts(current, played, PIECE_SAFETY), key=lambda f: f.squares[0])
        for fact in _checked_at(current, loose):  # a loose piece once, where the line first leaves it loose
            if (fact.kind, fact.squares, fact.pieces) not in seen:
                seen.add((fact.kind, fact.squares, fact.pieces))
                facts.append(fact)
    facts += _mating_net(current, line.pv[len(san) - 1], not refuter, mate)
    passed = [f for f in new_positional_facts(start, current) if f.kind == "passed_pawn" and f.color == refuter]
    facts += _checked_at(current, passed)
    material = material_balance(current, refuter) - material_balance(start, refuter)
    return Refutation(san, facts, material, mate)
