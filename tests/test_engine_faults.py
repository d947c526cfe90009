"""Engine start and usage faults, against the real Stockfish (issue 13, defects 1 and 7): bad engine options, programs
that are not UCI engines, caches that cannot be used, Ctrl-C. Each ends in one line with its exit code, and no engine
process is left behind.

Engines are found by a marker in their environment (they inherit it), so an engine whose parent is gone still counts.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import chess
import pytest
from typer.testing import CliRunner

from chessteach.cli import app
from chessteach.engine import Analysis, AnalysisCache, EngineConfig, EngineLimit, EnginePool, load_config
from chessteach.errors import CacheError, EngineOptionError, EngineStartError

ROOT = Path(__file__).resolve().parents[1]
MARK = "CHESSTEACH_FAULT_TEST"
NODES = "20000"


@pytest.fixture
def engines(monkeypatch: pytest.MonkeyPatch) -> Callable[[], list[int]]:
    """Marks every process started from now on; returns a function listing the live (not zombie) ones that are not
    Python (a ``chessteach`` process run by the test carries the mark too)."""
    token = f"{MARK}={uuid.uuid4().hex}".encode()
    monkeypatch.setenv(MARK, token.decode().partition("=")[2])

    def live() -> list[int]:
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                environ = (entry / "environ").read_bytes().split(b"\0")
                python = (entry / "comm").read_text().startswith("python")
            except OSError:  # gone meanwhile, or not ours
                continue
            if token in environ and state not in ("Z", "X") and not python:
                found.append(int(entry.name))
        return found

    return live


@pytest.fixture
def game_pgn(pgn_dir: Path, tmp_path: Path) -> Path:
    """One real game, the first of the 2022 Candidates (Nepomniachtchi - Rapport)."""
    text = (pgn_dir / "candidates-madrid-2022.pgn").read_text()
    second = text.index("[Event ", 1)
    path = tmp_path / "game.pgn"
    path.write_text(text[:second])
    return path


def _lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.strip()]


def _one_line(result: object, code: int) -> str:
    output = result.output  # type: ignore[attr-defined]
    assert result.exit_code == code, output  # type: ignore[attr-defined]
    assert "Traceback" not in output
    [line] = _lines(output)
    return line


# -- defect 1: a bad --engine-option leaked one Stockfish per retry, until the OOM killer came ---------------------


@pytest.mark.parametrize(
    ("option", "says"),
    [
        ("Bogus=1", "has no option 'Bogus' (it has: "),
        ("Hash=-5", "Hash accepts an integer 1..33554432"),
        ("Threads=abc", "Threads accepts an integer 1..1024"),
    ],
)
def test_bad_engine_option_leaks_no_engine_and_stops_in_one_line(
    game_pgn: Path, engines: Callable[[], list[int]], option: str, says: str
) -> None:
    started = time.monotonic()
    result = CliRunner().invoke(app, ["evals", str(game_pgn), "--nodes", NODES, "-w", "2", "--engine-option", option])
    line = _one_line(result, 2)
    assert line.startswith(f"error: --engine-option {option}: ") and says in line
    assert time.monotonic() - started < 10
    assert engines() == []


def test_bad_engine_option_from_a_config_file_names_the_file(
    game_pgn: Path, tmp_path: Path, engines: Callable[[], list[int]]
) -> None:
    toml = tmp_path / "sf.toml"
    toml.write_text("[options]\nThreads = 1\nContempt = 24\n")  # Stockfish dropped Contempt in version 14
    result = CliRunner().invoke(app, ["analyze", str(game_pgn), "-o", str(tmp_path / "out"), "--engine-config", str(toml)])
    assert _one_line(result, 2).startswith(f"error: {toml}: Contempt=24: Stockfish")
    assert engines() == []


def test_bad_engine_option_stops_the_library_pool_before_any_worker(engines: Callable[[], list[int]]) -> None:
    with EnginePool(limit=EngineLimit(nodes=int(NODES)), workers=2, options={"Hash": 999_999_999}) as pool:
        with pytest.raises(EngineOptionError, match=r"Hash=999999999: Hash accepts an integer 1\.\.33554432"):
            pool.analyse([chess.Board(), chess.Board("8/8/8/4k3/8/8/4P3/4K3 w - - 0 1")])
        assert pool.engines_started == 0
    assert engines() == []


# -- defect 7: programs that are not UCI engines (/bin/cat waited a minute, /bin/false ended in a traceback) --------


@pytest.mark.parametrize(
    ("program", "says"),
    [
        ("/bin/cat", "it sent back the 'uci' it was sent, as cat does, not 'uciok'"),
        ("/bin/false", "it exited with code 1 before answering 'uciok'"),
    ],
)
def test_a_program_that_is_not_a_uci_engine_is_one_line_at_once(
    game_pgn: Path, engines: Callable[[], list[int]], program: str, says: str
) -> None:
    started = time.monotonic()
    result = CliRunner().invoke(app, ["evals", str(game_pgn), "--nodes", NODES, "--engine", program])
    assert _one_line(result, 2) == f"error: --engine {program}: not a UCI engine ({says})"
    assert time.monotonic() - started < 5
    assert engines() == []


ENGINE_COMMANDS = [
    ["analyze", "{pgn}", "-o", "{tmp}/review"],
    ["evals", "{pgn}"],
    ["puzzles", "verify", "{csv}"],
    ["puzzles", "mine", "{pgn}", "-o", "{tmp}/mined.csv"],
    ["puzzles", "tag", "{csv}", "--engine"],
    ["exercises", "mine", "{pgn}", "-o", "{tmp}/exercises.csv"],
    ["bench", "engine", "-n", "2"],
    ["bench", "review", "{pgn}"],
    ["bench", "nodes", "{pgn}"],
    ["bench", "history", "{pgn}"],
    ["bench", "mine", "{pgn}"],
]


@pytest.mark.parametrize("command", ENGINE_COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_every_engine_command_checks_the_engine_before_any_work(
    game_pgn: Path, lichess_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.setenv("CHESSTEACH_ENGINE", "/bin/false")
    args = [a.format(pgn=game_pgn, csv=lichess_csv, tmp=tmp_path) for a in command]
    result = CliRunner().invoke(app, args)
    assert _one_line(result, 2) == "error: /bin/false: not a UCI engine (it exited with code 1 before answering 'uciok')"


def test_a_silent_program_times_out_in_the_handshake_with_all_it_started(
    tmp_path: Path, engines: Callable[[], list[int]]
) -> None:
    mute = tmp_path / "mute-engine"
    mute.write_text("#!/bin/sh\nsleep 60\n")  # a wrapper that starts a child and never answers
    mute.chmod(0o755)
    with EnginePool(config=EngineConfig(str(mute), timeout=1.0), limit=EngineLimit(nodes=int(NODES))) as pool:
        started = time.monotonic()
        with pytest.raises(EngineStartError, match=r"not a UCI engine \(no 'uciok' within 1 s\)"):
            pool.analyse([chess.Board()])
        assert time.monotonic() - started < 5
    assert engines() == []


# -- defect 7: caches that cannot be used ended in tracebacks --------------------------------------------------------


def _damaged_real_cache(path: Path) -> None:
    """A real cache of 3,000 analyses whose pages after the first few are overwritten with random bytes."""
    with AnalysisCache(path) as cache:
        board = chess.Board("7k/6Q1/6K1/8/8/8/8/8 b - - 0 1")
        for i in range(3000):
            cache.put(f"position-{i}", "nodes=1", 1, Analysis.terminal(board, "Stockfish 15.1 []"))
    data = bytearray(path.read_bytes())
    rng = random.Random(13)
    data[4096 * 3 :] = rng.randbytes(len(data) - 4096 * 3)
    path.write_bytes(bytes(data))


def _cache_case(tmp_path: Path, case: str) -> tuple[Path, str]:
    if case == "random bytes":
        path = tmp_path / "random.sqlite"
        path.write_bytes(random.Random(7).randbytes(3000))
        return path, "not a usable analysis cache (file is not a database)"
    if case == "a text file":
        path = tmp_path / "notes.sqlite"
        path.write_text("these are not analyses\n" * 20)
        return path, "not a usable analysis cache (file is not a database)"
    if case == "damaged pages":
        path = tmp_path / "damaged.sqlite"
        _damaged_real_cache(path)
        return path, "not a usable analysis cache ("
    if case == "under a regular file":
        (tmp_path / "file").write_text("x")
        return tmp_path / "file" / "sub" / "cache.sqlite", f"cannot create its folder {tmp_path / 'file' / 'sub'}: "
    if case == "under /proc":
        return Path("/proc/chessteach-none/cache.sqlite"), "cannot create its folder /proc/chessteach-none: "
    assert case == "a directory"
    return tmp_path, "is a directory, not an analysis cache file"


@pytest.mark.parametrize(
    "case", ["random bytes", "a text file", "damaged pages", "under a regular file", "under /proc", "a directory"]
)
def test_a_cache_that_cannot_be_used_is_one_line_naming_it(
    game_pgn: Path, tmp_path: Path, engines: Callable[[], list[int]], case: str
) -> None:
    cache, says = _cache_case(tmp_path, case)
    result = CliRunner().invoke(app, ["evals", str(game_pgn), "--nodes", NODES, "--cache", str(cache)])
    line = _one_line(result, 2)
    assert line.startswith(f"error: {cache}: {says}")
    assert engines() == []


def test_a_cache_that_cannot_be_used_raises_cache_error(tmp_path: Path) -> None:
    cache, _ = _cache_case(tmp_path, "damaged pages")
    with pytest.raises(CacheError, match=str(cache)), AnalysisCache(cache) as store:
        store.get_many([f"position-{i}" for i in range(3000)], "Stockfish 15.1 []", "nodes=1", 1)


# -- defect 7: Ctrl-C printed an asyncio traceback after the clean message ------------------------------------------


def _interrupt(args: list[str], engines: Callable[[], list[int]]) -> subprocess.CompletedProcess[str]:
    """Run ``chessteach ARGS`` until both its engines search, then send it SIGINT (as Ctrl-C does)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "chessteach", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while len(engines()) < 2 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:  # it hung: leave nothing behind (its engines die with it, see engine.process)
            proc.kill()
            proc.communicate()
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


@pytest.mark.parametrize("command", ["analyze", "evals"])
def test_ctrl_c_ends_in_one_line_and_leaves_no_engine(
    game_pgn: Path, tmp_path: Path, engines: Callable[[], list[int]], command: str
) -> None:
    args = [command, str(game_pgn), "--nodes", "2000000", "-w", "2", "--cache", str(tmp_path / "c.sqlite")]
    if command == "analyze":
        args += ["-o", str(tmp_path / "review")]
    done = _interrupt(args, engines)
    assert done.returncode == 130, done.stderr
    for noise in ("Traceback", "ERROR", "Error", "unhandled exception", "never retrieved", "Aborted"):
        assert noise not in done.stderr, done.stderr
    [line] = [line for line in _lines(done.stderr) if "interrupted" in line]
    assert line.startswith("interrupted: ") and "rerun to resume" in line
    assert engines() == []


# -- the watchdog at exit: an engine nobody closed neither outlives the interpreter nor holds up its exit -----------


def test_engines_not_closed_are_killed_at_interpreter_exit(engines: Callable[[], list[int]]) -> None:
    script = """
import chess
from chessteach.engine import EngineLimit, EnginePool
from chessteach.engine.process import start_engine, live_engines
pool = EnginePool(limit=EngineLimit(nodes=20_000), workers=2)
pool.analyse([chess.Board(), chess.Board("8/8/8/4k3/8/8/4P3/4K3 w - - 0 1")])
forgotten = start_engine(pool.config.path)  # from the main thread: python-chess's loop thread is not a daemon
print(len(live_engines()), flush=True)
"""
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["3"]
    assert time.monotonic() - started < 30
    assert engines() == []


def test_close_reaps_every_engine(engines: Callable[[], list[int]]) -> None:
    config = load_config()
    with EnginePool(limit=EngineLimit(nodes=int(NODES)), workers=2, config=config) as pool:
        pool.analyse([chess.Board(), chess.Board("8/8/8/4k3/8/8/4P3/4K3 w - - 0 1")])
        assert len(engines()) == 2
    assert engines() == []
