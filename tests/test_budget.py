"""The adaptive node budget with the real Stockfish on a real game: deeper only where a judgment is in doubt,
the same analyses whatever the workers, and a resume from the cache that searches nothing."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest
from games import extract_game
from typer.testing import CliRunner

from chessteach.cli import app
from chessteach.engine import AnalysisCache, EngineLimit, EnginePool
from chessteach.games.budget import AdaptiveBudget, adaptive_analyses, in_doubt
from chessteach.games.read import game_inputs, read_games
from chessteach.games.review import review_game

BUDGET = AdaptiveBudget(nodes=16_000, first=1_000, margin=0.05)
"""Steps of 1,000, 4,000 and 16,000 nodes: small, so that the steps disagree often."""
ZURICH_GAME = 9
"""Geller - Euwe, Zurich 1953: a sharp game with a mistake and a combination."""


@pytest.fixture(scope="module")
def game_pgn(pgn_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return extract_game(pgn_dir / "candidates-zurich-1953.pgn", ZURICH_GAME, tmp_path_factory.mktemp("budget"))


def analyse(pgn: Path, workers: int, cache: AnalysisCache) -> tuple[list, Counter[int], int]:
    game = next(r.game for r in read_games(pgn) if r.game is not None)
    searches: Counter[int] = Counter()
    with EnginePool(limit=EngineLimit(nodes=BUDGET.nodes), workers=workers, cache=cache) as pool:
        analyses = adaptive_analyses([game_inputs(game)], pool, BUDGET, searches=searches)
        fresh = pool.searches
    return analyses[0], searches, fresh


def test_steps_and_doubt_decide_what_goes_deeper(game_pgn: Path) -> None:
    assert BUDGET.steps == (1_000, 4_000, 16_000)
    cache = AnalysisCache(":memory:")
    analyses, searches, fresh = analyse(game_pgn, 2, cache)
    game = next(r.game for r in read_games(game_pgn) if r.game is not None)
    inputs = game_inputs(game)
    assert searches[1_000] == len(inputs) - sum(not any(i.board.generate_legal_moves()) for i in inputs)
    assert 0 < searches[16_000] <= searches[4_000] < searches[1_000]  # deeper for some positions, not all
    assert fresh == sum(searches.values())
    # at the end, every move still in doubt has both its positions at the full budget, searched there
    with EnginePool(limit=EngineLimit(nodes=BUDGET.nodes), workers=1, cache=cache) as pool:
        engine, top = pool.engine_id, pool.search_key(EngineLimit(nodes=BUDGET.nodes))
    for i in range(len(inputs) - 1):
        before, after = analyses[i], analyses[i + 1]
        if in_doubt(before, after, inputs[i].board.turn, BUDGET.margin):
            for position in (inputs[i], inputs[i + 1]):
                if any(position.board.generate_legal_moves()):
                    assert cache.get(position.key, engine, top, 1) is not None, (i, position.board.fen())
    review = review_game(game, analyses)
    assert len(review.moves) == len(inputs) - 1 and not review.errors


def test_the_same_analyses_with_one_or_two_workers_and_after_a_resume(game_pgn: Path, tmp_path: Path) -> None:
    one, _, _ = analyse(game_pgn, 1, AnalysisCache(":memory:"))
    cache_file = tmp_path / "budget.sqlite"
    with AnalysisCache(cache_file) as cache:
        two, searches, _ = analyse(game_pgn, 2, cache)
    with AnalysisCache(cache_file) as cache:
        resumed, again, fresh = analyse(game_pgn, 2, cache)
    assert [a.lines for a in one] == [a.lines for a in two] == [a.lines for a in resumed]
    assert again == searches and fresh == 0  # the resumed run asks for the same searches and finds them all


def test_budget_refuses_a_first_step_above_its_budget() -> None:
    with pytest.raises(ValueError, match="between 1 and the budget"):
        AdaptiveBudget(nodes=1_000, first=2_000)


def test_analyze_adaptive_writes_the_review(game_pgn: Path, tmp_path: Path) -> None:
    out = tmp_path / "review"
    common = ["--nodes", "16000", "-w", "2", "--cache", str(tmp_path / "cache.sqlite")]
    result = CliRunner().invoke(app, ["analyze", str(game_pgn), "-o", str(out), "--first-nodes", "1000", *common])
    assert result.exit_code == 0, result.output
    with open(out / "moves.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(list(next(r.game for r in read_games(game_pgn)).mainline_moves()))  # type: ignore[union-attr]
    assert "adaptive 1000..16000 m0.05" in (out / "annotated.pgn").read_text(encoding="utf-8")
    refused = CliRunner().invoke(app, ["evals", str(game_pgn), "--first-nodes", "20000", *common])
    assert refused.exit_code == 2 and "--first-nodes 20,000 is above --nodes 16,000" in refused.output
