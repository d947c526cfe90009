"""The engine benchmark: pool throughput against Stockfish's own single-thread speed, measured side by side.

The physical limit of a pool of ``W`` single-thread processes at ``N`` nodes per position is
``nps x W / N`` positions per second, where ``nps`` is Stockfish's single-thread nodes/s from its own
``bench`` command, run in the same process just before. The ratio of the measured rate to that limit
shows what the pool, python-chess and the cache cost on top of the search itself.
"""

from __future__ import annotations

import logging
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import chess
import chess.engine

from chessteach.engine.analysis import EngineLimit
from chessteach.engine.cache import AnalysisCache
from chessteach.engine.config import EngineConfig
from chessteach.engine.pool import EnginePool, Progress

logger = logging.getLogger(__name__)


def stockfish_bench_nps(path: str, *, hash_mb: int = 16, depth: int = 13) -> int:
    """Single-thread nodes/s from Stockfish's ``bench`` command (its 48 built-in positions)."""
    proc = subprocess.run(
        [path, "bench", str(hash_mb), "1", str(depth), "default", "depth"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    match = re.search(r"Nodes/second\s*:\s*(\d+)", proc.stderr + proc.stdout)
    if match is None:
        raise RuntimeError(f"{path} bench printed no 'Nodes/second' line (exit code {proc.returncode})")
    return int(match.group(1))


@dataclass(frozen=True)
class EngineBenchResult:
    positions: int
    nodes: int
    workers: int
    seconds: float
    nodes_searched: int
    single_thread_nps: int
    cached_seconds: float
    failures: int
    solo_positions: int
    solo_seconds: float
    solo_nodes: int

    @property
    def positions_per_s(self) -> float:
        return self.positions / self.seconds

    @property
    def limit_positions_per_s(self) -> float:
        """Stockfish's single-thread nodes/s x workers / nodes per position."""
        return self.single_thread_nps * self.workers / self.nodes

    @property
    def ratio(self) -> float:
        return self.positions_per_s / self.limit_positions_per_s

    @property
    def pool_nps(self) -> float:
        return self.nodes_searched / self.seconds

    @property
    def node_ratio(self) -> float:
        """Nodes actually searched per second by the pool against ``nps x workers``.

        Stricter than :attr:`ratio`: a position whose search ends early (a forced mate found before the
        node limit) does not count as a full position's work.
        """
        return self.pool_nps / (self.single_thread_nps * self.workers)

    @property
    def solo_positions_per_s(self) -> float:
        return self.solo_positions / self.solo_seconds

    @property
    def scaling_ratio(self) -> float:
        """Pool rate against ``workers x`` the rate of one bare engine on the same positions, no pool, no cache."""
        return self.positions_per_s / (self.workers * self.solo_positions_per_s)


def run_engine_bench(
    boards: list[chess.Board],
    *,
    config: EngineConfig,
    nodes: int,
    workers: int,
    solo_positions: int | None = None,
    progress: Progress | None = None,
) -> EngineBenchResult:
    """Measure, one after the other in this process: Stockfish's own ``bench`` speed; one bare engine
    (python-chess, no pool, no cache) on the same boards (or the first ``solo_positions``); the pool on all ``boards``
    (each its own game) with a fresh cache; and the same run again, served from the cache."""
    nps = stockfish_bench_nps(config.path)
    logger.info("Stockfish bench: %d nodes/s on one thread", nps)
    limit = EngineLimit(nodes=nodes)
    solo_boards = boards if solo_positions is None else boards[:solo_positions]
    solo_seconds, solo_nodes = solo_run(config, solo_boards, limit)
    with tempfile.TemporaryDirectory() as tmp:
        cache_file = Path(tmp) / "bench.sqlite"
        with AnalysisCache(cache_file) as cache, EnginePool(
            limit=limit, workers=workers, config=config, cache=cache
        ) as pool:
            _ = pool.engine_id  # learn the engine's name before the clock starts
            start = time.perf_counter()
            results = pool.analyse(boards, progress=progress)
            seconds = time.perf_counter() - start
            failures = len(pool.failures)
        searched = sum(a.nodes for a in results if a is not None)
        with AnalysisCache(cache_file) as cache, EnginePool(
            limit=limit, workers=workers, config=config, cache=cache
        ) as pool:
            start = time.perf_counter()
            pool.analyse(boards)
            cached_seconds = time.perf_counter() - start
            if pool.engines_started:
                raise RuntimeError("the cached rerun started an engine: the cache missed")
    return EngineBenchResult(
        positions=len(boards),
        nodes=nodes,
        workers=workers,
        seconds=seconds,
        nodes_searched=searched,
        single_thread_nps=nps,
        cached_seconds=cached_seconds,
        failures=failures,
        solo_positions=len(solo_boards),
        solo_seconds=solo_seconds,
        solo_nodes=solo_nodes,
    )


def solo_run(config: EngineConfig, boards: list[chess.Board], limit: EngineLimit) -> tuple[float, int]:
    """One engine analysing ``boards`` serially through python-chess alone: the baseline for the pool."""
    engine = chess.engine.SimpleEngine.popen_uci(config.path)
    try:
        engine.configure(config.options)
        start = time.perf_counter()
        nodes = 0
        for board in boards:
            info = engine.analyse(board, limit.to_chess(), game=object())
            nodes += int(info.get("nodes", 0))
        return time.perf_counter() - start, nodes
    finally:
        engine.quit()


@dataclass(frozen=True)
class ClusterBenchResult:
    """The pool on Ray against the local pool, run alternately on the same positions (see :func:`run_cluster_bench`)."""

    positions: int
    nodes: int
    workers: int
    local_seconds: tuple[float, ...]
    ray_seconds: tuple[float, ...]
    ray_start_seconds: float
    """Joining or starting the cluster and starting its actors (not part of the throughput)."""
    mismatches: int
    """Positions whose Ray analysis differs from the local one (lines, scores, nodes, depth or engine)."""
    nodes_on_ray: int

    @property
    def ratio(self) -> float:
        """Ray's positions/s over the local pool's, from the mean time of each."""
        return (sum(self.local_seconds) / len(self.local_seconds)) / (sum(self.ray_seconds) / len(self.ray_seconds))


def run_cluster_bench(
    boards: list[chess.Board],
    *,
    config: EngineConfig,
    nodes: int,
    workers: int,
    address: str | None = None,
    rounds: int = 2,
    progress: Progress | None = None,
) -> ClusterBenchResult:
    """The local pool and the Ray pool (:class:`~chessteach.engine.cluster.RayEnginePool`, ``workers`` actors on
    the cluster ``address`` names) on the same boards, no cache, alternately ``rounds`` times each (local first),
    timed from the first search to the last answer; every Ray analysis is compared with the local one."""
    from chessteach.engine.cluster import RayEnginePool  # Ray only when asked for

    limit = EngineLimit(nodes=nodes)
    local_seconds: list[float] = []
    ray_seconds: list[float] = []
    start = time.perf_counter()
    with RayEnginePool(address=address, limit=limit, workers=workers, config=config) as ray_pool, EnginePool(
        limit=limit, workers=workers, config=config
    ) as local_pool:
        ray_pool.analyse(boards[:workers])  # start every actor (and its engine) before the clock
        ray_start = time.perf_counter() - start
        local_pool.analyse(boards[:workers])
        mismatches = 0
        for _ in range(rounds):
            start = time.perf_counter()
            local = local_pool.analyse(boards, progress=progress)
            local_seconds.append(time.perf_counter() - start)
            start = time.perf_counter()
            remote = ray_pool.analyse(boards, progress=progress)
            ray_seconds.append(time.perf_counter() - start)
            mismatches = max(mismatches, sum(a != b for a, b in zip(local, remote, strict=True)))
        nodes_on_ray = ray_pool.nodes_searched
    return ClusterBenchResult(
        positions=len(boards), nodes=nodes, workers=workers, local_seconds=tuple(local_seconds),
        ray_seconds=tuple(ray_seconds), ray_start_seconds=ray_start, mismatches=mismatches, nodes_on_ray=nodes_on_ray,
    )
