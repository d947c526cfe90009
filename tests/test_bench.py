"""The benchmarks run end to end (tiny sizes: the figures themselves are in BENCHMARKS.md)."""

from __future__ import annotations

from pathlib import Path

from games import extract_game
from typer.testing import CliRunner

from chessteach.cli import app
from chessteach.engine import AnalysisCache, EngineLimit, EnginePool, load_config
from chessteach.engine.bench import stockfish_bench_nps
from chessteach.games.bench import run_history_bench


def test_stockfish_bench_reports_its_speed() -> None:
    assert stockfish_bench_nps(load_config().path) > 10_000


def test_bench_engine_prints_its_ratio() -> None:
    result = CliRunner().invoke(app, ["bench", "engine", "-n", "6", "--nodes", "5000", "-w", "2"])
    assert result.exit_code == 0, result.output
    assert "ratio (goal >= 0.85)" in result.output
    assert "no engine started" in result.output


def test_bench_review_prints_games_per_minute(pgn_dir: Path, tmp_path: Path) -> None:
    text = (pgn_dir / "norway-chess-2022-classical.pgn").read_text().split("\n[Event ")
    pgn = tmp_path / "two.pgn"
    pgn.write_text(text[0] + "\n[Event " + text[1])
    result = CliRunner().invoke(app, ["bench", "review", str(pgn), "--nodes", "3000", "-w", "2"])
    assert result.exit_code == 0, result.output
    assert "games/min" in result.output and "ratio" in result.output


def test_bench_nodes_compares_limits(pgn_dir: Path, tmp_path: Path) -> None:
    text = (pgn_dir / "norway-chess-2022-classical.pgn").read_text().split("\n[Event ")
    pgn = tmp_path / "one.pgn"
    pgn.write_text(text[0])
    result = CliRunner().invoke(
        app, ["bench", "nodes", str(pgn), "--nodes", "2000", "--nodes", "8000", "--adaptive", "2000", "-n", "1",
              "-w", "2"], terminal_width=200,
    )
    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines() if "8,000" in line and "1.000" in line]
    assert rows, result.output  # the reference agrees with itself
    adaptive = [line for line in result.output.splitlines() if line.startswith("│ adapt")]  # wrapped at 80 columns
    assert len(adaptive) == 1 and "*" in adaptive[0], result.output  # its time is modelled
    missing = CliRunner().invoke(app, ["bench", "nodes", str(pgn), "--nodes", "8000", "--adaptive", "1000"])
    assert missing.exit_code == 2 and "its steps 1,000, 2,000 must be among --nodes" in missing.output


def test_bench_history_finds_the_repetition_draw(pgn_dir: Path, tmp_path: Path) -> None:
    """Nepomniachtchi - Caruana (Madrid 2022, game 7 of the file) ends in a repetition: with the history the
    engine scores the repeated positions as the draw they are."""
    pgn = extract_game(pgn_dir / "candidates-madrid-2022.pgn", 7, tmp_path)
    with EnginePool(limit=EngineLimit(nodes=20_000), workers=2, cache=AnalysisCache(":memory:")) as pool:
        result = run_history_bench([pgn], pool)
    assert (result.games, result.games_with_repetitions) == (1, 1)
    assert result.with_repetitions >= 2 and result.moves_judged >= result.with_repetitions
    assert 1 <= result.drawn_with_history <= result.eval_changed <= result.with_repetitions
    runner = CliRunner().invoke(app, ["bench", "history", str(pgn), "--nodes", "20000", "-w", "2", "--cache",
                                      str(tmp_path / "cache.sqlite")])
    assert runner.exit_code == 0, runner.output
    assert "0.00 (a repetition draw) only with the history" in runner.output
