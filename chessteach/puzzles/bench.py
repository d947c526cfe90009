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
from dataclasses import dataclass
from pathlib import Path

from chessteach.engine import AnalysisCache, EngineLimit, EnginePool
from chessteach.engine.bench import stockfish_bench_nps
from chessteach.engine.config import EngineConfig
from chessteach.puzzles.mine import ONLY_MOVE_MARGIN, MineProgress, MineResult, mine_puzzles


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
            result = mine_puzzles(pgn, pool, margin=margin, progress=progress)
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
