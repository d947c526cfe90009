"""The player's decisions, their errors, and the concept profile: which concepts they keep missing.

Every move of the player is a decision. The concepts at play in it are those of the checked facts of the
*refutation* (what the opponent's best reply to the move played exploited, :func:`refutation_facts`) and of
the *better move* (the engine's best move and its line, :func:`better_move_facts`: what the player missed,
or found). A decision went wrong when the review judges the move a mistake or a blunder, or when it is a
*missed win*: the opponent had just erred (a mistake or a blunder) and the player's move gave back at least
:data:`MISSED_SHARE` of what that error gained.

The profile counts, for each concept, the player's decisions where it was at play and those that went wrong,
the rate with a Wilson interval, split by phase and colour, against the same rate of the opponents in the
same games and the player's own rate where the concept was not at play.

>>> print(wilson(3, 10))
0.300 [0.108, 0.603]
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import chess

from chessteach.concepts.facts import Fact
from chessteach.engine import Judgment
from chessteach.games.moments import move_facts
from chessteach.games.review import PHASES, GameReview, MoveReview

MISTAKE = "mistake"
BLUNDER = "blunder"
MISSED_WIN = "missed win"
ERROR_KINDS = (BLUNDER, MISTAKE, MISSED_WIN)

MISSED_SHARE = 0.5
"""A move after the opponent's error misses the win when it loses at least this share of the win% that the
error gained."""

Z_95 = 1.959963984540054
"""The normal quantile of a two-sided 95% interval."""

COLORS = ("white", "black")


@dataclass(frozen=True)
class Rate:
    """``errors`` out of ``n`` decisions: the rate and its Wilson score interval (NaN when ``n`` is 0)."""

    errors: int
    n: int
    low: float
    high: float

    @property
    def rate(self) -> float:
        return self.errors / self.n if self.n else math.nan

    def __str__(self) -> str:
        return f"{self.rate:.3f} [{self.low:.3f}, {self.high:.3f}]"


def wilson(errors: int, n: int, z: float = Z_95) -> Rate:
    """The Wilson score interval of ``errors`` successes in ``n`` trials (95% by default).

    >>> r = wilson(0, 4)
    >>> (r.rate, r.low, round(r.high, 3))
    (0.0, 0.0, 0.49)
    >>> wilson(0, 12).low, wilson(5, 5).high
    (0.0, 1.0)
    """
    if not 0 <= errors <= n:
        raise ValueError(f"{errors} errors out of {n} decisions")
    if n == 0:
        return Rate(0, 0, math.nan, math.nan)
    p = errors / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    low = 0.0 if errors == 0 else max(0.0, min(p, centre - half))  # exact at the ends, not off by a rounding
    high = 1.0 if errors == n else min(1.0, max(p, centre + half))
    return Rate(errors, n, low, high)


@dataclass(frozen=True)
class Decision:
    """One move of a side in a reviewed game, with the facts of its refutation and of the better move."""

    game: int
    move: MoveReview
    refutation: tuple[Fact, ...] = ()
    better: tuple[Fact, ...] = ()
    errors: tuple[str, ...] = ()
    gain: float = 0.0
    """For a missed win: the win% the opponent's error had handed over."""

    @property
    def concepts(self) -> frozenset[str]:
        """The concepts at play: those of the refutation's and the better move's facts."""
        return frozenset(f.concept for f in (*self.refutation, *self.better) if f.concept)

    @property
    def missed(self) -> frozenset[str]:
        """The concepts of the better move's facts (what the player missed when the move went wrong)."""
        return frozenset(f.concept for f in self.better if f.concept)

    @property
    def wrong(self) -> bool:
        return bool(self.errors)

    @property
    def color_name(self) -> str:
        return chess.COLOR_NAMES[self.move.color]


def _next_best(board: chess.Board, san: str | None) -> chess.Move | None:
    if san is None:
        return None
    try:
        return board.parse_san(san)
    except ValueError:
        return None


def refutation_facts(move: MoveReview, reply: MoveReview | None) -> list[Fact]:
    """What the opponent's best reply to ``move`` exploited, as checked facts: the review's
    ``played_facts.after_reply`` at a critical moment; elsewhere the same facts found from the best move of
    the next position (``reply``, the review of the opponent's move after ``move``). The one place the study
    reads a refutation. It deliberately reads the facts one reply deep, not the review's fuller
    :attr:`~chessteach.games.review.MoveReview.refutation` (facts along the whole line): that exists only at
    critical moments, and facts found deeper at the player's errors than at their other decisions would inflate
    every concept's error rate."""
    if move.played_facts is not None:
        return list(move.played_facts.after_reply)
    if reply is None or not reply.best_pv_san:
        return []
    board = chess.Board(move.fen_before)
    played = chess.Move.from_uci(move.uci)
    after = board.copy(stack=False)
    after.push(played)
    best_reply = _next_best(after, reply.best_pv_san[0])
    return move_facts(board, played, best_reply).after_reply if best_reply is not None else []


def better_move_facts(move: MoveReview) -> list[Fact]:
    """The checked facts of the engine's best move and its reply (``best_facts`` at a critical moment where the
    engine preferred another move; elsewhere found the same way from the best line)."""
    if move.best_facts is not None:
        return move.best_facts.all
    if not move.best_pv_san:
        return []
    board = chess.Board(move.fen_before)
    best = _next_best(board, move.best_pv_san[0])
    if best is None:
        return []
    after = board.copy(stack=False)
    after.push(best)
    reply = _next_best(after, move.best_pv_san[1]) if len(move.best_pv_san) > 1 else None
    return move_facts(board, best, reply).all


def _errors(move: MoveReview, previous: MoveReview | None) -> tuple[tuple[str, ...], float]:
    kinds = []
    if move.judgment is Judgment.BLUNDER:
        kinds.append(BLUNDER)
    elif move.judgment is Judgment.MISTAKE:
        kinds.append(MISTAKE)
    gain = 0.0
    if previous is not None and previous.judgment in (Judgment.MISTAKE, Judgment.BLUNDER):
        gain = previous.win_drop
        if gain > 0 and move.win_drop >= MISSED_SHARE * gain:
            kinds.append(MISSED_WIN)
    return tuple(kinds), gain


def side_decisions(review: GameReview, color: chess.Color) -> list[Decision]:
    """Every move of ``color`` in a reviewed game as a :class:`Decision`."""
    by_ply = {m.ply: m for m in review.moves}
    out = []
    for move in review.moves:
        if move.color != color:
            continue
        errors, gain = _errors(move, by_ply.get(move.ply - 1))
        out.append(Decision(
            game=review.number,
            move=move,
            refutation=tuple(refutation_facts(move, by_ply.get(move.ply + 1))),
            better=tuple(better_move_facts(move)),
            errors=errors,
            gain=gain,
        ))
    return out


@dataclass(frozen=True)
class ConceptRow:
    """One concept of the profile: the player's rate of going wrong where it was at play, split by phase and
    colour, against the opponents' rate and the player's own rate where it was not at play."""

    concept: str
    player: Rate
    opponents: Rate
    elsewhere: Rate
    by_phase: dict[str, Rate] = field(default_factory=dict)
    by_color: dict[str, Rate] = field(default_factory=dict)


def _rate(decisions: Iterable[Decision]) -> Rate:
    chosen = list(decisions)
    return wilson(sum(d.wrong for d in chosen), len(chosen))


def concept_profile(player: Sequence[Decision], opponents: Sequence[Decision]) -> list[ConceptRow]:
    """A row per concept at play in one of the player's decisions, most decisions first (then by name).

    >>> concept_profile([], [])
    []
    """
    counts: dict[str, int] = {}
    for decision in player:
        for concept in decision.concepts:
            counts[concept] = counts.get(concept, 0) + 1
    rows = []
    for concept in sorted(counts, key=lambda c: (-counts[c], c)):
        at_play = [d for d in player if concept in d.concepts]
        rows.append(ConceptRow(
            concept=concept,
            player=_rate(at_play),
            opponents=_rate(d for d in opponents if concept in d.concepts),
            elsewhere=_rate(d for d in player if concept not in d.concepts),
            by_phase={p: _rate(d for d in at_play if d.move.phase == p) for p in PHASES},
            by_color={c: _rate(d for d in at_play if d.color_name == c) for c in COLORS},
        ))
    return rows


def weakest(rows: Sequence[ConceptRow], count: int) -> list[ConceptRow]:
    """The ``count`` concepts the player went wrong at most surely: those with an error, by the low end of the
    rate's interval, then by the number of errors."""
    wrong = [r for r in rows if r.player.errors]
    return sorted(wrong, key=lambda r: (-r.player.low, -r.player.errors, r.concept))[:count]


@dataclass
class PlayerStudy:
    """The player's reviewed games, their decisions and their opponents', and the concept profile."""

    player: str
    reviews: list[GameReview]
    decisions: list[Decision]
    opponents: list[Decision]
    profile: list[ConceptRow]

    @property
    def errors(self) -> list[Decision]:
        """The decisions that went wrong, the most win% lost first."""
        return sorted((d for d in self.decisions if d.wrong), key=lambda d: (-d.move.win_drop, d.game, d.move.ply))

    def count(self, kind: str) -> int:
        """How many of the player's decisions are of an error ``kind`` (:data:`ERROR_KINDS`)."""
        return sum(kind in d.errors for d in self.decisions)


def study_player(player: str, reviews: Sequence[GameReview], colors: Sequence[chess.Color]) -> PlayerStudy:
    """The study of a player from their reviewed games and the colour they had in each."""
    if len(reviews) != len(colors):
        raise ValueError(f"{len(reviews)} reviews but {len(colors)} colours")
    own: list[Decision] = []
    others: list[Decision] = []
    for review, color in zip(reviews, colors, strict=True):
        own += side_decisions(review, color)
        others += side_decisions(review, not color)
    return PlayerStudy(player, list(reviews), own, others, concept_profile(own, others))


__all__ = [
    "BLUNDER", "ERROR_KINDS", "MISSED_WIN", "MISTAKE", "ConceptRow", "Decision", "PlayerStudy", "Rate",
    "better_move_facts", "concept_profile", "refutation_facts", "side_decisions", "study_player", "weakest",
    "wilson",
]
