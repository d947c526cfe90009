"""Positional exercises: engine-verified "find the best plan" positions mined from real games.

See :mod:`chessteach.exercises.mine`. Exercises are written as a Lichess-like CSV (:data:`EXERCISE_COLUMNS`)
and load with :func:`chessteach.puzzles.read_puzzles` as puzzles without a setup move, so exams and training
take them wherever they take puzzles.
"""

from chessteach.exercises.mine import (
    DISTRACTORS,
    EXERCISE_COLUMNS,
    EXERCISE_MARGIN,
    EXERCISE_STAGES,
    MIN_PLY,
    REVERIFY_FACTOR,
    SCREEN_MARGIN,
    SELECTION_BUFFER,
    ExerciseResult,
    Position,
    Trial,
    exercise_batches,
    margin_of,
    mine_exercises,
    plausible_moves,
)

__all__ = [
    "DISTRACTORS",
    "EXERCISE_COLUMNS",
    "EXERCISE_MARGIN",
    "MIN_PLY",
    "REVERIFY_FACTOR",
    "SCREEN_MARGIN",
    "SELECTION_BUFFER",
    "EXERCISE_STAGES",
    "ExerciseResult",
    "Position",
    "Trial",
    "exercise_batches",
    "margin_of",
    "mine_exercises",
    "plausible_moves",
]
