"""Faults with the real Stockfish on a real game: killed engines (mid-game and while starting), interrupted runs
resumed from the cache, a worker thread that dies, an engine that stops answering. The review's outputs must equal
a clean run's byte for byte, nothing may be analysed twice, and no engine process may be left behind."""

from __future__ import annotations

import ctypes
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import chess.pgn
import pytest
from games import extract_game

from chessteach.engine import AnalysisCache, EngineConfig, EngineLimit, EnginePool, load_config
from chessteach.games.annotate import write_annotated_pgn
from chessteach.games.export import moves_frame
from chessteach.games.read import game_inputs, read_games
from chessteach.games.review import review_games

NODES = 30_000
# Nepomniachtchi - Caruana, Madrid 2022 (game 7 of the file): 65 moves, ending in a repetition, so some positions
# go to the engine with their history.
GAME = 7


def engine_children(parent: int) -> list[int]:
    """Live (not zombie) Stockfish processes whose parent is ``parent``, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        comm, rest = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :].split()
        if "stockfish" in comm and int(rest[1]) == parent and rest[0] != "Z":
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture(scope="module")
def config() -> EngineConfig:
    return load_config()


@pytest.fixture(scope="module")
def game_pgn(pgn_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return extract_game(pgn_dir / "candidates-madrid-2022.pgn", GAME, tmp_path_factory.mktemp("game"))


@pytest.fixture(scope="module")
def game(game_pgn: Path) -> chess.pgn.Game:
    [record] = list(read_games(game_pgn))
    assert record.game is not None
    return record.game


def review_outputs(
    game: chess.pgn.Game, pool: EnginePool, out: Path, progress: Callable[[int, int], None] | None = None
) -> bytes:
    """Review the game through ``pool`` and write annotated.pgn and moves.csv as ``chessteach analyze`` does;
    their bytes."""
    [review] = review_games([game], pool, progress=progress)
    out.mkdir(parents=True, exist_ok=True)
    write_annotated_pgn(str(out / "annotated.pgn"), [game], [review], annotator=f"chessteach ({pool.engine_id}, "
                        f"{NODES} nodes)")
    moves_frame([review]).to_csv(out / "moves.csv", index=False)
    return cli_outputs(out)


def cli_outputs(out: Path) -> bytes:
    return (out / "annotated.pgn").read_bytes() + b"\n--\n" + (out / "moves.csv").read_bytes()


@pytest.fixture(scope="module")
def clean(game: chess.pgn.Game, config: EngineConfig, tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, int]:
    """The clean run: its outputs, and how many searches it made."""
    tmp = tmp_path_factory.mktemp("clean")
    with AnalysisCache(tmp / "cache.sqlite") as cache, EnginePool(
        limit=EngineLimit(nodes=NODES), workers=2, config=config, cache=cache
    ) as pool:
        outputs = review_outputs(game, pool, tmp / "out")
        searches = pool.searches
    assert engine_children(os.getpid()) == []
    return outputs, searches


def test_engine_killed_mid_game_gives_the_clean_results(
    game: chess.pgn.Game, config: EngineConfig, clean: tuple[bytes, int], tmp_path: Path
) -> None:
    killed: list[int] = []
    with AnalysisCache(tmp_path / "cache.sqlite") as cache, EnginePool(
        limit=EngineLimit(nodes=NODES), workers=2, config=config, cache=cache
    ) as pool:

        def kill_one(done: int, total: int) -> None:
            if done >= 20 and not killed and pool.engine_pids():
                pid = pool.engine_pids()[0]
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)

        outputs = review_outputs(game, pool, tmp_path / "out", progress=kill_one)
        assert killed and pool.failures == []
        assert pool.engines_started >= 3  # the two workers, plus the restart
        assert pool.searches == clean[1]
    assert outputs == clean[0]
    assert engine_children(os.getpid()) == [] and not alive(killed[0])


def test_engine_killed_while_it_starts_gives_the_clean_results(
    game: chess.pgn.Game, config: EngineConfig, clean: tuple[bytes, int], tmp_path: Path
) -> None:
    """A thread watches /proc and kills the first engine process the pool starts as soon as it appears, before
    the pool has it (during its start-up and UCI handshake)."""
    stop = threading.Event()
    killed: list[tuple[int, bool]] = []  # the pid, and whether the pool already had it
    with AnalysisCache(tmp_path / "cache.sqlite") as cache, EnginePool(
        limit=EngineLimit(nodes=NODES), workers=2, config=config, cache=cache
    ) as pool:
        _ = pool.engine_id  # the short-lived process that tells the engine's name is not the one killed
        before = set(engine_children(os.getpid()))

        def killer() -> None:
            while not stop.is_set() and not killed:
                for pid in engine_children(os.getpid()):
                    if pid not in before:
                        os.kill(pid, signal.SIGKILL)
                        killed.append((pid, pid in pool.engine_pids()))
                        break
                time.sleep(0.0005)

        watcher = threading.Thread(target=killer, daemon=True)
        watcher.start()
        try:
            outputs = review_outputs(game, pool, tmp_path / "out")
        finally:
            stop.set()
            watcher.join()
        assert pool.failures == []
    [(pid, handed_back)] = killed
    assert not handed_back, "the engine was killed after it started, not while it started"
    assert outputs == clean[0]
    assert engine_children(os.getpid()) == [] and not alive(pid)


def test_interrupted_review_resumes_from_the_cache_without_searching_twice(
    game: chess.pgn.Game, config: EngineConfig, clean: tuple[bytes, int], tmp_path: Path
) -> None:
    cache_file = tmp_path / "cache.sqlite"
    with AnalysisCache(cache_file) as cache, EnginePool(
        limit=EngineLimit(nodes=NODES), workers=2, config=config, cache=cache
    ) as pool:

        def interrupt(done: int, total: int) -> None:
            if done >= 25:
                raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            review_outputs(game, pool, tmp_path / "first", progress=interrupt)
        first = pool.searches
        assert engine_children(os.getpid()) == []  # the interrupt stopped the engines at once
    inputs = [i for i in game_inputs(game) if any(i.board.generate_legal_moves())]
    with AnalysisCache(cache_file) as cache, EnginePool(
        limit=EngineLimit(nodes=NODES), workers=2, config=config, cache=cache
    ) as pool:
        cached = cache.get_many([i.key for i in inputs], pool.engine_id, pool.search_key(), 1)
        missing = sum(i.key not in cached for i in inputs)
        assert 0 < missing < len(inputs) and len(cached) >= first - 2  # a few in flight at the interrupt are lost
        outputs = review_outputs(game, pool, tmp_path / "out")
        assert pool.searches == missing  # only what the cache did not have
    assert outputs == clean[0]
    assert engine_children(os.getpid()) == []


def test_sigint_to_analyze_then_a_rerun_gives_the_clean_outputs(
    game_pgn: Path, clean: tuple[bytes, int], tmp_path: Path
) -> None:
    cache_file = tmp_path / "cache.sqlite"
    command = [sys.executable, "-m", "chessteach", "analyze", str(game_pgn), "-o", str(tmp_path / "out"), "--nodes",
               str(NODES), "--workers", "2", "--cache", str(cache_file)]
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    engines: set[int] = set()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and run.poll() is None:
        engines |= set(engine_children(run.pid))
        if cached_count(cache_file) >= 15:
            break
        time.sleep(0.05)
    assert run.poll() is None, "the review ended before it could be interrupted"
    engines |= set(engine_children(run.pid))
    run.send_signal(signal.SIGINT)
    _, stderr = run.communicate(timeout=60)
    assert run.returncode == 130, stderr.decode()
    assert engines and not [pid for pid in engines if alive(pid)], "engine processes left behind"
    rerun = subprocess.run(command, capture_output=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr.decode()
    assert cli_outputs(tmp_path / "out") == clean[0]


def cached_count(cache_file: Path) -> int:
    """How many analyses another process's cache holds so far (0 before its tables exist)."""
    if not cache_file.exists():
        return 0
    db = sqlite3.connect(cache_file, timeout=5)
    try:
        return int(db.execute("SELECT COUNT(*) FROM analyses").fetchone()[0])
    except sqlite3.OperationalError:
        return 0
    finally:
        db.close()


def _raise_in_thread(thread: threading.Thread, exc: type[BaseException]) -> None:
    """Make ``thread`` raise ``exc`` at its next Python instruction (an exception no handler in the pool expects)."""
    assert thread.ident is not None
    assert ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(exc)) == 1


def _bounded(call: Callable[[], bytes], seconds: float) -> bytes:
    """Run ``call`` in a thread; fail (not hang) when it does not return in time."""
    box: list[bytes | BaseException] = []

    def target() -> None:
        try:
            box.append(call())
        except BaseException as exc:  # handed to the test's thread
            box.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"the run was still waiting after {seconds:.0f} s"
    [result] = box
    if isinstance(result, BaseException):
        raise result
    return result


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # the thread dies, as meant
def test_worker_thread_that_dies_is_replaced_and_its_positions_handed_on(
    game: chess.pgn.Game, config: EngineConfig, clean: tuple[bytes, int], tmp_path: Path
) -> None:
    died: list[str] = []
    with EnginePool(limit=EngineLimit(nodes=NODES), workers=2, config=config) as pool:

        def kill_a_thread(done: int, total: int) -> None:
            if done >= 10 and not died:
                thread = next(t for t in threading.enumerate() if t.name.startswith("chessteach-engine-"))
                _raise_in_thread(thread, SystemExit)
                died.append(thread.name)

        outputs = _bounded(lambda: review_outputs(game, pool, tmp_path / "out", progress=kill_a_thread), 120)
        assert died and pool.workers_replaced >= 1 and pool.failures == []
    assert outputs == clean[0]
    assert engine_children(os.getpid()) == []


def test_worker_that_stops_answering_is_replaced(
    game: chess.pgn.Game, config: EngineConfig, clean: tuple[bytes, int], tmp_path: Path
) -> None:
    """SIGSTOP freezes an engine; its search would time out only after a minute, but the watchdog (5 s here)
    replaces the worker, kills the frozen process and hands the positions on."""
    patient = EngineConfig(config.path, config.options, timeout=60.0)
    stopped: list[int] = []
    with EnginePool(
        limit=EngineLimit(nodes=NODES), workers=2, config=patient, watchdog=5.0
    ) as pool:

        def freeze(done: int, total: int) -> None:
            if done >= 10 and not stopped and pool.engine_pids():
                pid = pool.engine_pids()[0]
                os.kill(pid, signal.SIGSTOP)
                stopped.append(pid)

        start = time.monotonic()
        outputs = _bounded(lambda: review_outputs(game, pool, tmp_path / "out", progress=freeze), 120)
        assert time.monotonic() - start < 55  # well before the search's own timeout
        assert stopped and pool.workers_replaced >= 1 and pool.failures == []
    assert outputs == clean[0]
    assert not alive(stopped[0]) and engine_children(os.getpid()) == []
