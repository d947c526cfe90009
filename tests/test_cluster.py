"""The engine pool on a real local Ray cluster: the local pool's results position by position, an actor killed
mid-run, a resumed run, ``ray://`` and ``RAY_ADDRESS``, and the ``--cluster`` option of the commands."""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import chess
import pytest

from chessteach.engine import AnalysisCache, EngineLimit, EnginePool
from chessteach.games.read import read_games

if importlib.util.find_spec("ray") is None:
    pytest.skip("the [cluster] extra (Ray) is not installed", allow_module_level=True)

from chessteach.engine.cluster import RayEnginePool, import_ray  # noqa: E402

ray = import_ray()

LIMIT = EngineLimit(nodes=5_000)


@pytest.fixture(scope="module")
def game_boards(pgn_dir: Path) -> list[chess.Board]:
    """The first 48 positions of a real game (Madrid 2022), with their histories."""
    record = next(r for r in read_games(pgn_dir / "candidates-madrid-2022.pgn") if r.game is not None)
    assert record.game is not None
    board, boards = record.game.board(), []
    for move in list(record.game.mainline_moves())[:48]:
        boards.append(board.copy())
        board.push(move)
    return boards


@pytest.fixture(scope="module")
def local_results(game_boards: list[chess.Board]) -> list[object]:
    with EnginePool(limit=LIMIT, workers=2) as pool:
        return list(pool.analyse(game_boards))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as fh:  # a zombie is not a process left behind
        return fh.read().split(") ", 1)[1][0] != "Z"


def test_ray_pool_gives_the_local_results_with_an_actor_killed_mid_run(
    game_boards: list[chess.Board], local_results: list[object], cache_path: Path
) -> None:
    killed: list[int] = []
    with AnalysisCache(cache_path) as cache, RayEnginePool(
        limit=LIMIT, workers=2, cache=cache, ray_options={"num_cpus": 2}
    ) as pool:
        def kill_one(done: int, total: int) -> None:
            if 8 <= done < total and not killed:
                killed.extend(ray.get(pool._actors[0].pids.remote()))
                ray.kill(pool._actors[0], no_restart=True)

        results = pool.analyse(game_boards, progress=kill_one)
        assert killed and pool.actors_replaced >= 1
        assert results == local_results  # position by position: lines, scores, nodes, depth, engine
        assert not pool.failures
        assert pool.searches == len(game_boards)  # nothing counted twice
        pids = pool.engine_pids()
        assert len(cache) == len(game_boards)  # the driver's cache, filled as the answers came
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in killed + pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in killed + pids if _alive(pid)], "an engine outlived its actor"
    assert not ray.is_initialized()  # the local instance this pool started is stopped


def test_interrupted_ray_run_resumes_from_the_driver_cache(
    game_boards: list[chess.Board], local_results: list[object], cache_path: Path
) -> None:
    with AnalysisCache(cache_path) as cache, RayEnginePool(
        limit=LIMIT, workers=2, cache=cache, ray_options={"num_cpus": 2}
    ) as pool:
        def interrupt(done: int, total: int) -> None:
            if done >= 20:
                raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            pool.analyse(game_boards, progress=interrupt)
        kept = len(cache)
        assert 20 <= kept < len(game_boards)
        results = pool.analyse(game_boards)
        assert results == local_results
        assert pool.searches == len(game_boards)  # the resumed run searched only what the first did not keep


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def ray_head() -> Iterator[tuple[str, str]]:
    """A Ray head started with ``ray start --head`` on the loopback address: (its GCS address, its Ray Client
    ``ray://`` address). Stopped at the end (``ray stop``)."""
    ray_cli = shutil.which("ray", path=os.path.dirname(sys.executable))
    assert ray_cli is not None
    port, client = _free_port(), _free_port()
    while not all(p >= 20_000 for p in (port, client)):  # clear of the worker ports, 10002-19999
        port, client = _free_port(), _free_port()
    subprocess.run(
        [ray_cli, "start", "--head", "--node-ip-address=127.0.0.1", f"--port={port}", "--num-cpus=2",
         f"--ray-client-server-port={client}", "--include-dashboard=false", "--disable-usage-stats"],
        check=True, capture_output=True, timeout=120,
    )
    try:
        yield f"127.0.0.1:{port}", f"ray://127.0.0.1:{client}"
    finally:
        subprocess.run([ray_cli, "stop", "--force"], capture_output=True, timeout=120)


def test_RAY_ADDRESS_joins_a_running_cluster_and_leaves_it_running(
    ray_head: tuple[str, str], game_boards: list[chess.Board], local_results: list[object],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gcs, _ = ray_head
    monkeypatch.setenv("RAY_ADDRESS", gcs)
    with RayEnginePool(limit=LIMIT) as pool:
        assert pool.workers == 2  # one actor per CPU of the cluster
        assert pool.analyse(game_boards[:24]) == local_results[:24]
    status = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "ray"), "status", f"--address={gcs}"],
        capture_output=True, text=True, timeout=60,
    )
    assert status.returncode == 0, "closing a pool that joined a cluster must not stop the cluster"


def test_bench_cluster_through_ray_client_gives_the_local_results(ray_head: tuple[str, str]) -> None:
    """``--cluster ray://HOST:PORT`` (Ray Client, Ray's token checked): the bench's Ray pool analyses every
    position as the local pool does."""
    _, client = ray_head
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    done = subprocess.run(
        [sys.executable, "-m", "chessteach", "bench", "cluster", "--cluster", client, "--positions", "8",
         "--nodes", "3000", "--rounds", "1", "--workers", "2"], capture_output=True, text=True, timeout=300, env=env,
    )
    assert done.returncode == 0, done.stderr
    assert "ratio = Ray positions/s / local" in done.stdout
    row = next(line for line in done.stdout.splitlines() if "positions analysed differently" in line)
    assert row.split("│")[2].strip() == "0"


def test_analyze_with_cluster_ray_writes_the_local_outputs(tmp_path: Path, pgn_dir: Path) -> None:
    """``chessteach analyze --cluster ray`` (a local cluster started by the command) writes the local pool's
    moves.csv and games.csv byte for byte."""
    pgn = pgn_dir / "candidates-madrid-2022.pgn"
    env = {**os.environ, "RAY_ADDRESS": ""}
    env.pop("RAY_ADDRESS")
    outputs = {}
    for mode in ("local", "ray"):
        out = tmp_path / mode
        args = [sys.executable, "-m", "chessteach", "analyze", str(pgn), "-o", str(out), "--nodes", "3000",
                "--no-cache", "--workers", "2", "--game", "1"]
        done = subprocess.run(args + (["--cluster", "ray"] if mode == "ray" else []), env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        outputs[mode] = [(out / name).read_bytes() for name in ("moves.csv", "games.csv")]
    assert outputs["ray"] == outputs["local"]


def test_cluster_option_rejects_an_unknown_backend(tmp_path: Path, pgn_dir: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "chessteach", "analyze", str(pgn_dir / "candidates-madrid-2022.pgn"),
         "--cluster", "dask"], capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 2
    assert "--cluster" in done.stderr and "ray" in done.stderr



@pytest.mark.parametrize(
    "command", [["analyze"], ["evals"], ["puzzles", "verify"], ["puzzles", "mine"], ["exercises", "mine"]]
)
def test_every_engine_command_of_the_issue_takes_cluster(command: list[str]) -> None:
    from typer.testing import CliRunner

    from chessteach.cli import app

    result = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "--cluster" in result.output
