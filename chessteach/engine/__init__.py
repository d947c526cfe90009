"""Stockfish over UCI: finding it, a process pool, a persistent cache and Lichess's score math."""

from chessteach.engine.analysis import (
    Analysis,
    EngineInput,
    EngineLimit,
    EngineLine,
    engine_board,
    line_inputs,
    position_key,
    repeated_positions,
)
from chessteach.engine.cache import AnalysisCache, default_cache_path
from chessteach.engine.config import EngineConfig, find_engine, load_config
from chessteach.engine.pool import DEFAULT_NODES, EnginePool, PositionFailure
from chessteach.engine.score import (
    GameAccuracy,
    Judgment,
    chance_drop,
    clamp_cp,
    game_accuracy,
    judge,
    move_accuracy,
    score_chances,
    score_win_percent,
    win_chance,
    win_percent,
    winning_chances,
)

__all__ = [
    "DEFAULT_NODES",
    "Analysis",
    "AnalysisCache",
    "EngineConfig",
    "EngineInput",
    "EngineLimit",
    "EngineLine",
    "EnginePool",
    "GameAccuracy",
    "Judgment",
    "PositionFailure",
    "clamp_cp",
    "default_cache_path",
    "find_engine",
    "game_accuracy",
    "chance_drop",
    "judge",
    "line_inputs",
    "load_config",
    "move_accuracy",
    "engine_board",
    "position_key",
    "repeated_positions",
    "score_chances",
    "score_win_percent",
    "win_chance",
    "win_percent",
    "winning_chances",
]
