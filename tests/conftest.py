"""Shared fixtures: the project's own real data (``tests/data``, ``chessteach/data/games``), the real Stockfish, a
fresh cache (the autouse fixture that isolates it is in the checkout's ``conftest.py``, for the doctests too).
Nothing here reads outside the checkout."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEST_DATA = ROOT / "tests" / "data"
BUNDLED_PUZZLES = ROOT / "puzzles"


def pytest_configure(config: pytest.Config) -> None:
    """Ctrl-C reaches the commands the tests interrupt as it does from a terminal: a suite started in the
    background without job control (``pytest &`` in a script, ``nohup``) inherits SIGINT ignored, Python keeps an
    ignored SIGINT ignored, and so would every command the tests start. A handled signal is reset to the default
    in a child, so each command installs its own KeyboardInterrupt handler."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def lichess_csv() -> Path:
    """2,462 real Lichess puzzles (CC0), ``tests/data/lichess-dev.csv``."""
    return TEST_DATA / "lichess-dev.csv"


@pytest.fixture(scope="session")
def pgn_dir() -> Path:
    """The bundled tournament games (Zurich 1953, Madrid 2022, Norway 2022), ``chessteach/data/games``."""
    from chessteach.data import bundled

    return bundled("games")


@pytest.fixture(scope="session")
def engine_path() -> str:
    """The real Stockfish binary (the tests never mock it)."""
    from chessteach.engine import find_engine

    return find_engine()


@pytest.fixture
def cache_path(tmp_path: Path) -> Path:
    return tmp_path / "analysis.sqlite"


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random Llama with a chess-trained BPE tokenizer, saved as a checkpoint by the package's own builder
    (:func:`chessteach.rl.tiny.build_random_model`). Nothing is downloaded: the tests load it from a temp dir with
    ``HF_HUB_OFFLINE=1``, through the same code that loads real checkpoints."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from chessteach.rl.tiny import build_random_model

    return build_random_model(tmp_path_factory.mktemp("tiny-model"))
