"""Shared fixtures: the real data beside the checkout (``../shared/data``), the real Stockfish, a fresh cache."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("CHESSTEACH_SHARED_DATA", ROOT.parent / "shared" / "data"))
BUNDLED_PUZZLES = ROOT / "puzzles"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` beside the checkout (real Lichess puzzles and tournament PGNs)."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"{SHARED_DATA} is missing: the tests run against the real data in ../shared/data")
    return SHARED_DATA


@pytest.fixture(scope="session")
def lichess_csv(shared_data: Path) -> Path:
    return shared_data / "puzzles" / "lichess-dev.csv"


@pytest.fixture(scope="session")
def pgn_dir(shared_data: Path) -> Path:
    return shared_data / "pgn"


@pytest.fixture(scope="session")
def engine_path() -> str:
    """The real Stockfish binary (the tests never mock it)."""
    from chessteach.engine import find_engine

    return find_engine()


@pytest.fixture
def cache_path(tmp_path: Path) -> Path:
    return tmp_path / "analysis.sqlite"


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test touches the user's real analysis cache."""
    monkeypatch.setenv("CHESSTEACH_CACHE", str(tmp_path_factory.mktemp("cache") / "analysis.sqlite"))


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    """A tiny random Llama with a chess-trained BPE tokenizer, saved as a checkpoint (see tests/tiny_model.py)."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"), shared_data)
