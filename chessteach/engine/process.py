"""Engine processes: started with a bounded UCI handshake, checked against their own option list, always reaped.

Every process :func:`start_engine` starts is registered until :func:`kill_engine` has reaped it; whatever is still
registered when the interpreter exits is killed then (before Python waits for python-chess's event-loop threads, so
a forgotten engine cannot hold the exit up either). :func:`identify_engine` checks a configuration once per process:
that the program is a UCI engine, and that it accepts every configured option.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import dataclasses
import logging
import os
import re
import signal
import threading
from typing import TYPE_CHECKING

import chess.engine

from chessteach.engine.config import EngineConfig, check_options
from chessteach.errors import EngineStartError

if TYPE_CHECKING:
    from chessteach.engine.cache import AnalysisCache

logger = logging.getLogger(__name__)

HANDSHAKE_TIMEOUT = 10.0
"""Seconds the first start of an engine may take to answer ``uci`` with ``uciok`` (Stockfish needs well under one)."""

REAP_TIMEOUT = 5.0
"""Seconds :func:`kill_engine` waits for a killed process to be reaped."""

_LOOP_THREAD = re.compile(r"SimpleEngine \(pid=(\d+)\)")
"""The name python-chess gives the event-loop thread of each engine."""
_WATCHER_MESSAGE = "Loop %r that handles pid %r is closed"
"""What asyncio's child watcher logs when a process ends after its event loop (CPython's asyncio/unix_events.py)."""

_lock = threading.Lock()
_live: dict[int, chess.engine.SimpleEngine] = {}
_killed: set[int] = set()
_identified: dict[tuple[str, int, int, str], str] = {}


@dataclasses.dataclass(frozen=True)
class EngineIdentity:
    """What an engine announces in its UCI handshake: its name and its options."""

    name: str
    options: dict[str, chess.engine.Option]


def _handshake_protocol(pids: list[int], echoed: list[str]) -> type[chess.engine.UciProtocol]:
    """UCI, except that a program sending back the ``uci`` it was sent (``cat``) is killed at once, not waited for.
    The process id goes to ``pids`` as soon as the process runs."""

    class HandshakeProtocol(chess.engine.UciProtocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)
            with contextlib.suppress(Exception):
                pids.append(int(transport.get_pid()))  # type: ignore[attr-defined]

        def line_received(self, line: str) -> None:
            super().line_received(line)
            if not self.initialized and line.strip() == "uci" and self.transport is not None:
                echoed.append(line)
                self.transport.kill()

    return HandshakeProtocol


def _kill_group(pid: int) -> None:
    """SIGKILL the process group of ``pid`` (an engine started with setpgrp leads its own: the engine and anything it
    started), or the process alone; mark it as killed on purpose (see :class:`_KilledEngineNoise`)."""
    with _lock:
        _killed.add(pid)
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def engine_pid(engine: chess.engine.SimpleEngine) -> int | None:
    """The process id of ``engine``, or ``None`` once its transport is gone."""
    try:
        return int(engine.transport.get_pid())
    except Exception:  # transport already closed
        return None


def start_engine(
    path: str, *, handshake_timeout: float = HANDSHAKE_TIMEOUT, timeout: float | None = None
) -> chess.engine.SimpleEngine:
    """Start the UCI engine at ``path`` in its own process group (Ctrl-C reaches chessteach, which stops it).

    The handshake (``uci`` ... ``uciok``) may take ``handshake_timeout`` seconds; later commands ``timeout``
    (default: the same). Raises :class:`EngineStartError` when the program cannot be run, exits, echoes its input
    or does not answer in time; the process is killed before that.
    """
    pids: list[int] = []
    echoed: list[str] = []
    try:
        try:
            engine = chess.engine.SimpleEngine.popen(
                _handshake_protocol(pids, echoed), path, timeout=handshake_timeout, setpgrp=True
            )
        except BaseException:
            for started in pids:  # python-chess killed the process itself, not what it may have started
                _kill_group(started)
            raise
    except TimeoutError:
        raise EngineStartError(path, f"no 'uciok' within {handshake_timeout:g} s") from None
    except chess.engine.EngineTerminatedError as exc:
        if echoed:
            raise EngineStartError(path, "it sent back the 'uci' it was sent, as cat does, not 'uciok'") from None
        code = re.search(r"exit code: (-?\d+)", str(exc))
        raise EngineStartError(
            path, f"it exited{f' with code {code.group(1)}' if code else ''} before answering 'uciok'"
        ) from None
    except OSError as exc:
        raise EngineStartError(path, f"it cannot be run: {exc.strerror or exc}") from None
    engine.timeout = handshake_timeout if timeout is None else timeout
    pid = engine_pid(engine)
    if pid is not None:
        with _lock:
            _live[pid] = engine
    return engine


def kill_engine(engine: chess.engine.SimpleEngine) -> None:
    """Kill ``engine``'s process group, wait (at most :data:`REAP_TIMEOUT` s) until it is reaped, and close it.

    What python-chess's event loop logs about the commands the kill cut short is dropped: the kill was meant.
    """
    pid = engine_pid(engine)
    if pid is not None and not engine.returncode.done():
        _kill_group(pid)
        try:
            engine.returncode.result(timeout=REAP_TIMEOUT)
        except Exception as exc:  # the loop already gone; the kill itself cannot fail
            logger.warning("engine %d: not reaped within %g s after SIGKILL (%s)", pid, REAP_TIMEOUT, type(exc).__name__)
    with contextlib.suppress(Exception):
        engine.close()
    if pid is not None:
        with _lock:
            _live.pop(pid, None)


def live_engines() -> list[int]:
    """Process ids of the engines started and not yet reaped, in this process."""
    with _lock:
        return list(_live)


def kill_all() -> int:
    """Kill every engine still running (at interpreter exit, or by hand); how many there were."""
    with _lock:
        engines = list(_live.values())
    for engine in engines:
        kill_engine(engine)
    return len(engines)


def probe_engine(path: str, *, handshake_timeout: float = HANDSHAKE_TIMEOUT) -> EngineIdentity:
    """Start the engine once, read its name and options, and kill it (see :func:`start_engine` for the errors)."""
    engine = start_engine(path, handshake_timeout=handshake_timeout)
    try:
        return EngineIdentity(engine.id.get("name", os.path.basename(path)), dict(engine.options))
    finally:
        kill_engine(engine)


def identify_engine(config: EngineConfig, cache: AnalysisCache | None = None) -> str:
    """The name of ``config``'s engine, after checking that it is a UCI engine and takes ``config``'s options.

    Checked once per process for each binary (path, size, mtime) and set of options. The engine is started for it
    (:func:`probe_engine`, with :data:`HANDSHAKE_TIMEOUT`) unless ``cache`` knows this binary's option list; what
    the start learns goes to ``cache`` (from the main thread only, as the cache asks).

    Raises :class:`~chessteach.errors.EngineStartError` or :class:`~chessteach.errors.EngineOptionError`.
    """
    try:
        st = os.stat(config.path)
        key = (config.path, st.st_size, st.st_mtime_ns, config.options_key)
    except OSError as exc:
        raise EngineStartError(config.path, f"it cannot be run: {exc.strerror or exc}") from None
    with _lock:
        if key in _identified:
            return _identified[key]
    identity = cache.engine_identity(config.path) if cache is not None else None
    if identity is None:
        identity = probe_engine(config.path, handshake_timeout=min(HANDSHAKE_TIMEOUT, config.timeout))
        if cache is not None and threading.current_thread() is threading.main_thread():
            cache.remember_engine(config.path, identity.name, identity.options)
    check_options(config.uci_options, identity.options, engine=identity.name)
    with _lock:
        _identified[key] = identity.name
    return identity.name


class _KilledEngineNoise(logging.Filter):
    """Drops what asyncio logs about engines that ended while python-chess still had commands for them: the pool and
    :func:`start_engine` see every such end themselves and report it in their own words.

    These are: an :class:`~chess.engine.EngineTerminatedError` left in a future nobody awaits (``Future exception
    was never retrieved``, ``unhandled exception during asyncio.run() shutdown``, with a traceback); anything else
    from the event loop of an engine chessteach killed on purpose; and the child watcher's ``Loop ... that handles
    pid N is closed`` for such an engine.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], chess.engine.EngineTerminatedError):
            return False
        match = _LOOP_THREAD.fullmatch(record.threadName or "")
        if match is not None:
            pid: object = int(match.group(1))
        elif record.msg == _WATCHER_MESSAGE and isinstance(record.args, tuple) and len(record.args) == 2:
            pid = record.args[1]
        else:
            return True
        with _lock:
            return pid not in _killed


logging.getLogger("asyncio").addFilter(_KilledEngineNoise())
# threading's exit hooks run before Python joins the (non-daemon) event-loop threads; atexit's only after.
getattr(threading, "_register_atexit", atexit.register)(kill_all)
