"""The game-review benchmark: a whole PGN reviewed at a fixed node limit, against the engine-bound limit.

The limit is the time the searches alone need: ``positions x nodes / (single-thread nodes/s x workers)``,
with Stockfish's own ``bench`` speed measured in the same run. The ratio is that time over the measured
one (1.0: the review costs nothing beyond the searches).
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from chessteach.engine import AnalysisCache, EngineLimit, EnginePool
from chessteach.engine.bench import stockfish_bench_nps
from chessteach.engine.config import EngineConfig
from chessteach.engine.pool import Progress
from chessteach.games.read import read_games
from chessteach.games.review import game_positions, review_games


@dataclass(frozen=True)
class ReviewBenchResult:
    games: int
    positions: int
    engine_positions: int
    nodes: int
    nodes_searched: int
    workers: int
    seconds: float
    single_thread_nps: int

    @property
    def games_per_minute(self) -> float:
        return 60 * self.games / self.seconds

    @property
    def limit_seconds(self) -> float:
        """positions x nodes / (nps x workers): the searches alone, at the full node limit."""
        return self.engine_positions * self.nodes / (self.single_thread_nps * self.workers)

    @property
    def ratio(self) -> float:
        return self.limit_seconds / self.seconds

    @property
    def node_ratio(self) -> float:
        """Nodes actually searched per second against ``nps x workers``."""
        return self.nodes_searched / self.seconds / (self.single_thread_nps * self.workers)


def run_review_bench(
    pgn: Path, *, config: EngineConfig, nodes: int, workers: int, progress: Progress | None = None
) -> ReviewBenchResult:
    """Review every readable game of ``pgn`` with a fresh cache; time it against the engine-bound limit."""
    nps = stockfish_bench_nps(config.path)
    games = [r.game for r in read_games(pgn) if r.game is not None and r.error is None]
    boards = [b for g in games for b in game_positions(g)[0]]
    engine_positions = sum(1 for b in boards if any(b.generate_legal_moves()))
    with tempfile.TemporaryDirectory() as tmp, AnalysisCache(Path(tmp) / "bench.sqlite") as cache, EnginePool(
        limit=EngineLimit(nodes=nodes), workers=workers, config=config, cache=cache
    ) as pool:
        _ = pool.engine_id
        start = time.perf_counter()
        reviews = review_games(games, pool, progress=progress)
        seconds = time.perf_counter() - start
        # Every distinct position was analysed once; read the nodes back from the cache.
        searched = 0
        seen = set()
        for board in boards:
            key = board.epd()
            if key in seen:
                continue
            seen.add(key)
            analysis = cache.get(key, pool.engine_id, pool.limit.key, 1)
            searched += analysis.nodes if analysis is not None else 0
    assert len(reviews) == len(games)
    return ReviewBenchResult(
        games=len(games),
        positions=len(boards),
        engine_positions=engine_positions,
        nodes=nodes,
        nodes_searched=searched,
        workers=workers,
        seconds=seconds,
        single_thread_nps=nps,
    )
