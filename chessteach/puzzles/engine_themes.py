"""The themes only an engine can decide: ``advantage``, ``crushing``, ``equality`` and ``zugzwang``.

- Evaluation themes, for puzzles that do not end in mate, from the engine's score of the solution's first
  move (the solver's point of view): Lichess's thresholds, +600 cp for ``crushing`` and +200 cp for
  ``advantage`` (otherwise ``equality``: the solution saves the game), were set on the centipawn scale of
  the Stockfish versions that generated its puzzles (12-14: 208 internal units per pawn). Stockfish 15.1
  normalises its output to 361 units per pawn, so the same thresholds read +346 cp and +115 cp there
  (``x 208/361``). A mate puzzle takes none of them.
- ``zugzwang``: after one of the solver's moves, the opponent (not in check, with few moves) would be
  better off passing: the null move scores at least 0.3 winning chances better for them than their best
  real move.

The solution positions are analysed exactly as :func:`~chessteach.puzzles.verify.verify_puzzles` analyses
them (multipv 2, the same limit), so after a verification run their analyses come from the cache.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import chess

from chessteach.engine import EngineLimit, EnginePool, clamp_cp, win_chance
from chessteach.engine.pool import Progress
from chessteach.puzzles.puzzle import Puzzle
from chessteach.puzzles.verify import solver_positions

logger = logging.getLogger(__name__)

LICHESS_TO_SF15_CP = 208 / 361
"""Stockfish 12-14 centipawns (PawnValueEg 208) to Stockfish 15.1's normalised centipawns (361 per pawn)."""
CRUSHING_CP = round(600 * LICHESS_TO_SF15_CP)  # 346
ADVANTAGE_CP = round(200 * LICHESS_TO_SF15_CP)  # 115
ZUGZWANG_MARGIN = 0.3
ZUGZWANG_MAX_MOVES = 15
ZUGZWANG_NODES = 250_000
"""Nodes for each side of the zugzwang test (the position and the position after a pass)."""


def evaluation_theme(cp: int) -> str:
    """The evaluation theme of a solution worth ``cp`` centipawns to the solver.

    >>> evaluation_theme(400), evaluation_theme(200), evaluation_theme(40)
    ('crushing', 'advantage', 'equality')
    """
    if cp > CRUSHING_CP:
        return "crushing"
    if cp > ADVANTAGE_CP:
        return "advantage"
    return "equality"


def _zugzwang_candidates(puzzle: Puzzle) -> list[chess.Board]:
    """Positions after a solver's move where the opponent could be in zugzwang: not in check, few moves."""
    out = []
    for i, (board, move) in enumerate(puzzle.boards()):
        if i % 2:
            continue
        after = board.copy(stack=False)
        after.push(move)
        if after.is_check() or after.is_game_over() or after.legal_moves.count() > ZUGZWANG_MAX_MOVES:
            continue
        out.append(after)
    return out


def _passed(board: chess.Board) -> chess.Board:
    null = board.copy(stack=False)
    null.push(chess.Move.null())
    return chess.Board(null.fen())


def engine_themes(
    puzzles: Sequence[Puzzle],
    pool: EnginePool,
    *,
    progress: Progress | None = None,
    zugzwang_nodes: int = ZUGZWANG_NODES,
) -> dict[str, list[str]]:
    """The engine themes of each puzzle, by puzzle id (solutions at the pool's limit, zugzwang tests at
    ``zugzwang_nodes``)."""
    solution_positions = [[b for _, b, _ in solver_positions(p)] for p in puzzles]
    zugzwang_positions = [_zugzwang_candidates(p) for p in puzzles]
    pairs = [[x for b in boards for x in (b, _passed(b))] for boards in zugzwang_positions]
    n = len(puzzles)
    total = sum(map(len, solution_positions)) + sum(map(len, pairs))

    def first(done: int, _: int) -> None:
        if progress is not None:
            progress(done, total)

    def second(done: int, _: int) -> None:
        if progress is not None:
            progress(done + sum(map(len, solution_positions)), total)

    solutions = pool.analyse_games(solution_positions, multipv=2, progress=first)
    nulls = pool.analyse_games(pairs, progress=second, limit=EngineLimit(nodes=zugzwang_nodes))
    themes: dict[str, list[str]] = {}
    for i in range(n):
        puzzle, found = puzzles[i], []
        if not puzzle.final_board().is_checkmate() and solutions[i] and solutions[i][0] is not None:
            analysis = solutions[i][0]
            assert analysis is not None
            found.append(evaluation_theme(clamp_cp(analysis.score.pov(analysis.turn))))
        analyses = nulls[i]
        for j in range(0, len(analyses), 2):
            real, passed = analyses[j], analyses[j + 1]
            if real is None or passed is None:
                continue
            defender = real.turn
            gain = win_chance(passed.score, defender) - win_chance(real.score, defender)
            if gain >= ZUGZWANG_MARGIN:
                found.append("zugzwang")
                break
        themes[puzzle.id] = found
    return themes
