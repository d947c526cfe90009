"""Score math as Lichess computes it: win%, move and game accuracy, and move judgments.

Every function says whose point of view its numbers take. Centipawns are clamped to +/-1000 before
win% is computed, and a forced mate counts as +/-1000.

>>> round(win_percent(0), 1)
50.0
>>> round(win_percent(300), 2)
75.11
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass

import chess
import chess.engine

CP_CEILING = 1000
"""Centipawns beyond this count as this much; a mate counts as exactly this much."""

INITIAL_CP = 15
"""The evaluation Lichess assumes for the starting position (white's point of view)."""

_WIN_K = 0.00368208


def clamp_cp(score: chess.engine.Score) -> int:
    """Centipawns from the score's own point of view, clamped to +/-1000; a mate for is +1000, against -1000.

    >>> clamp_cp(chess.engine.Mate(3)), clamp_cp(chess.engine.Mate(-2)), clamp_cp(chess.engine.Cp(-1500))
    (1000, -1000, -1000)
    """
    value = score.score(mate_score=100_000)
    assert value is not None
    return max(-CP_CEILING, min(CP_CEILING, value))


def win_percent(cp: float) -> float:
    """Lichess's win% (0..100) for a centipawn evaluation, both from the same side's point of view."""
    return 50 + 50 * winning_chances(cp)


def winning_chances(cp: float, *, clamp: bool = True) -> float:
    """The same curve on Lichess's -1..1 scale. Lichess judges moves with ``clamp=False``."""
    if clamp:
        cp = max(-CP_CEILING, min(CP_CEILING, cp))
    return 2 / (1 + math.exp(-_WIN_K * cp)) - 1


def score_chances(score: chess.engine.Score) -> float:
    """:func:`winning_chances` (-1..1) of an engine score, from the score's own side, clamped (see :func:`clamp_cp`).

    >>> score_chances(chess.engine.Mate(2)) == score_chances(chess.engine.Cp(1500)), score_chances(chess.engine.Cp(0))
    (True, 0.0)
    """
    return winning_chances(clamp_cp(score))


def win_chance(score: chess.engine.PovScore, color: chess.Color) -> float:
    """``color``'s winning chances (-1..1) for a score that carries its own point of view (clamped).

    >>> win_chance(chess.engine.PovScore(chess.engine.Cp(0), chess.WHITE), chess.BLACK)
    0.0
    """
    return score_chances(score.pov(color))


def score_win_percent(score: chess.engine.PovScore, pov: chess.Color) -> float:
    """Win% of ``pov`` for a score that carries its own point of view."""
    return win_percent(clamp_cp(score.pov(pov)))


def move_accuracy(win_before: float, win_after: float) -> float:
    """Lichess's accuracy of one move (0..100) from the mover's win% before and after it.

    >>> move_accuracy(60, 60)
    100.0
    """
    if win_after >= win_before:
        return 100.0
    drop = win_before - win_after
    raw = 103.1668100711649 * math.exp(-0.04354415386753951 * drop) - 3.166924740191411
    return max(0.0, min(100.0, raw + 1))  # +1: Lichess's bonus for imperfect analysis


def _std(values: Sequence[float]) -> float:
    mean = sum(values) / len(values)
    return math.sqrt(sum((x - mean) ** 2 for x in values) / len(values))


def _harmonic_mean(values: Sequence[float]) -> float:
    return len(values) / sum(1 / max(1.0, v) for v in values)


@dataclass(frozen=True)
class GameAccuracy:
    """Game accuracy of each side (None for a side that made no move)."""

    white: float | None
    black: float | None

    def __getitem__(self, color: chess.Color) -> float | None:
        return self.white if color == chess.WHITE else self.black


def game_accuracy(white_cps: Sequence[int], *, start_color: chess.Color = chess.WHITE) -> GameAccuracy:
    """Lichess's game accuracy per side.

    ``white_cps`` are the evaluations after each move, from white's point of view, already clamped
    (see :func:`clamp_cp`); the position before the first move counts as ``INITIAL_CP``. Each side's
    accuracy is the mean of its volatility-weighted mean move accuracy (weights: the standard deviation
    of win% over a sliding window, clamped to 0.5..12) and the harmonic mean of its move accuracies.
    """
    if not white_cps:
        return GameAccuracy(None, None)
    wins = [win_percent(cp) for cp in [INITIAL_CP, *white_cps]]
    window = max(2, min(8, len(white_cps) // 10))
    windows = [wins[:window]] * (min(window, len(wins)) - 2)
    windows += [wins[i : i + window] for i in range(max(1, len(wins) - window + 1))]
    weights = [max(0.5, min(12.0, _std(w))) for w in windows]
    per_side: dict[chess.Color, list[tuple[float, float]]] = {chess.WHITE: [], chess.BLACK: []}
    for i in range(len(wins) - 1):
        color = start_color if i % 2 == 0 else not start_color
        prev, nxt = wins[i], wins[i + 1]
        acc = move_accuracy(prev, nxt) if color == chess.WHITE else move_accuracy(100 - prev, 100 - nxt)
        per_side[color].append((acc, weights[i]))

    def side(items: list[tuple[float, float]]) -> float | None:
        if not items:
            return None
        total_weight = sum(w for _, w in items)
        weighted = sum(a * w for a, w in items) / total_weight
        return (weighted + _harmonic_mean([a for a, _ in items])) / 2

    return GameAccuracy(side(per_side[chess.WHITE]), side(per_side[chess.BLACK]))


class Judgment(enum.Enum):
    """Lichess's judgment of a move, with the NAG it is annotated with."""

    INACCURACY = ("Inaccuracy", 6)
    MISTAKE = ("Mistake", 2)
    BLUNDER = ("Blunder", 4)

    def __init__(self, label: str, nag: int) -> None:
        self.label = label
        self.nag = nag

    def __str__(self) -> str:
        return self.label


BLUNDER_DROP = 0.3
MISTAKE_DROP = 0.2
INACCURACY_DROP = 0.1
"""Lichess's thresholds: a drop of the mover's winning chances (-1..1) by this much is a blunder, mistake,
inaccuracy (see :func:`judge`)."""

_CHANCE_THRESHOLDS = (
    (BLUNDER_DROP, Judgment.BLUNDER),
    (MISTAKE_DROP, Judgment.MISTAKE),
    (INACCURACY_DROP, Judgment.INACCURACY),
)


def _mate_sign(score: chess.engine.Score) -> int:
    """+1 if the score is a mate for its point of view, -1 against, 0 for centipawns."""
    if not score.is_mate():
        return 0
    if score == chess.engine.MateGiven:
        return 1
    mate = score.mate()
    assert mate is not None
    return 1 if mate > 0 else -1


def chance_drop(before: chess.engine.PovScore, after: chess.engine.PovScore, mover: chess.Color) -> float | None:
    """How far the mover's winning chances (-1..1, centipawns not clamped, as Lichess judges) drop from ``before``
    to ``after``; None when either score is a mate (then :func:`judge` goes by the mates).

    >>> cp = lambda c: chess.engine.PovScore(chess.engine.Cp(c), chess.WHITE)
    >>> round(chance_drop(cp(50), cp(-150), chess.WHITE), 3), chance_drop(cp(0), cp(0), chess.BLACK)
    (0.361, 0.0)
    """
    b, a = before.pov(mover), after.pov(mover)
    b_cp, a_cp = b.score(), a.score()
    if b_cp is None or a_cp is None:
        return None
    return winning_chances(b_cp, clamp=False) - winning_chances(a_cp, clamp=False)


def judge(before: chess.engine.PovScore, after: chess.engine.PovScore, mover: chess.Color) -> Judgment | None:
    """Judge a move by the evaluations before and after it, as Lichess does.

    Without mates on either side: the mover's winning chances (-1..1) dropping by :data:`INACCURACY_DROP` /
    :data:`MISTAKE_DROP` / :data:`BLUNDER_DROP` is an
    inaccuracy / mistake / blunder (Lichess does not clamp centipawns here). With mates: walking into a forced mate is a blunder (a mistake if the
    mover was already worse than -700 cp, an inaccuracy below -999); losing a forced mate is a blunder
    (a mistake if still above +700 cp after it, an inaccuracy above +999). Choosing a slower mate is no error.
    """
    drop = chance_drop(before, after, mover)
    if drop is not None:
        for threshold, judgment in _CHANCE_THRESHOLDS:
            if drop >= threshold:
                return judgment
        return None
    b, a = before.pov(mover), after.pov(mover)
    b_mate, a_mate = _mate_sign(b), _mate_sign(a)
    prev_cp = b.score() if b_mate == 0 else 0
    next_cp = a.score() if a_mate == 0 else 0
    assert prev_cp is not None and next_cp is not None
    if b_mate == 0 and a_mate < 0:  # mate created against the mover
        return Judgment.INACCURACY if prev_cp < -999 else Judgment.MISTAKE if prev_cp < -700 else Judgment.BLUNDER
    if b_mate > 0 and a_mate <= 0:  # a forced mate lost
        return Judgment.INACCURACY if next_cp > 999 else Judgment.MISTAKE if next_cp > 700 else Judgment.BLUNDER
    return None
