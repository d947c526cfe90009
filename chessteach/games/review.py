"""Reviewing a game move by move: evaluations, win%, Lichess judgments and accuracy.

Each position of the game is analysed once; the position after one move is the position before the
next, so ``n`` moves need ``n + 1`` analyses.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace

import chess
import chess.engine
import chess.pgn

from chessteach.batches import map_batches
from chessteach.concepts.facts import Fact
from chessteach.concepts.notation import legal_sans
from chessteach.concepts.phase import game_phase
from chessteach.engine import (
    Analysis,
    EnginePool,
    Judgment,
    clamp_cp,
    game_accuracy,
    judge,
    move_accuracy,
)
from chessteach.engine.pool import Progress
from chessteach.engine.score import score_win_percent
from chessteach.games.budget import AdaptiveBudget, adaptive_analyses
from chessteach.games.moments import MoveFacts, Refutation, is_critical, move_facts, refutation
from chessteach.games.read import GameRecord, game_inputs, game_positions

PHASES = ("opening", "middlegame", "endgame")

GAME_BATCH = 200
"""Games handed to the engine at a time by :func:`review_batches` (a few MB of reviews; the pool's workers share
out a batch's games, so a batch well above the workers' count keeps them all busy)."""

BEST_PV_PLIES = 8
"""How many plies of the engine's best line a review keeps (in SAN)."""

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MoveReview:
    """The engine's verdict on one move. Win% and centipawns are from the mover's point of view.

    At a critical moment, ``played_facts`` and ``best_facts`` are the checked facts of the move played and of
    the engine's best move, and ``refutation`` the opponent's best reply to the move played and the engine's
    line after it, with what it wins (:class:`~chessteach.games.moments.Refutation`).
    """

    ply: int
    san: str
    uci: str
    color: chess.Color
    fen_before: str
    eval_before: chess.engine.PovScore
    eval_after: chess.engine.PovScore
    win_before: float
    win_after: float
    accuracy: float
    cp_loss: int
    judgment: Judgment | None
    best_san: str | None
    best_pv_san: list[str]
    phase: str = "opening"
    critical: bool = False
    played_facts: MoveFacts | None = None
    best_facts: MoveFacts | None = None
    refutation: Refutation | None = None

    @property
    def move_number(self) -> int:
        return (self.ply + 1) // 2

    @property
    def win_drop(self) -> float:
        return self.win_before - self.win_after

    @property
    def facts(self) -> list[Fact]:
        """Every checked fact of the moment: the move played's, the best move's, then those along the refutation."""
        facts = [f for found in (self.played_facts, self.best_facts) if found is not None for f in found.all]
        return facts + (self.refutation.facts if self.refutation is not None else [])

    @property
    def concepts(self) -> list[str]:
        """The concepts of :attr:`facts`, each once, in order."""
        return list(dict.fromkeys(f.concept for f in self.facts if f.concept))


@dataclass
class SideStats:
    """Per side: Lichess accuracy, average centipawn loss, the judgments' counts and accuracy by phase.

    ``accuracy`` is Lichess's game accuracy; ``by_phase`` maps each phase the side moved in to the
    harmonic-and-weighted accuracy of its moves there (the same formula over that phase's moves).
    """

    accuracy: float | None
    acpl: float | None
    inaccuracies: int = 0
    mistakes: int = 0
    blunders: int = 0
    by_phase: dict[str, float] = field(default_factory=dict)


@dataclass
class GameReview:
    """A reviewed game: every move, both sides' statistics, and what could not be analysed."""

    headers: dict[str, str]
    moves: list[MoveReview]
    white: SideStats
    black: SideStats
    errors: list[str] = field(default_factory=list)
    number: int = 0

    @property
    def moments(self) -> list[MoveReview]:
        """The critical moments: mistakes, blunders and large swings."""
        return [m for m in self.moves if m.critical]

    def side(self, color: chess.Color) -> SideStats:
        return self.white if color == chess.WHITE else self.black


def _phase_accuracy(moves: Sequence[MoveReview], color: chess.Color) -> dict[str, float]:
    """Per phase, the mean of the arithmetic and the harmonic mean of the side's move accuracies there
    (Lichess's ``arithmeticAndHarmonicMean``, which its insights use per phase)."""
    out: dict[str, float] = {}
    for phase in PHASES:
        accs = [m.accuracy for m in moves if m.color == color and m.phase == phase]
        if accs:
            arithmetic = sum(accs) / len(accs)
            harmonic = len(accs) / sum(1 / max(1.0, a) for a in accs)
            out[phase] = (arithmetic + harmonic) / 2
    return out


def _side_stats(moves: Sequence[MoveReview], color: chess.Color, accuracy: float | None) -> SideStats:
    own = [m for m in moves if m.color == color]
    return SideStats(
        by_phase=_phase_accuracy(moves, color),
        accuracy=accuracy,
        acpl=(sum(m.cp_loss for m in own) / len(own)) if own else None,
        inaccuracies=sum(m.judgment is Judgment.INACCURACY for m in own),
        mistakes=sum(m.judgment is Judgment.MISTAKE for m in own),
        blunders=sum(m.judgment is Judgment.BLUNDER for m in own),
    )


def review_game(
    game: chess.pgn.Game,
    analyses: Sequence[Analysis | None],
    *,
    number: int = 0,
) -> GameReview:
    """Review a game from the analyses of its positions (``len(moves) + 1`` of them, in order).

    Each move gets its phase (Lichess's division, never going back), its judgment, and, at critical moments,
    the facts of the move played and of the best move, and the move's refutation (the engine's best line in
    the position after it, which is the next position's analysis). The review is data only: the moments' write-ups are
    composed above it (:func:`chessteach.teaching.moments.moment_writeups`). A move whose position before or
    after has no analysis (the engine failed twice) is skipped and noted in ``errors``.
    """
    boards, moves = game_positions(game)
    if len(analyses) != len(boards):
        raise ValueError(f"expected {len(boards)} analyses (moves + 1), got {len(analyses)}")
    start_ply = boards[0].ply()
    reviews: list[MoveReview] = []
    errors: list[str] = []
    white_cps: list[int] = []
    phase_index = 0
    for i, move in enumerate(moves):
        board, before, after = boards[i], analyses[i], analyses[i + 1]
        ply = start_ply + i + 1
        phase_index = max(phase_index, PHASES.index(game_phase(board)))
        if before is None or after is None:
            errors.append(f"ply {ply}: no engine analysis; move skipped")
            continue
        mover = board.turn
        eval_before, eval_after = before.score, after.score
        win_before = score_win_percent(eval_before, mover)
        win_after = score_win_percent(eval_after, mover)
        cp_before, cp_after = clamp_cp(eval_before.pov(mover)), clamp_cp(eval_after.pov(mover))
        white_cps.append(clamp_cp(eval_after.white()))
        best = before.best_move
        judgment = judge(eval_before, eval_after, mover)
        critical = is_critical(judgment, win_before, win_after)
        review = MoveReview(
                ply=ply,
                san=board.san(move),
                uci=move.uci(),
                color=mover,
                fen_before=board.fen(),
                eval_before=eval_before,
                eval_after=eval_after,
                win_before=win_before,
                win_after=win_after,
                accuracy=move_accuracy(win_before, win_after),
                cp_loss=max(0, cp_before - cp_after),
                judgment=judgment,
                best_san=board.san(best) if best is not None else None,
                best_pv_san=legal_sans(board, before.best.pv[:BEST_PV_PLIES]),
                phase=PHASES[phase_index],
                critical=critical,
            )
        if critical:
            played = move_facts(board, move, after.best_move)
            best_facts = (
                move_facts(board, best, before.best.pv[1] if len(before.best.pv) > 1 else None)
                if best is not None and best != move
                else None
            )
            review = replace(
                review, played_facts=played, best_facts=best_facts, refutation=refutation(board, move, after.best)
            )
        reviews.append(review)
    accuracy = game_accuracy(white_cps, start_color=boards[0].turn) if not errors else game_accuracy([])
    if errors:
        logger.warning("%s: %d move(s) without analysis; game accuracy not computed", _title(game), len(errors))
    return GameReview(
        number=number,
        headers=dict(game.headers),
        moves=reviews,
        white=_side_stats(reviews, chess.WHITE, accuracy.white),
        black=_side_stats(reviews, chess.BLACK, accuracy.black),
        errors=errors,
    )


def review_games(
    games: Sequence[chess.pgn.Game],
    pool: EnginePool,
    *,
    progress: Progress | None = None,
    on_game_done: Callable[[int], None] | None = None,
    numbers: Sequence[int] | None = None,
    budget: AdaptiveBudget | None = None,
) -> list[GameReview]:
    """Analyse every position of every game through the pool, then review each game.

    Every position is searched at the pool's node limit, or, with ``budget``, at its first step and deeper where
    a judgment could change (:mod:`chessteach.games.budget`); then each game is done once every step is over."""
    positions = [game_inputs(g) for g in games]
    if budget is None:
        analyses = pool.analyse_games(positions, progress=progress, on_game_done=on_game_done)
    else:
        analyses = adaptive_analyses(positions, pool, budget, progress=progress)
        if on_game_done is not None:
            for index in range(len(games)):
                on_game_done(index)
    numbers = list(numbers) if numbers is not None else list(range(1, len(games) + 1))
    return [review_game(g, a, number=n) for g, a, n in zip(games, analyses, numbers, strict=True)]


def review_batches(
    records: Iterable[GameRecord],
    pool: EnginePool,
    *,
    size: int | None = None,
    progress: Progress | None = None,
    on_game_done: Callable[[int], None] | None = None,
    budget: AdaptiveBudget | None = None,
) -> Iterator[list[tuple[GameRecord, GameReview]]]:
    """Review a stream of games (read, with a game each) a batch at a time (``size`` games, default
    :data:`GAME_BATCH`): yields each batch's records with their reviews, in order, so that the caller writes them
    before the next batch is read. ``progress(done, total)`` counts positions over every batch so far;
    ``on_game_done(index)`` is called with a game's index in the stream as its positions are done; ``budget`` is
    :func:`review_games`'s."""

    def work(batch: list[GameRecord], batch_progress: Progress, done: Callable[[int], None] | None) -> list[GameReview]:
        games = [r.game for r in batch if r.game is not None]
        if len(games) != len(batch):
            raise ValueError("review_batches reviews games: a record without one is the caller's to skip")
        return review_games(games, pool, progress=batch_progress, on_game_done=done, numbers=[r.number for r in batch],
                            budget=budget)

    yield from map_batches(records, work, size=size or GAME_BATCH, progress=progress, on_done=on_game_done)


def _title(game: chess.pgn.Game) -> str:
    h = game.headers
    return f"{h.get('White', '?')} - {h.get('Black', '?')}"


def format_score(score: chess.engine.PovScore) -> str:
    """White's point of view, as players write it: ``+0.35``, ``-1.20``, ``#3``, ``#-2``; a mate on the board
    as the result (``1-0`` or ``0-1``)."""
    if score.relative.is_mate() and score.relative.mate() == 0:
        return "1-0" if score.turn == chess.BLACK else "0-1"
    white = score.white()
    mate = white.mate()
    if mate is not None:
        return f"#{mate}"
    cp = white.score()
    assert cp is not None
    return f"{cp / 100:+.2f}"
