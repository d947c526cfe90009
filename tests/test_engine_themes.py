"""Engine themes (advantage, crushing, equality, zugzwang) with the real Stockfish."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from chessteach.cli import app
from chessteach.engine import AnalysisCache, EngineLimit, EnginePool
from chessteach.puzzles import read_puzzles
from chessteach.puzzles.engine_themes import engine_themes, evaluation_theme


@pytest.mark.parametrize(("cp", "theme"), [(347, "crushing"), (346, "advantage"), (116, "advantage"), (115, "equality"), (-50, "equality")])
def test_evaluation_theme_thresholds(cp: int, theme: str) -> None:
    assert evaluation_theme(cp) == theme


def test_engine_themes_on_real_puzzles(lichess_csv: Path) -> None:
    puzzles = read_puzzles(lichess_csv).puzzles[:12]
    with EnginePool(limit=EngineLimit(nodes=50_000), workers=2, cache=AnalysisCache(":memory:")) as pool:
        themes = engine_themes(puzzles, pool, zugzwang_nodes=20_000)
    for puzzle in puzzles:
        evaluation = [t for t in themes[puzzle.id] if t in ("advantage", "crushing", "equality")]
        if puzzle.final_board().is_checkmate():
            assert evaluation == [], puzzle.id  # a mate puzzle takes no evaluation theme
        else:
            assert len(evaluation) == 1, puzzle.id


def test_zugzwang_on_real_puzzles(lichess_csv: Path) -> None:
    # 03mv2: 1...g5 2.Kf5 Kh3! and White's king must give up g5: Lichess tags it zugzwang.
    by_id = {p.id: p for p in read_puzzles(lichess_csv).puzzles}
    puzzles = [by_id["03mv2"], by_id["09Bft"], by_id["00008"]]
    with EnginePool(limit=EngineLimit(nodes=30_000), workers=2, cache=AnalysisCache(":memory:")) as pool:
        themes = engine_themes(puzzles, pool, zugzwang_nodes=100_000)
    assert "zugzwang" in themes["03mv2"] and "zugzwang" in themes["09Bft"]
    assert "zugzwang" not in themes["00008"]  # a middlegame tactic


def test_tag_cli_with_the_engine(lichess_csv: Path, tmp_path: Path) -> None:
    sample = tmp_path / "six.csv"
    sample.write_text("\n".join(lichess_csv.read_text().splitlines()[:7]) + "\n")
    out = tmp_path / "tagged.csv"
    result = CliRunner().invoke(
        app,
        ["puzzles", "tag", str(sample), "-o", str(out), "--report", "--engine", "--nodes", "30000", "--cache",
         str(tmp_path / "c.sqlite")],
    )
    assert result.exit_code == 0, result.output
    assert "crushing" in result.output or "advantage" in result.output
    tagged = read_puzzles(out).puzzles
    assert all(p.extra["SourceThemes"] for p in tagged)
    assert any(t in p.themes for p in tagged for t in ("crushing", "advantage", "equality"))
