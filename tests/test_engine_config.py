"""Finding the engine, and the clear error when there is none."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from chessteach.cli import app
from chessteach.engine import find_engine, load_config
from chessteach.engine.config import ENGINE_ENV
from chessteach.errors import EngineNotFoundError


def test_finds_the_real_engine(engine_path: str) -> None:
    assert Path(engine_path).is_file()


def test_missing_engine_gives_the_install_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENGINE_ENV, raising=False)
    with pytest.raises(EngineNotFoundError, match=r"install Stockfish with: .*(apt-get|brew|download)"):
        find_engine(candidates=["no-such-engine-anywhere", "/nonexistent/stockfish"])
    with pytest.raises(EngineNotFoundError, match=r"'/nonexistent/sf' \(from --engine\)"):
        find_engine("/nonexistent/sf")


def test_engine_from_the_environment(monkeypatch: pytest.MonkeyPatch, engine_path: str) -> None:
    monkeypatch.setenv(ENGINE_ENV, engine_path)
    assert find_engine() == engine_path
    monkeypatch.setenv(ENGINE_ENV, "/nonexistent/sf")
    with pytest.raises(EngineNotFoundError, match=r"\$CHESSTEACH_ENGINE"):
        find_engine()


def test_options_come_from_the_toml_and_can_be_overridden(tmp_path: Path) -> None:
    assert load_config().options["Threads"] == 1
    assert load_config(overrides={"Hash": 32}).options["Hash"] == 32
    custom = tmp_path / "sf.toml"
    custom.write_text('[options]\nThreads = 1\nHash = 8\nContempt = 0\n')
    assert load_config(config_file=custom).options == {"Threads": 1, "Hash": 8, "Contempt": 0}
    broken = tmp_path / "broken.toml"
    broken.write_text("[options\n")
    with pytest.raises(ValueError, match="broken.toml: bad TOML"):
        load_config(config_file=broken)


def test_cli_reports_a_missing_engine_in_one_line(pgn_dir: Path) -> None:
    result = CliRunner().invoke(
        app, ["evals", str(pgn_dir / "norway-chess-2022-classical.pgn"), "--engine", "/nonexistent/sf"]
    )
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "install Stockfish with" in lines[0]
