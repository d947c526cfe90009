"""The engine pool on a Ray cluster: one Stockfish actor per CPU, the same searches and results as the local pool.

:class:`RayEnginePool` is an :class:`~chessteach.engine.pool.EnginePool` whose positions are searched by Ray
actors (:class:`EngineActor`, each one single-threaded Stockfish driven by a one-worker local pool) instead of
local threads. Everything else is the local pool's: the cache is read before any work and filled on the driver as
answers arrive (so an interrupted cluster run resumes like a local one), positions without legal moves are scored
from the rules, and every search starts from a fresh engine state at the same fixed node limit, so the results
are the local pool's, position by position, however the work is spread.

The work goes out in chunks of :data:`CHUNK` positions, :data:`IN_FLIGHT` chunks per actor at a time. An actor
that dies (its process killed, its node gone) or stops answering has its chunks handed to a replacement; a chunk
whose actor died :data:`ATTEMPTS` times is reported as failed position by position. An answer is taken once: a
late answer of a replaced actor is ignored.

``address`` is Ray's: None joins the cluster named by ``RAY_ADDRESS`` or the one ``ray start`` runs on this
machine, else starts a local one (and stops it at :meth:`RayEnginePool.close`); ``ray://HOST:PORT`` goes
through Ray Client. Ray is the optional extra ``chessteach[cluster]``; every node needs chessteach and the same
Stockfish build at the same path (the driver checks the engine's name on each actor).
"""

from __future__ import annotations

import collections
import logging
import os
import socket
import time
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

from chessteach.engine.analysis import Analysis, EngineInput, EngineLimit
from chessteach.engine.cache import AnalysisCache
from chessteach.engine.config import EngineConfig
from chessteach.engine.pool import WATCH_EVERY, Answer, EnginePool, SearchState
from chessteach.errors import ClusterError, EngineFailedError

logger = logging.getLogger(__name__)

CHUNK = 8
"""Positions per task sent to an actor (the unit a dead actor's work is retried in)."""
IN_FLIGHT = 2
"""Chunks each actor holds at a time: one searched, one waiting, so no actor idles while an answer travels."""
ATTEMPTS = 3
"""Actor deaths a chunk survives before its positions are reported as failed."""
ACTOR_START = 60.0
"""Seconds an actor may take to start (a new worker process, possibly on another node) beyond its searches."""


def import_ray() -> Any:
    """Ray, imported with Ray's token authentication on (``RAY_AUTH_MODE=token``) unless the environment says
    otherwise: ``ray start`` starts clusters that check a token (``~/.ray/auth_token`` or ``RAY_AUTH_TOKEN``), and
    Ray reads the mode once, when it is imported. A cluster without it needs ``RAY_AUTH_MODE=disabled``."""
    os.environ.setdefault("RAY_AUTH_MODE", "token")
    try:
        import ray
    except ImportError as exc:
        raise ClusterError("--cluster ray needs Ray: pip install 'chessteach[cluster]'") from exc
    return ray


class EngineActor:
    """One Stockfish process on a cluster node: a one-worker local :class:`EnginePool` without a cache (the
    driver keeps the cache). Ray runs it as an actor that takes one CPU."""

    def __init__(self, config: EngineConfig, search_state: SearchState) -> None:
        self.pool = EnginePool(config=config, workers=1, search_state=search_state)

    def ready(self) -> tuple[str, str]:
        """The engine's identity (checked against the driver's) and this node's host name."""
        return self.pool.engine_id, socket.gethostname()

    def search(
        self, positions: list[tuple[int, EngineInput]], multipv: int, limit: EngineLimit
    ) -> list[tuple[int, Analysis | None, str | None]]:
        """Analyse one chunk: ``(index, analysis or None, the error where it failed twice)`` per position."""
        [analyses] = self.pool.analyse_games([[p for _, p in positions]], multipv=multipv, limit=limit)
        errors = {f.index: f.error for f in self.pool.failures}
        self.pool.failures.clear()
        return [(pi, analysis, errors.get(k)) for k, ((pi, _), analysis) in enumerate(zip(positions, analyses, strict=True))]

    def pids(self) -> list[int]:
        """Process ids of this actor's engines."""
        return self.pool.engine_pids()


@dataclass
class _Task:
    slot: int
    actor: Any
    game: int
    positions: list[tuple[int, EngineInput]]
    attempt: int
    sent: float


class RayEnginePool(EnginePool):
    """An :class:`EnginePool` whose searches run on Ray actors, one per CPU of the cluster (or ``workers``).

    ``address``: see the module doc. ``ray_options`` go to ``ray.init`` when this pool starts or joins the
    cluster (for example ``num_cpus`` for a local one).
    """

    def __init__(
        self,
        *,
        address: str | None = None,
        limit: EngineLimit | None = None,
        workers: int | None = None,
        config: EngineConfig | None = None,
        engine: str | None = None,
        options: dict[str, object] | None = None,
        cache: AnalysisCache | None = None,
        search_state: SearchState = "position",
        watchdog: float | None = None,
        ray_options: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(
            limit=limit, workers=1, config=config, engine=engine, options=options, cache=cache,
            search_state=search_state, watchdog=watchdog,
        )
        ray = import_ray()
        self.address = address
        self._owns_ray = not ray.is_initialized()
        if self._owns_ray:
            try:
                ray.init(address=address, include_dashboard=False, logging_level=logging.WARNING,
                         **(ray_options or {}))
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise ClusterError(f"cannot join the Ray cluster {address or '(auto)'}: {exc}") from exc
        self.workers = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        self.actors_replaced = 0
        """Actors that died or stopped answering and were replaced."""
        self.nodes: set[str] = set()
        """Host names of the nodes the actors ran on."""
        self._actors: list[Any] = []
        self._remote = ray.remote(num_cpus=1)(EngineActor)

    # -- actors -----------------------------------------------------------------------------------

    def _new_actor(self) -> Any:
        return self._remote.remote(self.config, self.search_state)

    def _start_actors(self) -> None:
        """Start the actors and check each one runs the driver's engine (name, version and options)."""
        ray = import_ray()
        while len(self._actors) < self.workers:
            self._actors.append(self._new_actor())
        expected = self.engine_id
        try:
            identities = ray.get([actor.ready.remote() for actor in self._actors])
        except ray.exceptions.RayError as exc:
            raise ClusterError(f"an engine actor did not start: {_first_line(exc)}") from exc
        for engine_id, host in identities:
            if engine_id != expected:
                raise ClusterError(f"node {host} runs {engine_id}, not the driver's {expected}")
            self.nodes.add(host)

    def _replace(self, slot: int, actor: Any, why: str) -> None:
        if self._actors[slot] is not actor:
            return  # replaced already (another of its chunks reported first)
        import_ray().kill(actor, no_restart=True)
        self._actors[slot] = self._new_actor()
        self.actors_replaced += 1
        logger.warning("engine actor %d replaced: %s", slot, why)
        if self.actors_replaced > 10 * self.workers + 10:
            raise EngineFailedError(f"engine actors keep failing ({self.actors_replaced} replaced); giving up")

    def engine_pids(self) -> list[int]:
        """Process ids of the actors' engines (on their nodes)."""
        ray = import_ray()
        pids: list[int] = []
        for actor in self._actors:
            pids.extend(ray.get(actor.pids.remote()))
        return pids

    # -- work -------------------------------------------------------------------------------------

    def _answers(
        self,
        call: int,
        jobs: list[tuple[int, list[tuple[int, EngineInput]]]],
        multipv: int,
        limit: EngineLimit,
        answered: set[tuple[int, int]],
    ) -> Generator[Answer, None, None]:
        ray = import_ray()
        if not self._actors:
            self._start_actors()
        size = CHUNK if self.search_state == "position" else max(len(p) for _, p in jobs)
        waiting: collections.deque[tuple[int, list[tuple[int, EngineInput]], int]] = collections.deque(
            (gi, pending[i : i + size], 0) for gi, pending in jobs for i in range(0, len(pending), size)
        )
        sent: dict[Any, _Task] = {}
        per_search = self.stall_seconds(limit)
        while True:
            load = collections.Counter(task.slot for task in sent.values())
            for slot in range(len(self._actors)):
                while waiting and load[slot] < IN_FLIGHT:
                    gi, positions, attempt = waiting.popleft()
                    actor = self._actors[slot]
                    ref = actor.search.remote(positions, multipv, limit)
                    sent[ref] = _Task(slot, actor, gi, positions, attempt, time.monotonic())
                    load[slot] += 1
            ready, _ = ray.wait(list(sent), num_returns=1, timeout=WATCH_EVERY)
            for ref in ready:
                task = sent.pop(ref)
                try:
                    answers = ray.get(ref)
                except (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError) as exc:
                    self._replace(task.slot, task.actor, _first_line(exc))
                    again = [(pi, p) for pi, p in task.positions if (task.game, pi) not in answered]
                    if task.attempt + 1 < ATTEMPTS:
                        if again:
                            waiting.appendleft((task.game, again, task.attempt + 1))
                        continue
                    error = EngineFailedError(f"its engine actor died {ATTEMPTS} times ({_first_line(exc)})")
                    for pi, position in again:
                        yield task.game, pi, position, None, error
                    continue
                inputs = dict(task.positions)
                for pi, analysis, problem in answers:
                    failure = None if problem is None else EngineFailedError(problem)
                    yield task.game, pi, inputs[pi], analysis, failure
            now = time.monotonic()
            for task in list(sent.values()):  # a chunk that outlives its searches: its actor is hung or lost
                allowed = ACTOR_START + IN_FLIGHT * len(task.positions) * per_search
                if now - task.sent > allowed and self._actors[task.slot] is task.actor:
                    logger.warning("engine actor %d answered nothing for %.0f s; killing it", task.slot, now - task.sent)
                    ray.kill(task.actor, no_restart=True)  # its chunks now fail with RayActorError: handed on

    def _abort(self) -> None:
        self._call += 1
        self._stop_actors()

    def _stop_actors(self) -> None:
        if not self._actors:
            return
        ray = import_ray()
        for actor in self._actors:
            ray.kill(actor, no_restart=True)  # its engine sees its input close and exits
        self._actors.clear()

    def close(self) -> None:
        """Stop the actors (their engines exit with them), and the local Ray instance if this pool started it."""
        try:
            self._stop_actors()
        finally:
            super().close()
            ray = import_ray()
            if self._owns_ray and ray.is_initialized():
                ray.shutdown()

    def __enter__(self) -> RayEnginePool:
        return self


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"
