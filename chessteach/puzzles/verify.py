"""Verifying puzzles with the engine.

A puzzle is verified when, at each of the solver's moves:

- the move mates at once (any mating move is as good as the listed one), or it is the engine's best move;
- every alternative is at least a blunder on Lichess's scale: it loses at least 0.3 winning chances
  (15 win-% points) against the solution; in a forced mate, every alternative loses the mate or
  lengthens it;

and the line keeps the advantage to its end: the solver's winning chances after the last solver move are
not a blunder's worth (0.3) below those after the first.

Lichess generated its puzzles with a stricter margin (0.7) at 25-40 M nodes with older Stockfish versions;
with Stockfish 15.1's evaluation scale that margin rejects about half of Lichess's own puzzles, so the
verifier uses Lichess's blunder threshold instead (see BENCHMARKS.md). Mining may keep a stricter margin.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import chess
import chess.engine

from chessteach.batches import map_batches
from chessteach.engine import Analysis, EnginePool, score_chances
from chessteach.engine.pool import Progress
from chessteach.engine.score import BLUNDER_DROP
from chessteach.puzzles.puzzle import Puzzle, mates_at_once

logger = logging.getLogger(__name__)

BLUNDER_MARGIN = BLUNDER_DROP
"""Winning chances (-1..1) an alternative must lose against the solution: Lichess's blunder threshold
(:data:`~chessteach.engine.score.BLUNDER_DROP`)."""

DEFAULT_VERIFY_NODES = 1_000_000

PUZZLE_BATCH = 1000
"""Puzzles worked on at a time by the commands that stream a puzzle file (:func:`verify_batches`)."""


@dataclass(frozen=True)
class StepCheck:
    """The check of one solver move."""

    index: int
    move: str
    ok: bool
    reason: str
    score: chess.engine.Score | None = None  # the solution's score, solver's point of view
    alternative: str | None = None
    alternative_score: chess.engine.Score | None = None


@dataclass
class Verdict:
    """Whether a puzzle is verified, why, and the engine's view of its solution."""

    puzzle_id: str
    verified: bool
    reason: str
    steps: list[StepCheck] = field(default_factory=list)

    @property
    def solution_score(self) -> chess.engine.Score | None:
        """The engine's score of the first solver move (solver's point of view), None if it mates at once."""
        return self.steps[0].score if self.steps else None


def mate_for(score: chess.engine.Score) -> int | None:
    """Moves to mate when the score is a forced mate for its own side, else None."""
    mate = score.mate()
    return mate if mate is not None and mate > 0 else None


def _alternative_ok(best: chess.engine.Score, alternative: chess.engine.Score) -> bool:
    best_mate = mate_for(best)
    if best_mate is not None:
        alt_mate = mate_for(alternative)
        return alt_mate is None or alt_mate > best_mate
    drop = score_chances(best) - score_chances(alternative)
    return drop >= BLUNDER_MARGIN - 1e-12


def solver_positions(puzzle: Puzzle) -> list[tuple[int, chess.Board, chess.Move]]:
    """The solver's moves that need the engine (those that do not mate at once), with their positions."""
    out = []
    for i, (board, move) in enumerate(puzzle.boards()):
        if i % 2 == 0 and not mates_at_once(board, move):
            out.append((i // 2, board, move))
    return out


def check_step(index: int, board: chess.Board, move: chess.Move, analysis: Analysis) -> StepCheck:
    """Check one solver move against a multipv >= 2 analysis of the position before it."""
    solver = board.turn
    lines = analysis.lines
    best = lines[0]
    best_score = best.score.pov(solver)
    san = board.san(move)
    if best.move != move:
        alt_san = board.san(best.move) if best.move is not None else "?"
        solution_line = next((line for line in lines if line.move == move), None)
        if solution_line is not None and solution_line.score.pov(solver) == best_score:
            reason = f"{alt_san} is as good as the solution {san} ({best_score})"
        else:
            reason = f"the engine prefers {alt_san} ({best_score}) to the solution {san}"
        return StepCheck(index, san, False, reason, None, alt_san, best_score)
    if len(lines) < 2:  # the only legal move
        return StepCheck(index, san, True, "only move", best_score)
    alt = lines[1]
    alt_score = alt.score.pov(solver)
    alt_san = board.san(alt.move) if alt.move is not None else "?"
    if mates_at_once(board, alt.move) if alt.move is not None else False:
        # The solution does not mate at once but an alternative does: the solution cannot be the best.
        return StepCheck(index, san, False, f"{alt_san} mates at once", best_score, alt_san, alt_score)
    if not _alternative_ok(best_score, alt_score):
        what = "keeps the mate as fast" if mate_for(best_score) else "is not a blunder"
        return StepCheck(
            index, san, False, f"{alt_san} ({alt_score}) {what} against {san} ({best_score})", best_score, alt_san,
            alt_score,
        )
    return StepCheck(index, san, True, "ok", best_score, alt_san, alt_score)


def verdict(puzzle: Puzzle, analyses: Sequence[Analysis | None]) -> Verdict:
    """Judge a puzzle from the analyses of its :func:`solver_positions` (in that order)."""
    positions = solver_positions(puzzle)
    if not puzzle.solver_moves:  # Moves holds only the setup move: there is nothing to verify
        return Verdict(puzzle.id, False, "no move for the solver: Moves holds only the setup move")
    if len(analyses) != len(positions):
        raise ValueError(f"puzzle {puzzle.id}: expected {len(positions)} analyses, got {len(analyses)}")
    steps: list[StepCheck] = []
    for (index, board, move), analysis in zip(positions, analyses, strict=True):
        if analysis is None:
            return Verdict(puzzle.id, False, f"move {index + 1}: the engine failed on this position", steps)
        step = check_step(index, board, move, analysis)
        steps.append(step)
        if not step.ok:
            return Verdict(puzzle.id, False, f"move {index + 1} {step.move}: {step.reason}", steps)
    scored = [s.score for s in steps if s.score is not None]
    if len(scored) >= 2:
        first, last = scored[0], scored[-1]
        if mate_for(first) is None and mate_for(last) is None:
            drop = score_chances(first) - score_chances(last)
            if drop >= BLUNDER_MARGIN:
                return Verdict(puzzle.id, False, f"the line loses the advantage ({first} -> {last})", steps)
    return Verdict(puzzle.id, True, "ok", steps)


def verify_puzzles(
    puzzles: Sequence[Puzzle],
    pool: EnginePool,
    *,
    progress: Progress | None = None,
    on_puzzle_done: Callable[[int], None] | None = None,
) -> list[Verdict]:
    """Verify puzzles through the pool (multipv 2; each puzzle's positions share a hash, like a game).
    ``on_puzzle_done(index)`` is called as each puzzle's positions are done."""
    positions = [solver_positions(p) for p in puzzles]
    games = [[board for _, board, _ in steps] for steps in positions]
    analyses = pool.analyse_games(games, multipv=2, progress=progress, on_game_done=on_puzzle_done)
    return [verdict(p, a) for p, a in zip(puzzles, analyses, strict=True)]


def verify_batches(
    puzzles: Iterable[Puzzle],
    pool: EnginePool,
    *,
    size: int | None = None,
    progress: Progress | None = None,
    on_puzzle_done: Callable[[int], None] | None = None,
) -> Iterator[list[tuple[Puzzle, Verdict]]]:
    """Verify a stream of puzzles a batch at a time (``size``, default :data:`PUZZLE_BATCH`): yields each batch's
    puzzles with their verdicts, in order, so that the caller writes them before the next batch is read.
    ``progress(done, total)`` counts positions over every batch so far; ``on_puzzle_done(index)`` is called with a
    puzzle's index in the stream as its positions are done."""

    def work(batch: list[Puzzle], batch_progress: Progress, done: Callable[[int], None] | None) -> list[Verdict]:
        return verify_puzzles(batch, pool, progress=batch_progress, on_puzzle_done=done)

    yield from map_batches(puzzles, work, size=size or PUZZLE_BATCH, progress=progress, on_done=on_puzzle_done)
