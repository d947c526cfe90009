"""Lichess's score math against values worked out by hand here from Lichess's published formulas."""

from __future__ import annotations

import math

import chess
import chess.engine
import pytest

from chessteach.engine import Judgment, clamp_cp, game_accuracy, judge, move_accuracy, win_percent

W, B = chess.WHITE, chess.BLACK


def pov(score: chess.engine.Score, color: chess.Color) -> chess.engine.PovScore:
    return chess.engine.PovScore(score, color)


def lichess_win(cp: float) -> float:
    """Lichess's formula, written out independently of the code under test."""
    cp = max(-1000, min(1000, cp))
    return 50 + 50 * (2 / (1 + math.exp(-0.00368208 * cp)) - 1)


@pytest.mark.parametrize(
    ("cp", "expected"),
    [
        (0, 50.0),
        (100, 59.1026),  # 50 + 50 * (2 / (1 + e^-0.368208) - 1)
        (-100, 40.8974),
        (300, 75.1126),
        (1000, 97.5447),
        (1500, 97.5447),  # clamped to 1000
        (-5000, 2.4553),
    ],
)
def test_win_percent_matches_hand_values(cp: int, expected: float) -> None:
    assert win_percent(cp) == pytest.approx(expected, abs=1e-3)


def test_mates_count_as_a_thousand_centipawns() -> None:
    assert clamp_cp(chess.engine.Mate(1)) == 1000
    assert clamp_cp(chess.engine.Mate(-7)) == -1000
    assert clamp_cp(chess.engine.Mate(0)) == -1000  # the side to move is mated
    assert clamp_cp(chess.engine.Cp(-1234)) == -1000


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (60.0, 60.0, 100.0),
        (40.0, 55.0, 100.0),  # an improvement is perfect
        (50.0, 45.0, 103.1668100711649 * math.exp(-0.04354415386753951 * 5) - 3.166924740191411 + 1),  # 84.2...
        (80.0, 20.0, 103.1668100711649 * math.exp(-0.04354415386753951 * 60) - 3.166924740191411 + 1),  # 5.3...
        (100.0, 0.0, 0.0),  # raw is negative: clamped to 0
    ],
)
def test_move_accuracy(before: float, after: float, expected: float) -> None:
    assert move_accuracy(before, after) == pytest.approx(expected, abs=1e-9)
    assert 0 <= move_accuracy(before, after) <= 100


def test_game_accuracy_by_hand() -> None:
    # Four moves; evals after each move from white's side. Window size: max(2, min(8, 4 // 10)) = 2.
    cps = [20, 30, -200, -210]
    w = [lichess_win(cp) for cp in [15, *cps]]  # 15 cp: Lichess's initial evaluation
    # Windows of two consecutive win%; the weight is their population std, |a - b| / 2, clamped to [0.5, 12].
    weights = [min(12, max(0.5, abs(w[i] - w[i + 1]) / 2)) for i in range(4)]

    def acc(before: float, after: float) -> float:
        if after >= before:
            return 100.0
        raw = 103.1668100711649 * math.exp(-0.04354415386753951 * (before - after)) - 3.166924740191411 + 1
        return min(100.0, max(0.0, raw))

    white_moves = [(acc(w[0], w[1]), weights[0]), (acc(w[2], w[3]), weights[2])]
    black_moves = [(acc(100 - w[1], 100 - w[2]), weights[1]), (acc(100 - w[3], 100 - w[4]), weights[3])]

    def side(moves: list[tuple[float, float]]) -> float:
        weighted = sum(a * k for a, k in moves) / sum(k for _, k in moves)
        harmonic = len(moves) / sum(1 / max(1.0, a) for a, _ in moves)
        return (weighted + harmonic) / 2

    result = game_accuracy(cps)
    assert result.white == pytest.approx(side(white_moves), abs=1e-9)
    assert result.black == pytest.approx(side(black_moves), abs=1e-9)
    assert result.white is not None and result.black is not None
    assert result.white < result.black  # white dropped 2.3 pawns, black nothing


def test_game_accuracy_long_game_uses_the_window_rule() -> None:
    # 30 moves: window max(2, min(8, 3)) = 3; the first (3 - 2) = 1 window is repeated.
    cps = [(-1) ** i * 10 * i for i in range(30)]
    w = [lichess_win(cp) for cp in [15, *cps]]
    windows = [w[:3]] + [w[i : i + 3] for i in range(len(w) - 2)]
    assert len(windows) == 30

    def std(xs: list[float]) -> float:
        m = sum(xs) / len(xs)
        return math.sqrt(sum((x - m) ** 2 for x in xs) / len(xs))

    weights = [min(12, max(0.5, std(x))) for x in windows]
    accs = []
    for i in range(30):
        before, after = (w[i], w[i + 1]) if i % 2 == 0 else (100 - w[i], 100 - w[i + 1])
        drop = before - after
        raw = 100.0 if drop <= 0 else 103.1668100711649 * math.exp(-0.04354415386753951 * drop) - 3.166924740191411 + 1
        accs.append(min(100.0, max(0.0, raw)))
    white = [(accs[i], weights[i]) for i in range(0, 30, 2)]
    weighted = sum(a * k for a, k in white) / sum(k for _, k in white)
    harmonic = len(white) / sum(1 / max(1.0, a) for a, _ in white)
    assert game_accuracy(cps).white == pytest.approx((weighted + harmonic) / 2, abs=1e-9)


def test_game_accuracy_of_an_empty_game() -> None:
    assert game_accuracy([]).white is None


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        # Winning chances 2/(1+exp(-0.00368208 cp)) - 1, from the mover's side:
        # +0.50 -> 0.0917, -1.50 -> -0.2731: drop 0.365 >= 0.3
        (chess.engine.Cp(50), chess.engine.Cp(-150), Judgment.BLUNDER),
        # 0 -> 0, -1.20 -> -0.2152: drop 0.215 in [0.2, 0.3)
        (chess.engine.Cp(0), chess.engine.Cp(-120), Judgment.MISTAKE),
        # 0 -> 0, -0.60 -> -0.1098: drop 0.110 in [0.1, 0.2)
        (chess.engine.Cp(0), chess.engine.Cp(-60), Judgment.INACCURACY),
        # 0 -> 0, -0.50 -> -0.0917: no judgment
        (chess.engine.Cp(0), chess.engine.Cp(-50), None),
        # Lichess does not clamp here: +25.00 -> 0.9998, +10.00 -> 0.9509: drop 0.049, nothing
        (chess.engine.Cp(2500), chess.engine.Cp(1000), None),
        # Mates. Walking into a forced mate from -8.00: a mistake; from -12.00: an inaccuracy; from +1.00: a blunder
        (chess.engine.Cp(-800), chess.engine.Mate(-2), Judgment.MISTAKE),
        (chess.engine.Cp(-1200), chess.engine.Mate(-2), Judgment.INACCURACY),
        (chess.engine.Cp(100), chess.engine.Mate(-5), Judgment.BLUNDER),
        # Losing a forced mate: still +12.00 after it, an inaccuracy; +8.00 a mistake; +3.00 a blunder
        (chess.engine.Mate(3), chess.engine.Cp(1200), Judgment.INACCURACY),
        (chess.engine.Mate(3), chess.engine.Cp(800), Judgment.MISTAKE),
        (chess.engine.Mate(3), chess.engine.Cp(300), Judgment.BLUNDER),
        (chess.engine.Mate(3), chess.engine.Mate(-4), Judgment.BLUNDER),
        # A slower mate is no error; nor is anything once mated anyway
        (chess.engine.Mate(2), chess.engine.Mate(6), None),
        (chess.engine.Mate(-3), chess.engine.Mate(-1), None),
        (chess.engine.Mate(-3), chess.engine.Cp(-500), None),
    ],
)
@pytest.mark.parametrize("mover", [W, B])
def test_judgments(
    before: chess.engine.Score, after: chess.engine.Score, expected: Judgment | None, mover: chess.Color
) -> None:
    # The scores above are from the mover's side; the engine reports them relative to the side to move,
    # which is the mover before the move and the opponent after it.
    before_pov = pov(before, mover)
    after_pov = pov(-after, not mover)
    assert judge(before_pov, after_pov, mover) is expected


def test_judgment_nags() -> None:
    assert [j.nag for j in (Judgment.INACCURACY, Judgment.MISTAKE, Judgment.BLUNDER)] == [6, 2, 4]
