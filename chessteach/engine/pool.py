"""A pool of Stockfish processes: positions in, analyses out, in input order.

One process per worker, each with ``Threads=1`` and a fixed node limit, so results are reproducible.
The unit of work is a *game*: a sequence of positions that one process analyses in order, its hash kept
between them and cleared (``ucinewgame``) between games. Finished analyses go to the
:class:`~chessteach.engine.cache.AnalysisCache`, so a rerun does no engine work for them.

A process that dies or hangs is killed and restarted, and its position retried once; a position that
fails twice is reported in :attr:`EnginePool.failures` and the run goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import queue
import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import chess
import chess.engine

from chessteach.engine.analysis import Analysis, EngineLimit, engine_board, position_key
from chessteach.engine.cache import AnalysisCache
from chessteach.engine.config import EngineConfig, load_config

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` after each position, from the calling thread."""

DEFAULT_NODES = 250_000
"""The default node limit per position for game review (see BENCHMARKS.md for the measurement behind it)."""

MIN_SPLIT = 8
"""Fewer games than workers: the longest is split into contiguous parts of at least this many positions, so that
no engine waits while another works through a whole game alone."""


def share_out(
    todo: Sequence[tuple[int, list[tuple[int, chess.Board]]]], workers: int
) -> list[tuple[int, list[tuple[int, chess.Board]]]]:
    """The jobs for ``workers`` engines: one per game, and while there are fewer jobs than engines, the longest
    job halved (contiguous halves, so the engine keeps its hash within each; none shorter than
    :data:`MIN_SPLIT`).

    >>> jobs = share_out([(0, [(i, chess.Board()) for i in range(40)])], workers=2)
    >>> [(game, [i for i, _ in part][0], len(part)) for game, part in jobs]
    [(0, 0, 20), (0, 20, 20)]
    """
    jobs = list(todo)
    while jobs and len(jobs) < workers:
        longest = max(range(len(jobs)), key=lambda i: len(jobs[i][1]))
        game, pending = jobs[longest]
        if len(pending) < 2 * MIN_SPLIT:
            break
        half = len(pending) // 2
        jobs[longest : longest + 1] = [(game, pending[:half]), (game, pending[half:])]
    return jobs


@dataclass(frozen=True)
class PositionFailure:
    """A position the engine could not analyse, twice."""

    game: int
    index: int
    fen: str
    error: str


def _engine_errors() -> tuple[type[BaseException], ...]:
    return (chess.engine.EngineError, chess.engine.EngineTerminatedError, TimeoutError, OSError, RuntimeError)


class _Worker:
    """One thread that owns one engine process at a time."""

    def __init__(self, pool: EnginePool, number: int) -> None:
        self.pool = pool
        self.number = number
        self.engine: chess.engine.SimpleEngine | None = None
        self.thread = threading.Thread(target=self._run, name=f"chessteach-engine-{number}", daemon=True)
        self.thread.start()

    @property
    def pid(self) -> int | None:
        engine = self.engine
        if engine is None:
            return None
        try:
            return int(engine.transport.get_pid())
        except Exception:  # transport already closed
            return None

    def _start(self) -> chess.engine.SimpleEngine:
        cfg = self.pool.config
        # setpgrp: Ctrl-C in the terminal reaches chessteach, which then closes its engines in order.
        engine = chess.engine.SimpleEngine.popen_uci(cfg.path, timeout=cfg.timeout, setpgrp=True)
        engine.configure({k: v for k, v in cfg.options.items() if k.lower() not in ("multipv", "ponder")})
        self.pool._on_engine_started(engine)
        return engine

    def kill(self) -> None:
        engine, self.engine = self.engine, None
        if engine is None:
            return
        pid = None
        with contextlib.suppress(Exception):
            pid = engine.transport.get_pid()
        if pid is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            engine.close()

    def _search(
        self, board: chess.Board, game: object, multipv: int, limit: EngineLimit
    ) -> list[chess.engine.InfoDict]:
        assert self.engine is not None
        engine = self.engine
        coro = asyncio.wait_for(
            engine.protocol.analyse(
                board,
                limit.to_chess(),
                multipv=multipv,
                game=game,
                info=chess.engine.INFO_BASIC | chess.engine.INFO_SCORE | chess.engine.INFO_PV,
            ),
            self.pool.timeout_for(limit),
        )
        future = asyncio.run_coroutine_threadsafe(coro, engine.protocol.loop)
        return future.result()

    def _run(self) -> None:
        pool = self.pool
        while True:
            job = pool._jobs.get()
            if job is None:
                break
            call, game_index, positions, multipv, limit = job
            game_token = object()  # a new game for the engine: python-chess sends ucinewgame
            for index, board in positions:
                if pool._stopping.is_set() or call != pool._call:
                    break
                result: Analysis | None = None
                error: BaseException | None = None
                for attempt in (1, 2):
                    try:
                        if self.engine is None:
                            self.engine = self._start()
                            game_token = object()
                        infos = self._search(board, game_token, multipv, limit)
                        result = Analysis.from_infos(board, infos, pool.engine_id)
                        break
                    except _engine_errors() as exc:
                        error = exc
                        if pool._stopping.is_set() or call != pool._call:
                            break
                        logger.warning(
                            "engine %d failed on %s (attempt %d): %s: %s; restarting it",
                            self.number, board.fen(), attempt, type(exc).__name__, exc,
                        )
                        self.kill()
                pool._results.put((call, game_index, index, board, result, error))
        self.kill()


class EnginePool:
    """Analyse many positions with several engine processes.

    >>> with EnginePool(limit=EngineLimit(nodes=10_000), workers=1) as pool:  # doctest: +SKIP
    ...     [analysis] = pool.analyse([chess.Board()])
    """

    def __init__(
        self,
        *,
        limit: EngineLimit | None = None,
        workers: int | None = None,
        config: EngineConfig | None = None,
        engine: str | None = None,
        options: dict[str, object] | None = None,
        cache: AnalysisCache | None = None,
    ) -> None:
        self.config = config if config is not None else load_config(engine, overrides=options)
        if config is not None and options:
            self.config = EngineConfig(config.path, {**config.options, **options}, config.timeout)
        self.limit = limit or EngineLimit(nodes=DEFAULT_NODES)
        self.workers = max(1, workers if workers is not None else (os.cpu_count() or 1))
        self.cache = cache
        self.failures: list[PositionFailure] = []
        self.engines_started = 0
        self.searches = 0
        """Positions the engines searched (cache hits and rule-scored positions not counted)."""
        self.nodes_searched = 0
        """Nodes the engines reported for those searches."""
        self._engine_name: str | None = cache.engine_name(self.config.path) if cache is not None else None
        self._jobs: queue.Queue[tuple[int, int, list[tuple[int, chess.Board]], int, EngineLimit] | None] = (
            queue.Queue()
        )
        self._results: queue.Queue[
            tuple[int, int, int, chess.Board, Analysis | None, BaseException | None]
        ] = queue.Queue()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[_Worker] = []
        self._call = 0

    def timeout_for(self, limit: EngineLimit) -> float:
        """Seconds one search may take before its process counts as hung.

        The configured timeout plus the time the limit itself allows (a node limit is budgeted at a
        pessimistic 100k nodes/s; a depth limit gets ten times the timeout).
        """
        base = self.config.timeout
        if limit.nodes is not None:
            return base + limit.nodes / 100_000
        if limit.depth is not None:
            return base * 10
        return base + (limit.time or 0)

    # -- identity ---------------------------------------------------------------------------------

    @property
    def engine_id(self) -> str:
        """The engine's name and version plus the options that can change its results (part of cache keys)."""
        if self._engine_name is None:
            engine = chess.engine.SimpleEngine.popen_uci(self.config.path, timeout=self.config.timeout)
            try:
                self._on_engine_started(engine)
            finally:
                engine.quit()
        return f"{self._engine_name} [{self.config.options_key}]"

    def _on_engine_started(self, engine: chess.engine.SimpleEngine) -> None:
        with self._lock:
            self.engines_started += 1
            if self._engine_name is None:
                self._engine_name = engine.id.get("name", os.path.basename(self.config.path))
                if self.cache is not None and threading.current_thread() is threading.main_thread():
                    self.cache.remember_engine(self.config.path, self._engine_name)

    def engine_pids(self) -> list[int]:
        """Process ids of the engines running now."""
        return [pid for pid in (w.pid for w in self._threads) if pid is not None]

    # -- work -------------------------------------------------------------------------------------

    def analyse(
        self,
        boards: Sequence[chess.Board],
        *,
        multipv: int = 1,
        progress: Progress | None = None,
        limit: EngineLimit | None = None,
    ) -> list[Analysis | None]:
        """Analyse independent positions (each one its own game: the hash is cleared before each)."""
        games = self.analyse_games([[b] for b in boards], multipv=multipv, progress=progress, limit=limit)
        return [g[0] for g in games]

    def analyse_games(
        self,
        games: Sequence[Sequence[chess.Board]],
        *,
        multipv: int = 1,
        progress: Progress | None = None,
        on_game_done: Callable[[int], None] | None = None,
        limit: EngineLimit | None = None,
    ) -> list[list[Analysis | None]]:
        """Analyse the positions of each game, in order, one process per game at a time (with fewer games than
        workers, the longest games are split in contiguous parts, see :func:`share_out`).

        Returns, for each game, an analysis per position in input order; ``None`` where the engine failed
        twice (see :attr:`failures`). Positions without legal moves are scored from the rules alone.
        ``on_game_done(index)`` is called (from the calling thread) as each game is complete. ``limit``
        overrides the pool's limit for this call.
        """
        limit = limit or self.limit
        if multipv < 1:
            raise ValueError(f"multipv must be at least 1, got {multipv}")
        # Boards go as bare FENs, unless their history holds repeated positions (see engine_board): the cache
        # key (position_key) then names those, the only history that changes the engine's search.
        prepared = [[engine_board(b) for b in game] for game in games]
        results: list[list[Analysis | None]] = [[None] * len(g) for g in prepared]
        total = sum(len(g) for g in prepared)
        done = 0
        engine_id = self.engine_id  # from the cache when this binary is known; else one short-lived process
        search_limit = limit.key

        todo: list[tuple[int, list[tuple[int, chess.Board]]]] = []
        for gi, game in enumerate(prepared):
            keys = [position_key(b) for b in game]
            cached = self.cache.get_many(keys, engine_id, search_limit, multipv) if self.cache is not None else {}
            pending: list[tuple[int, chess.Board]] = []
            for pi, (board, key) in enumerate(zip(game, keys, strict=True)):
                if key in cached:
                    results[gi][pi] = _with_fen(cached[key], board)
                elif not any(board.generate_legal_moves()):
                    results[gi][pi] = Analysis.terminal(board, engine_id)
                else:
                    pending.append((pi, board))
            done += len(game) - len(pending)
            if pending:
                todo.append((gi, pending))
            elif on_game_done is not None:
                on_game_done(gi)
        if progress is not None:
            progress(done, total)
        if not todo:
            return results
        remaining = {gi: len(pending) for gi, pending in todo}

        self._call += 1
        call = self._call
        jobs = share_out(todo, self.workers)
        self._ensure_workers(min(self.workers, len(jobs)))
        for gi, pending in jobs:
            self._jobs.put((call, gi, pending, multipv, limit))
        outstanding = sum(len(p) for _, p in todo)
        try:
            while outstanding:
                try:
                    item = self._results.get(timeout=0.25)
                except queue.Empty:
                    if not any(w.thread.is_alive() for w in self._threads):
                        raise RuntimeError("all engine workers stopped unexpectedly") from None
                    continue
                r_call, gi, pi, board, analysis, error = item
                if r_call != call:
                    continue
                outstanding -= 1
                done += 1
                if analysis is None:
                    failure = PositionFailure(gi, pi, board.fen(), f"{type(error).__name__}: {error}")
                    self.failures.append(failure)
                    logger.error("gave up on game %d position %d (%s): %s", gi, pi, board.fen(), failure.error)
                else:
                    results[gi][pi] = analysis
                    self.searches += 1
                    self.nodes_searched += analysis.nodes
                    if self.cache is not None:
                        self.cache.put(position_key(board), search_limit, multipv, analysis)
                if progress is not None:
                    progress(done, total)
                remaining[gi] -= 1
                if remaining[gi] == 0 and on_game_done is not None:
                    on_game_done(gi)
        except BaseException:
            # Ctrl-C or an error: keep what was computed, stop the engines, leave the cache consistent.
            self._abort()
            raise
        finally:
            if self.cache is not None:
                self.cache.commit()
        return results

    def _ensure_workers(self, n: int) -> None:
        while len(self._threads) < n:
            self._threads.append(_Worker(self, len(self._threads)))

    def _abort(self) -> None:
        self._call += 1  # outstanding jobs of the aborted call are skipped
        with contextlib.suppress(queue.Empty):
            while True:
                self._jobs.get_nowait()
        for worker in self._threads:
            worker.kill()

    def close(self) -> None:
        """Stop every engine process and worker thread."""
        self._stopping.set()
        with contextlib.suppress(queue.Empty):
            while True:
                self._jobs.get_nowait()
        for _ in self._threads:
            self._jobs.put(None)
        for worker in self._threads:
            worker.kill()
        for worker in self._threads:
            worker.thread.join(timeout=10)
        self._threads.clear()
        if self.cache is not None:
            self.cache.commit()

    def __enter__(self) -> EnginePool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _with_fen(analysis: Analysis, board: chess.Board) -> Analysis:
    """A cached analysis re-labelled with this board's full FEN (the cache key drops the move counters)."""
    if analysis.fen == board.fen():
        return analysis
    return Analysis(board.fen(), analysis.lines, analysis.nodes, analysis.depth, analysis.engine)
