"""The mining benchmark: a PGN mined for puzzles at a fixed node limit, against the engine-bound limit.

The limit is the time the searches alone need: ``nodes searched / (single-thread nodes/s x workers)``, with
Stockfish's own ``bench`` speed measured in the same run. Mining searches more than one position per move
(the multipv-2 steps of each line, the opponent's replies and the verifier's checks), so the limit counts the
nodes the engines actually searched, read from the pool.
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import chess
import chess.pgn

from chessteach.engine import AnalysisCache, EngineLimit, EnginePool
from chessteach.engine.bench import stockfish_bench_nps
from chessteach.engine.config import EngineConfig
from chessteach.puzzles.mine import (
    ONLY_MOVE_MARGIN,
    RECHECK_FACTORS,
    MineProgress,
    MineResult,
    mine_puzzles,
    puzzle_id,
)
from chessteach.puzzles.puzzle import Puzzle


@dataclass(frozen=True)
class MineBenchResult:
    """A mining run with its timing and the engine work behind it."""

    result: MineResult
    nodes: int
    workers: int
    seconds: float
    searches: int
    nodes_searched: int
    single_thread_nps: int

    @property
    def good_games(self) -> int:
        return self.result.games - len(self.result.bad_games)

    @property
    def games_per_minute(self) -> float:
        return 60 * self.good_games / self.seconds if self.seconds else 0.0

    @property
    def verified_share(self) -> float:
        """Verified puzzles over the puzzles the lines gave (1.0 when none were found)."""
        return self.result.verified / self.result.found if self.result.found else 1.0

    @property
    def limit_seconds(self) -> float:
        """Nodes searched / (nps x workers): the searches alone at Stockfish's bench speed."""
        return self.nodes_searched / (self.single_thread_nps * self.workers)

    @property
    def limit_games_per_minute(self) -> float:
        return 60 * self.good_games / self.limit_seconds if self.limit_seconds else 0.0

    @property
    def ratio(self) -> float:
        return self.limit_seconds / self.seconds if self.seconds else 0.0

    def themes(self) -> Counter[str]:
        """How many verified puzzles carry each theme."""
        return Counter(theme for puzzle in self.result.puzzles for theme in puzzle.themes)


def run_mine_bench(
    pgn: Path,
    *,
    config: EngineConfig,
    nodes: int,
    workers: int,
    margin: float = ONLY_MOVE_MARGIN,
    cache: Path | None = None,
    progress: MineProgress | None = None,
    recheck: Sequence[int] = RECHECK_FACTORS,
) -> MineBenchResult:
    """Mine ``pgn`` and time it; ``cache`` keeps the analyses (default: a fresh temporary cache).

    With a cache that already holds some of the analyses the time is a resumed run's, not a cold one's.
    """
    nps = stockfish_bench_nps(config.path)
    with tempfile.TemporaryDirectory() as tmp:
        cache_path = cache if cache is not None else Path(tmp) / "mine.sqlite"
        with AnalysisCache(cache_path) as store, EnginePool(
            limit=EngineLimit(nodes=nodes), workers=workers, config=config, cache=store
        ) as pool:
            _ = pool.engine_id
            start = time.perf_counter()
            result = mine_puzzles(pgn, pool, margin=margin, progress=progress, recheck=recheck)
            seconds = time.perf_counter() - start
            searches, searched = pool.searches, pool.nodes_searched
    return MineBenchResult(
        result=result,
        nodes=nodes,
        workers=workers,
        seconds=seconds,
        searches=searches,
        nodes_searched=searched,
        single_thread_nps=nps,
    )


def puzzle_fragments(puzzles: Sequence[Puzzle]) -> str:
    """Lichess puzzles turned back into the games they came from, shortly: each puzzle as a game from its FEN
    (a ``FEN`` header), its setup move (the opponent's mistake) and its solution, one game per puzzle, in order.
    Mining such a game should find the puzzle again: the candidate is the position after the setup move.

    >>> mate = Puzzle(id="m1", fen="6k1/5ppp/8/8/8/8/5PPP/R5K1 b - - 0 1",
    ...               moves=[chess.Move.from_uci(m) for m in ("g8h8", "a1a8")])
    >>> print(puzzle_fragments([mate]).splitlines()[-1])
    1... Kh8 2. Ra8# 1-0
    """
    games = []
    for puzzle in puzzles:
        game = chess.pgn.Game()
        game.setup(chess.Board(puzzle.fen))
        game.headers["Event"] = f"Lichess puzzle {puzzle.id}"
        game.headers["Site"] = f"https://lichess.org/training/{puzzle.id}"
        node: chess.pgn.GameNode = game
        for move in puzzle.moves:
            node = node.add_variation(move)
        board = node.board()
        game.headers["Result"] = board.result(claim_draw=False) if board.is_game_over() else "*"
        games.append(str(game))
    return "\n\n".join(games) + "\n"


@dataclass(frozen=True)
class FragmentBenchResult:
    """Mining the fragments of Lichess puzzles (:func:`puzzle_fragments`): how many come back.

    ``recalled``: fragments from which a verified puzzle was mined at the setup move with Lichess's first solver
    move; ``found_at_setup``: fragments where the lines gave a puzzle at the setup move (before verification)."""

    bench: MineBenchResult
    fragments: int
    recalled: int
    found_at_setup: int
    missed: list[str]
    """The PuzzleIds not recalled."""

    @property
    def recall(self) -> float:
        return self.recalled / self.fragments if self.fragments else 0.0

    @property
    def precision(self) -> float:
        """Puzzles mined that the verifier accepts, over the puzzles the lines gave (the verifier's precision)."""
        return self.bench.verified_share


def run_fragment_bench(
    puzzles: Sequence[Puzzle],
    *,
    config: EngineConfig,
    nodes: int,
    workers: int,
    margin: float = ONLY_MOVE_MARGIN,
    cache: Path | None = None,
    progress: MineProgress | None = None,
    recheck: Sequence[int] = RECHECK_FACTORS,
) -> FragmentBenchResult:
    """Mine the fragments of ``puzzles`` (Lichess puzzles, with their setup moves; see :func:`run_mine_bench`) and
    count the puzzles that come back."""
    with tempfile.TemporaryDirectory() as tmp:
        pgn = Path(tmp) / "fragments.pgn"
        pgn.write_text(puzzle_fragments(puzzles), encoding="utf-8")
        bench = run_mine_bench(pgn, config=config, nodes=nodes, workers=workers, margin=margin, cache=cache,
                               progress=progress, recheck=recheck)
    mined = {(p.extra["SourceGame"], p.extra["SourcePly"]): p for p in bench.result.puzzles}
    recalled, missed = 0, []
    for number, puzzle in enumerate(puzzles, 1):
        got = mined.get((str(number), "1"))
        if got is not None and len(got.moves) > 1 and got.moves[1] == puzzle.moves[1]:
            recalled += 1
        else:
            missed.append(puzzle.id)
    at_setup = {puzzle_id(pgn.name, number, 1) for number in range(1, len(puzzles) + 1)}
    found_at_setup = sum(1 for p in bench.result.puzzles if p.id in at_setup) + sum(
        1 for v in bench.result.rejected if v.puzzle_id in at_setup
    )
    return FragmentBenchResult(bench, len(puzzles), recalled, found_at_setup, missed)
