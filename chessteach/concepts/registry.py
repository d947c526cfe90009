"""The one registry of concept detectors: for each catalog concept id, what finds it and which facts it emits.

Every part of chessteach that asks "does this position or line show concept X, and what are its facts?" asks
here: the puzzle tagger (:mod:`chessteach.puzzles.tag`), the explanations
(:mod:`chessteach.teaching.explain`), the review of a game's moves (:mod:`chessteach.games.moments`) and the
positional exercises (through :mod:`chessteach.concepts.changes`). A :class:`Detector` has up to three ways to
find its concept:

- ``line``: on a solution line (:class:`~chessteach.concepts.line.Line`), for the tactical and mate themes; it
  answers with the facts it found (a non-empty list means yes) or with a plain yes/no for motifs that are about
  a sequence of moves rather than one board (a sacrifice, a deflection, ...);
- ``board``: on one board, for the positional concepts (a list of facts, empty for no);
- ``move``: on the board right after one move (the tactics that move creates), for the review of a game.

``facts`` overrides the facts an explanation shows along a line when they are not the line detector's own
(the checkmate and its pattern for every mate theme; the loose piece the first move goes for, for
``hangingPiece``). ``kinds`` names the kinds of :class:`~chessteach.concepts.facts.Fact` the detector emits;
each has its checker, registered with :func:`~chessteach.concepts.facts.fact_check` next to the detector.

Adding a concept takes three steps: its catalog entry (id, name, definition, ...) in
:mod:`chessteach.concepts.catalog`; its detector, and for a new kind of fact its checker, in one detector
module (:mod:`~chessteach.concepts.motifs` for a theme of a solution line, :mod:`~chessteach.concepts.mates`
for a mate, :mod:`~chessteach.concepts.tactics` for a tactic on one board, :mod:`~chessteach.concepts.positional`
for a positional concept); and its entry in :data:`DETECTORS` here. Themes about a puzzle as a whole (its
length, phase, kind of endgame, the engine's evaluation, the players' titles) have no detector here: the
tagger computes them.

>>> [f.kind for f in detector("mateIn1").line_facts(
...     Line.from_moves(chess.Board("6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1"), [chess.Move.from_uci("a1a8")],
...                     setup=False))]
['checkmate', 'mate_pattern']
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import chess

from chessteach.concepts import mates, motifs, positional, tactics
from chessteach.concepts.catalog import get_concept
from chessteach.concepts.facts import Fact, check_fact
from chessteach.concepts.line import Line

logger = logging.getLogger(__name__)

LineDetector = Callable[[Line], Sequence[Fact] | bool]
"""Finds a concept on a solution line: its facts (a non-empty list means found) or a plain yes/no."""
LineFacts = Callable[[Line], list[Fact]]
"""The facts a concept shows along a solution line, each with the ``position`` it is about."""
BoardDetector = Callable[[chess.Board], list[Fact]]
"""Finds a concept on one board: its facts (empty for no)."""
MoveDetector = Callable[[chess.Board, chess.Move], list[Fact]]
"""Finds the tactics one move creates, on the board after it."""


@dataclass(frozen=True)
class Detector:
    """How one concept is found (see the module doc): ``line``, ``board`` and ``move`` detectors, the
    explanation's ``facts`` along a line when they are not the line detector's own, and the fact ``kinds``."""

    concept: str
    kinds: tuple[str, ...] = ()
    line: LineDetector | None = None
    board: BoardDetector | None = None
    move: MoveDetector | None = None
    facts: LineFacts | None = None

    def finds(self, line: Line) -> bool:
        """Whether the line detector finds the concept on ``line`` (False without one)."""
        return self.line is not None and bool(self.line(line))

    def line_facts(self, line: Line) -> list[Fact]:
        """The facts of the concept along a solution line, each with the ``position`` it is about.

        ``facts`` when given; for a board detector, its checked facts in the solver's position and then those
        the solver's first move brings (true after it, not before: what the move changes, the point of a
        positional exercise); else the line detector's facts (none when it answers yes/no).
        """
        if self.facts is not None:
            return self.facts(line)
        if self.board is not None:
            return self._board_facts_along(line)
        if self.line is not None:
            found = self.line(line)
            return [] if isinstance(found, bool) else list(found)
        return []

    def _board_facts_along(self, line: Line) -> list[Fact]:
        start = line.start
        before = verified_positional_facts(start, [self.concept])
        facts = [f.at(start) for f in before]
        if line.plies > line.first:
            after = line.after(line.first)
            held = {f.text for f in before}
            facts += [f.at(after) for f in verified_positional_facts(after, [self.concept]) if f.text not in held]
        return facts


def _mate(concept: str, line: LineDetector | None) -> Detector:
    return Detector(concept, ("checkmate", "mate_pattern"), line=line, facts=mates.mate_facts)


def _board(concept: str, kinds: tuple[str, ...], board: BoardDetector) -> Detector:
    return Detector(concept, kinds, board=board)


def _pawns(
    concept: str,
    kind: str,
    detect: BoardDetector,
    feature: str,
    *more: BoardDetector,
    more_kinds: tuple[str, ...] = (),
) -> Detector:
    """A pawn concept: its own facts, then the pieces that attack the pawns (and blockade them, for the
    features a piece can blockade), then ``more``."""
    kinds = (kind, "pawn_target", *(("blockade",) if feature in positional.BLOCKADED else ()), *more_kinds)
    return _board(concept, kinds, positional.with_pieces_against(detect, feature, *more))


_UNDETECTED_MATES = ("triangleMate", "balestraMate", "blindSwineMate")
"""Named mates of the catalog that the tagger does not recognise; their explanations still show the mate."""

_ENTRIES: list[Detector] = [
    # mates: the theme on the line, the checkmate and its pattern as facts
    _mate("mate", mates.is_mate),
    *(_mate(f"mateIn{n}", mates.mate_in(n)) for n in range(1, 6)),
    *(_mate(name, mates.mate_pattern(name)) for name in mates.MATE_PATTERNS),
    *(_mate(name, None) for name in _UNDETECTED_MATES),
    # tactical motifs of a solution line
    Detector("attraction", line=motifs.has_attraction),
    Detector("deflection", line=motifs.has_deflection),
    Detector("advancedPawn", line=motifs.has_advanced_pawn),
    Detector("doubleCheck", ("double_check",), line=motifs.double_checks, move=tactics.double_checks_by),
    Detector("quietMove", line=motifs.has_quiet_move),
    Detector("defensiveMove", line=motifs.is_defensive_move),
    Detector("sacrifice", line=motifs.is_sacrifice),
    Detector("xRayAttack", line=motifs.has_x_ray),
    Detector("fork", ("fork",), line=motifs.forks, move=tactics.forks_by),
    Detector(
        "hangingPiece",
        ("hanging_piece",),
        line=motifs.hangs_piece,
        move=tactics.hanging_by,
        facts=motifs.hanging_targets,
    ),
    Detector("trappedPiece", ("trapped_piece",), line=motifs.trapped_pieces, move=tactics.trapped_by),
    Detector("discoveredAttack", ("discovered_check",), line=motifs.discovered_attacks),
    Detector(
        "discoveredCheck", ("discovered_check",), line=motifs.discovered_checks, move=tactics.discovered_checks_by
    ),
    Detector("exposedKing", line=motifs.has_exposed_king),
    Detector("skewer", ("skewer",), line=motifs.skewers, move=tactics.skewers_by),
    Detector("interference", line=motifs.has_interference),
    Detector("intermezzo", line=motifs.has_intermezzo),
    Detector("pin", ("pin",), line=motifs.pins, move=tactics.pins_by),
    Detector("attackingF2F7", ("f2_f7_attack",), line=motifs.f2_f7_attacks),
    Detector("clearance", line=motifs.has_clearance),
    Detector("enPassant", line=motifs.plays_en_passant),
    Detector("castling", line=motifs.castles),
    Detector("promotion", line=motifs.promotes),
    Detector("underPromotion", line=motifs.under_promotes),
    Detector("capturingDefender", line=motifs.captures_defender),
    Detector("kingsideAttack", line=motifs.kingside_attack),
    Detector("queensideAttack", line=motifs.queenside_attack),
    # positional concepts, on one board
    _pawns("isolatedPawn", "isolated_pawn", positional.detect_isolated_pawn, "isolated"),
    _pawns("doubledPawns", "doubled_pawns", positional.detect_doubled_pawns, "doubled"),
    _pawns("backwardPawn", "backward_pawn", positional.detect_backward_pawn, "backward"),
    _pawns(
        "passedPawn",
        "passed_pawn",
        positional.detect_passed_pawn,
        "passed",
        positional.detect_passed_pawn_support,
        more_kinds=("passed_pawn_support",),
    ),
    _board("pawnIslands", ("pawn_islands",), positional.detect_pawn_islands),
    _board("openFile", ("open_file",), positional.detect_open_file),
    _board("halfOpenFile", ("half_open_file",), positional.detect_half_open_file),
    _board("outpost", ("outpost",), positional.detect_outpost),
    _board("bishopPair", ("bishop_pair",), positional.detect_bishop_pair),
    _board("kingSafety", ("pawn_shield", "king_attackers"), positional.detect_king_safety),
    _board("pieceActivity", ("mobility",), positional.detect_piece_activity),
    _board("space", ("space",), positional.detect_space),
    _board("weakSquares", ("weak_square",), positional.detect_weak_squares),
    _board("overloadedDefender", ("overloaded_defender",), positional.detect_overloaded_defender),
]

DETECTORS: dict[str, Detector] = {d.concept: d for d in _ENTRIES}
"""Every concept's :class:`Detector`, by catalog id: the mates, then the motifs in the tagger's order, then the
positional concepts in catalog order."""

LINE_THEMES: tuple[str, ...] = tuple(c for c, d in DETECTORS.items() if d.line is not None)
"""The themes found on a solution line (the mates, then the motifs), in the order the tagger lists them."""

POSITIONAL_DETECTORS: dict[str, BoardDetector] = {c: d.board for c, d in DETECTORS.items() if d.board is not None}
"""The board detector of each positional concept, by catalog id, in catalog order."""


def detector(concept_id: str) -> Detector:
    """The detector of a concept; a concept without one (a length or phase theme, say) gets an empty one.

    Raises :class:`~chessteach.concepts.catalog.UnknownConceptError` for an id the catalog does not know.
    """
    return DETECTORS.get(concept_id) or Detector(get_concept(concept_id).id)


def positional_facts(board: chess.Board, concepts: Iterable[str] | None = None) -> list[Fact]:
    """Every positional fact about ``board``, or those of the given catalog ids, in catalog order.

    Raises :class:`~chessteach.concepts.catalog.UnknownConceptError` for an unknown id, and ``ValueError``
    for a known concept that has no positional detector.

    >>> board = chess.Board("4k3/8/8/8/3P4/8/8/4K3 w - - 0 1")
    >>> [f.kind for f in positional_facts(board, ["isolatedPawn", "passedPawn"])]
    ['isolated_pawn', 'passed_pawn']
    """
    wanted = list(POSITIONAL_DETECTORS) if concepts is None else list(concepts)
    for concept_id in wanted:
        if concept_id not in POSITIONAL_DETECTORS:
            get_concept(concept_id)  # raises with suggestions when the id is unknown
            raise ValueError(
                f"concept {concept_id!r} has no positional detector; positional concepts:"
                f" {', '.join(POSITIONAL_DETECTORS)}"
            )
    facts = []
    for concept_id, detect in POSITIONAL_DETECTORS.items():
        if concept_id in wanted:
            facts.extend(detect(board))
    logger.debug("%d positional facts for %s", len(facts), board.fen())
    return facts


def verified_positional_facts(board: chess.Board, concepts: Iterable[str] | None = None) -> list[Fact]:
    """:func:`positional_facts`, keeping only facts their checker confirms (a detector bug is logged)."""
    facts = []
    for fact in positional_facts(board, concepts):
        if check_fact(board, fact):
            facts.append(fact)
        else:
            logger.warning("dropping a %s fact its checker rejects in %s: %s", fact.kind, board.fen(), fact.text)
    return facts


def move_facts(board: chess.Board, move: chess.Move, concepts: Iterable[str]) -> list[Fact]:
    """The facts of the given concepts' move detectors about ``move`` (``board`` is the position after it),
    concept by concept in the order given.

    Raises ``ValueError`` for a concept without a move detector.
    """
    facts: list[Fact] = []
    for concept_id in concepts:
        detect = detector(concept_id).move
        if detect is None:
            movers = [c for c, d in DETECTORS.items() if d.move is not None]
            raise ValueError(f"concept {concept_id!r} has no move detector; concepts with one: {', '.join(movers)}")
        facts += detect(board, move)
    return facts


__all__ = [
    "DETECTORS",
    "LINE_THEMES",
    "POSITIONAL_DETECTORS",
    "BoardDetector",
    "Detector",
    "LineDetector",
    "LineFacts",
    "MoveDetector",
    "detector",
    "move_facts",
    "positional_facts",
    "verified_positional_facts",
]
