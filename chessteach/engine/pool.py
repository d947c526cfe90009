"""A pool of Stockfish processes: positions in, analyses out, in input order.

One process per worker, each with ``Threads=1`` and a fixed node limit, and every search started from a fresh
engine state (``ucinewgame``: hash and histories cleared), so an analysis depends on its input alone: the same
input gives the same output whatever ran before, however the work is shared out, after a restart or a resume.
The unit of work is a *game*, a sequence of positions one process analyses in order. Finished analyses go to
the :class:`~chessteach.engine.cache.AnalysisCache`, so a rerun does no engine work for them.

A process that dies or hangs (a search that outlives its timeout) is killed and restarted, and its position
retried once; a position that fails twice is reported in :attr:`EnginePool.failures` and the run goes on. A
watchdog replaces a worker whose thread dies or that stops answering, and hands its positions on: every
position ends in a result or a reported failure. A position whose worker stops twice fails with
:class:`~chessteach.errors.EngineFailedError`, and a pool whose workers keep failing raises it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

import chess
import chess.engine

from chessteach.engine.analysis import Analysis, EngineInput, EngineLimit
from chessteach.engine.cache import AnalysisCache
from chessteach.engine.config import EngineConfig, check_options, load_config
from chessteach.engine.process import engine_pid, identify_engine, kill_engine, start_engine
from chessteach.errors import EngineFailedError

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` after each position, from the calling thread."""

DEFAULT_NODES = 250_000
"""The default node limit per position for game review (see BENCHMARKS.md for the measurement behind it)."""

SearchState = Literal["position", "game"]
"""What an engine keeps between the positions of one job: ``"position"`` (the default) starts every search from a
fresh state (python-chess sends ``ucinewgame``, which clears Stockfish's hash and histories), so an analysis
depends on its input alone, whatever ran before it on that process, a restart, a resume from the cache or the
split of the work; ``"game"`` keeps the hash between the positions of a game (cleared between games), as earlier
versions did: its results depend on the run's history. ``chessteach bench reproducibility`` measures both."""

_T = TypeVar("_T")

WATCH_EVERY = 0.25
"""Seconds between two rounds of the pool's watchdog (see :meth:`EnginePool.analyse_games`)."""

MIN_SPLIT = 8
"""Fewer games than workers: the longest is split into contiguous parts of at least this many positions, so that
no engine waits while another works through a whole game alone."""


def share_out(todo: Sequence[tuple[int, list[_T]]], workers: int) -> list[tuple[int, list[_T]]]:
    """The jobs for ``workers`` engines: one per game, and while there are fewer jobs than engines, the longest
    job halved (none shorter than :data:`MIN_SPLIT`). Under the default search state (a fresh one for every
    position, :data:`SearchState`) any split gives the same results; the halves are contiguous for the ``"game"``
    state, which keeps the hash within each.

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


Answer = tuple[int, int, EngineInput, Analysis | None, BaseException | None]
"""One position's answer: (game index, position index, the input, the analysis or None, the error if it failed)."""

_Job = tuple[int, int, list[tuple[int, EngineInput]], int, EngineLimit]
"""What a worker takes: (call, game index, the positions as (index, input), multipv, limit)."""


class _Worker:
    """One thread that owns one engine process at a time."""

    def __init__(self, pool: EnginePool, number: int) -> None:
        self.pool = pool
        self.number = number
        self.engine: chess.engine.SimpleEngine | None = None
        self.job: _Job | None = None
        """The job it works on (None between jobs)."""
        self.last_answer = time.monotonic()
        """When it last took a job or answered a position (the watchdog's clock)."""
        self.retired = False
        """Set by the watchdog when the worker is replaced: it stops at the next position, its answers ignored."""
        self.thread = threading.Thread(target=self._run, name=f"chessteach-engine-{number}", daemon=True)
        self.thread.start()

    @property
    def pid(self) -> int | None:
        engine = self.engine
        return None if engine is None else engine_pid(engine)

    def _start(self) -> chess.engine.SimpleEngine:
        pool, cfg = self.pool, self.pool.config
        call = pool._call
        engine = start_engine(cfg.path, handshake_timeout=cfg.timeout, timeout=cfg.timeout)
        self.engine = engine  # from here on kill() (an abort, close) reaches it
        try:  # a process that is not handed back is killed here, whatever went wrong
            engine.configure(check_options(cfg.uci_options, engine.options, engine=engine.id.get("name", cfg.path)))
            pool._on_engine_started(engine)
            if pool._stopping.is_set() or pool._call != call:
                raise chess.engine.EngineTerminatedError("the pool was stopped while this engine started")
        except BaseException:
            if self.engine is engine:
                self.engine = None
            kill_engine(engine)
            raise
        return engine

    def kill(self) -> None:
        engine, self.engine = self.engine, None
        if engine is not None:
            kill_engine(engine)

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
        try:
            while not self.retired:
                job = pool._jobs.get()
                if job is None:
                    break
                if self.retired:  # replaced while it waited: the job belongs to another worker
                    pool._jobs.put(job)
                    break
                self.last_answer = time.monotonic()  # before the job: the watchdog reads them in this order
                self.job = job
                self._work(job)
                self.job = None  # not reached when the thread dies: the watchdog hands the rest of the job on
        finally:
            self.kill()

    def _work(self, job: _Job) -> None:
        pool = self.pool
        call, game_index, positions, multipv, limit = job
        game_token = object()  # a new game for the engine: python-chess sends ucinewgame
        for index, position in positions:
            if pool._stopping.is_set() or call != pool._call or self.retired:
                return
            if pool.search_state == "position":
                game_token = object()
            result: Analysis | None = None
            error: BaseException | None = None
            for attempt in (1, 2):
                try:
                    if self.engine is None:
                        self.engine = self._start()
                        game_token = object()
                    infos = self._search(position.engine_board(), game_token, multipv, limit)
                    result = Analysis.from_infos(position.board, infos, pool.engine_id)
                    break
                except Exception as exc:  # any error: the position is retried once on a new process, then reported
                    error = exc
                    if pool._stopping.is_set() or call != pool._call or self.retired:
                        return
                    logger.warning(
                        "engine %d failed on %s (attempt %d): %s: %s; restarting it",
                        self.number, position.board.fen(), attempt, type(exc).__name__, exc,
                    )
                    self.kill()
            self.last_answer = time.monotonic()
            pool._results.put((call, game_index, index, position, result, error))

class EnginePool:
    """Analyse many positions with several engine processes.

    >>> with EnginePool(limit=EngineLimit(nodes=10_000), workers=1) as pool:
    ...     [analysis] = pool.analyse([chess.Board()])
    >>> analysis.best_move in chess.Board().legal_moves
    True
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
        search_state: SearchState = "position",
        watchdog: float | None = None,
    ) -> None:
        if search_state not in ("position", "game"):
            raise ValueError(f"search_state must be 'position' or 'game', got {search_state!r}")
        self.search_state: SearchState = search_state
        self.watchdog = watchdog
        """Seconds a worker may hold a job without answering a position before it is replaced (None: from the
        timeouts, see :meth:`stall_seconds`)."""
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
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._results: queue.Queue[
            tuple[int, int, int, EngineInput, Analysis | None, BaseException | None]
        ] = queue.Queue()
        self.workers_replaced = 0
        """Workers the watchdog replaced (their thread died, or they stopped answering)."""
        self._numbers = 0
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

    def stall_seconds(self, limit: EngineLimit) -> float:
        """Seconds a worker may go without answering before the watchdog replaces it: :attr:`watchdog`, else two
        attempts of an engine start and a search (each with its own timeout) and 10 s more."""
        if self.watchdog is not None:
            return self.watchdog
        return 2 * (self.config.timeout + self.timeout_for(limit)) + 10

    def search_key(self, limit: EngineLimit | None = None) -> str:
        """The limit and the search-state policy as the cache stores them (both change the results).

        >>> EnginePool(limit=EngineLimit(nodes=1000), config=EngineConfig("stockfish")).search_key()
        'nodes=1000 state=position'
        """
        return f"{(limit or self.limit).key} state={self.search_state}"

    # -- identity ---------------------------------------------------------------------------------

    @property
    def engine_id(self) -> str:
        """The engine's name and version plus the options that can change its results (part of cache keys).

        The first use checks that the program is a UCI engine that takes the configured options (once per process,
        see :func:`~chessteach.engine.process.identify_engine`), raising :class:`~chessteach.errors.EngineStartError`
        or :class:`~chessteach.errors.EngineOptionError` before any work.
        """
        self._engine_name = identify_engine(self.config, self.cache)
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
        boards: Sequence[chess.Board | EngineInput],
        *,
        multipv: int = 1,
        progress: Progress | None = None,
        limit: EngineLimit | None = None,
    ) -> list[Analysis | None]:
        """Analyse independent positions (a board's move stack is its history, see :class:`EngineInput`)."""
        games = self.analyse_games([[b] for b in boards], multipv=multipv, progress=progress, limit=limit)
        return [g[0] for g in games]

    def analyse_games(
        self,
        games: Sequence[Sequence[chess.Board | EngineInput]],
        *,
        multipv: int = 1,
        progress: Progress | None = None,
        on_game_done: Callable[[int], None] | None = None,
        limit: EngineLimit | None = None,
    ) -> list[list[Analysis | None]]:
        """Analyse the positions of each game (boards, whose move stacks are their histories, or
        :class:`EngineInput`, see :func:`~chessteach.engine.analysis.line_inputs`).

        Under the default :data:`SearchState` each search starts from a fresh engine state, so each analysis
        depends on its input alone: how the work is shared out (:func:`share_out`), restarts and resumes from the
        cache change nothing. Returns, for each game, an analysis per position in input order; ``None`` where
        the engine failed twice (see :attr:`failures`). Positions without legal moves are scored from the rules
        alone. ``on_game_done(index)`` is called (from the calling thread) as each game is complete. ``limit``
        overrides the pool's limit for this call. Every position ends in a result or a failure: a worker whose
        thread dies or that stops answering (:meth:`stall_seconds`) is replaced and its positions handed on.
        """
        limit = limit or self.limit
        if multipv < 1:
            raise ValueError(f"multipv must be at least 1, got {multipv}")
        prepared = [[p if isinstance(p, EngineInput) else EngineInput.of(p) for p in game] for game in games]
        results: list[list[Analysis | None]] = [[None] * len(g) for g in prepared]
        total = sum(len(g) for g in prepared)
        done = 0
        engine_id = self.engine_id  # from the cache when this binary is known; else one short-lived process
        search_limit = self.search_key(limit)

        todo: list[tuple[int, list[tuple[int, EngineInput]]]] = []
        for gi, game in enumerate(prepared):
            keys = [p.key for p in game]
            cached = self.cache.get_many(keys, engine_id, search_limit, multipv) if self.cache is not None else {}
            pending: list[tuple[int, EngineInput]] = []
            for pi, position in enumerate(game):
                if position.key in cached:
                    results[gi][pi] = _with_fen(cached[position.key], position.board)
                elif not any(position.board.generate_legal_moves()):
                    results[gi][pi] = Analysis.terminal(position.board, engine_id)
                else:
                    pending.append((pi, position))
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
        answered: set[tuple[int, int]] = set()
        outstanding = sum(len(p) for _, p in todo)
        answers = self._answers(call, jobs, multipv, limit, answered)
        try:
            for gi, pi, position, analysis, error in answers:
                if (gi, pi) in answered:
                    continue  # a replaced worker's late answer
                answered.add((gi, pi))
                outstanding -= 1
                done += 1
                if analysis is None:
                    failure = PositionFailure(gi, pi, position.board.fen(), f"{type(error).__name__}: {error}")
                    self.failures.append(failure)
                    logger.error(
                        "gave up on game %d position %d (%s): %s", gi, pi, position.board.fen(), failure.error
                    )
                else:
                    results[gi][pi] = analysis
                    self.searches += 1
                    self.nodes_searched += analysis.nodes
                    if self.cache is not None:
                        self.cache.put(position.key, search_limit, multipv, analysis)
                if progress is not None:
                    progress(done, total)
                remaining[gi] -= 1
                if remaining[gi] == 0 and on_game_done is not None:
                    on_game_done(gi)
                if not outstanding:
                    break
        except BaseException:
            # Ctrl-C or an error: keep what was computed, stop the engines, leave the cache consistent.
            self._abort()
            raise
        finally:
            answers.close()
            if self.cache is not None:
                self.cache.commit()
        return results

    def _answers(
        self,
        call: int,
        jobs: list[tuple[int, list[tuple[int, EngineInput]]]],
        multipv: int,
        limit: EngineLimit,
        answered: set[tuple[int, int]],
    ) -> Generator[Answer, None, None]:
        """The answers to ``jobs`` as the engines give them, each ``(game, index, input, analysis or None,
        error)``; :meth:`analyse_games` stops asking when every position has one and ignores repeats. This pool
        hands the jobs to its worker threads and runs the watchdog (:meth:`_watch`) between answers; a cluster
        pool (:mod:`chessteach.engine.cluster`) hands them to actors."""
        self._ensure_workers(min(self.workers, len(jobs)))
        for gi, pending in jobs:
            self._jobs.put((call, gi, pending, multipv, limit))
        handed_on: dict[tuple[int, int], int] = {}
        watched = time.monotonic()
        while True:
            if time.monotonic() - watched >= WATCH_EVERY:
                self._watch(call, answered, handed_on, limit)
                watched = time.monotonic()
            try:
                r_call, gi, pi, position, analysis, error = self._results.get(timeout=WATCH_EVERY)
            except queue.Empty:
                continue
            if r_call == call:  # not an aborted call's
                yield gi, pi, position, analysis, error

    def _watch(
        self, call: int, answered: set[tuple[int, int]], handed_on: dict[tuple[int, int], int], limit: EngineLimit
    ) -> None:
        """The watchdog, run every :data:`WATCH_EVERY` seconds while a call waits for answers.

        A worker whose thread died, or that has held a job without answering for :meth:`stall_seconds`, is retired
        (its engine killed) and replaced, and the positions of its job that have no answer yet are handed on as a
        new job. The first of them was in work when the worker stopped: one that was in work at two such stops is
        reported as failed instead."""
        workers = len(self._threads)
        now = time.monotonic()
        stall = self.stall_seconds(limit)
        for worker in list(self._threads):
            dead = not worker.thread.is_alive()
            job = worker.job
            stuck = job is not None and now - worker.last_answer > stall
            if not dead and not stuck:
                continue
            why = "its thread died" if dead else f"it answered nothing for {now - worker.last_answer:.0f} s"
            worker.retired = True
            self._threads.remove(worker)
            self.workers_replaced += 1
            worker.kill()
            if job is None or job[0] != call:
                logger.warning("engine worker %d replaced: %s", worker.number, why)
                continue
            _, gi, positions, multipv, job_limit = job
            again = [(pi, p) for pi, p in positions if (gi, pi) not in answered]
            if again:  # the first position without an answer was in work: it counts the stop
                pi, position = again[0]
                handed_on[gi, pi] = handed_on.get((gi, pi), 0) + 1
                if handed_on[gi, pi] >= 2:
                    error = EngineFailedError(f"its engine worker stopped twice ({why})")
                    self._results.put((call, gi, pi, position, None, error))
                    again = again[1:]
            logger.warning(
                "engine worker %d replaced: %s; %d position(s) of game %d handed on", worker.number, why, len(again), gi
            )
            if again:
                self._jobs.put((call, gi, again, multipv, job_limit))
        if self.workers_replaced > 10 * self.workers + 10:
            raise EngineFailedError(f"engine workers keep failing ({self.workers_replaced} replaced); giving up")
        self._ensure_workers(workers)

    def _ensure_workers(self, n: int) -> None:
        while len(self._threads) < n:
            self._threads.append(_Worker(self, self._numbers))
            self._numbers += 1

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
