"""Spending a review's engine nodes where its judgments can change: an adaptive node budget.

A fixed budget searches every position of a game at the same node count, but most positions are nowhere near a
judgment's threshold: a move that keeps the evaluation, or one that throws a piece away, is judged the same at
a tenth of the nodes. An :class:`AdaptiveBudget` searches every position at its first step (:attr:`steps`), then
searches again, one step deeper each time (up to the full budget), only the positions of the moves whose judgment could still change:

- the drop of the mover's winning chances (:func:`~chessteach.engine.score.chance_drop`) lies within
  :attr:`~AdaptiveBudget.margin` of one of Lichess's thresholds (inaccuracy, mistake, blunder);
- a mate score on one side of the move and not on the other (walking into a mate, or losing one:
  :func:`~chessteach.engine.score.judge` then goes by the centipawns around 700 and 999, which a deeper search
  moves most);
- the engine's best move changed between a position's last two searches (its evaluation is not settled).

The positions of such a move (before and after it) go one step deeper, and the rounds go on until no move's
judgment is in doubt below the full budget. A position's analysis is its deepest search.

The policy is deterministic: what is searched again depends only on the analyses of the same game, each of which
depends on its position alone (the pool's fixed-node, fresh-state searches), so the same games give the same
analyses however many workers share the work, in any batch, and after a resume from the cache (which keeps
every step's searches under their own node limit).

>>> AdaptiveBudget(nodes=1_000_000).steps
(125000, 250000, 1000000)
>>> AdaptiveBudget(nodes=1_000_000, first=62_500).steps
(62500, 250000, 1000000)
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import chess

from chessteach.batches import RunningProgress
from chessteach.engine import Analysis, EngineInput, EngineLimit, EnginePool, chance_drop
from chessteach.engine.pool import Progress
from chessteach.engine.score import BLUNDER_DROP, INACCURACY_DROP, MISTAKE_DROP

logger = logging.getLogger(__name__)

THRESHOLDS = (INACCURACY_DROP, MISTAKE_DROP, BLUNDER_DROP)
"""Lichess's judgment thresholds on the mover's drop of winning chances (-1..1)."""

FIRST_SHARE = 8
"""By default the first step searches the full budget divided by this."""

STEP_FACTOR = 4
"""The steps above the first search the full budget divided by powers of this."""

MARGIN = 0.05
"""How near a threshold (winning chances, -1..1; 2.5 points of win%) a drop must be for the move's positions to be
searched deeper."""



@dataclass(frozen=True)
class AdaptiveBudget:
    """Up to ``nodes`` per position: ``first`` for every position (default ``nodes / FIRST_SHARE``), deeper
    :attr:`steps` for the moves whose judgment could change, by ``margin`` (see the module doc).

    >>> AdaptiveBudget(nodes=250_000, first=250_000).steps
    (250000,)
    """

    nodes: int
    first: int | None = None
    margin: float = MARGIN

    def __post_init__(self) -> None:
        if self.nodes < 1:
            raise ValueError(f"the node budget must be at least 1, got {self.nodes}")
        if self.first is not None and not 1 <= self.first <= self.nodes:
            raise ValueError(f"the first step's nodes must be between 1 and the budget ({self.nodes}), got {self.first}")
        if self.margin < 0:
            raise ValueError(f"the margin must not be negative, got {self.margin}")

    @property
    def steps(self) -> tuple[int, ...]:
        """The node counts of the steps, smallest first: the first step's, then the full budget divided by powers
        of :data:`STEP_FACTOR` above it, the full budget last (so budgets with different first steps share their
        deeper searches in the cache)."""
        first = self.first if self.first is not None else max(1, self.nodes // FIRST_SHARE)
        deeper = [self.nodes]
        while deeper[-1] // STEP_FACTOR > first:
            deeper.append(deeper[-1] // STEP_FACTOR)
        return (first, *reversed(deeper)) if first < self.nodes else (self.nodes,)

    @property
    def key(self) -> str:
        """The budget in a few words, for reports.

        >>> AdaptiveBudget(nodes=1_000_000).key
        'adaptive 125000..1000000 m0.05'
        """
        steps = self.steps
        return f"adaptive {steps[0]}..{steps[-1]} m{self.margin:g}"


def in_doubt(before: Analysis, after: Analysis, mover: chess.Color, margin: float) -> bool:
    """Whether the judgment of the move between these analyses could change with deeper searches: its drop of
    winning chances within ``margin`` of a threshold, or a mate score on one side of the move only.

    >>> from chessteach.engine import EngineLine
    >>> def at(score):
    ...     return Analysis("", [EngineLine(chess.engine.PovScore(score, chess.WHITE), [])], 1, 1, "")
    >>> cp, mate = chess.engine.Cp, chess.engine.Mate
    >>> in_doubt(at(cp(30)), at(cp(10)), chess.WHITE, 0.05), in_doubt(at(cp(30)), at(cp(-45)), chess.WHITE, 0.05)
    (False, True)
    >>> in_doubt(at(mate(3)), at(cp(800)), chess.WHITE, 0.05), in_doubt(at(mate(3)), at(mate(2)), chess.WHITE, 0.05)
    (True, False)
    """
    if not before.lines or not after.lines:
        return False
    drop = chance_drop(before.score, after.score, mover)
    if drop is None:  # a mate on one side of the move or both: settled only when both sides are mates
        return before.score.is_mate() != after.score.is_mate()
    return any(abs(drop - threshold) < margin for threshold in THRESHOLDS)


def adaptive_analyses(
    games: Sequence[Sequence[EngineInput]],
    pool: EnginePool,
    budget: AdaptiveBudget,
    *,
    progress: Progress | None = None,
    searches: Counter[int] | None = None,
) -> list[list[Analysis | None]]:
    """Analyse every position of each game under ``budget`` (see the module doc): for each game, the deepest
    analysis of each position, in order; None where the engine failed (the pool reports it).

    ``progress(done, total)`` counts the positions of every step; the total grows as the later steps choose
    their positions. ``searches``, when given, counts the searches the budget asks for at each step's node
    limit (served from the cache or not; positions without a legal move are scored by the rules, not counted).
    """
    steps = budget.steps
    running = RunningProgress(progress)
    analyses = pool.analyse_games(games, limit=EngineLimit(nodes=steps[0]), progress=running)
    running.next_call()
    if searches is not None:
        searches[steps[0]] += sum(1 for game in games for position in game if _searched(position))
    level = [[0] * len(game) for game in games]
    previous: list[list[Analysis | None]] = [[None] * len(game) for game in games]
    while True:
        # each round takes the positions in doubt one step deeper: one pool call per step they reach
        by_step: dict[int, dict[int, list[int]]] = {}
        for g, game in enumerate(games):
            for i in _deeper(game, analyses[g], previous[g], level[g], budget.margin, len(steps)):
                level[g][i] += 1
                by_step.setdefault(level[g][i], {}).setdefault(g, []).append(i)
        if not by_step:
            break
        for step, chosen in sorted(by_step.items()):
            order = sorted(chosen)
            found = pool.analyse_games(
                [[games[g][i] for i in chosen[g]] for g in order], limit=EngineLimit(nodes=steps[step]), progress=running
            )
            running.next_call()
            if searches is not None:
                searches[steps[step]] += sum(len(chosen[g]) for g in order)
            for g, results in zip(order, found, strict=True):
                for i, analysis in zip(chosen[g], results, strict=True):
                    previous[g][i] = analyses[g][i]
                    if analysis is not None:
                        analyses[g][i] = analysis
    deeper = sum(n > 0 for game in level for n in game)
    logger.debug("adaptive budget %s: %d of %d positions searched deeper", budget.key, deeper, sum(map(len, level)))
    return analyses


def _searched(position: EngineInput) -> bool:
    return any(position.board.generate_legal_moves())


def _deeper(
    game: Sequence[EngineInput],
    analyses: Sequence[Analysis | None],
    previous: Sequence[Analysis | None],
    level: Sequence[int],
    margin: float,
    steps: int,
) -> list[int]:
    """The positions of one game to search one step deeper: those of the moves in doubt (:func:`in_doubt`) and
    those whose best move changed at their last step, below the last step."""
    doubt: set[int] = set()
    for i in range(len(game) - 1):
        before, after = analyses[i], analyses[i + 1]
        if before is not None and after is not None and in_doubt(before, after, game[i].board.turn, margin):
            doubt.update((i, i + 1))
    for i, (analysis, last) in enumerate(zip(analyses, previous, strict=True)):
        if analysis is not None and last is not None and analysis.best_move != last.best_move:
            doubt.add(i)
    return sorted(i for i in doubt if level[i] + 1 < steps and analyses[i] is not None and _searched(game[i]))
