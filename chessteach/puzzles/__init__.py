"""Puzzles in Lichess's conventions: the type, CSV in and out, tagging, verification and mining."""

from chessteach.puzzles.lichess_csv import (
    LICHESS_COLUMNS,
    PuzzleFile,
    PuzzleWriter,
    bundled_exercises,
    bundled_puzzles,
    iter_puzzles,
    read_puzzles,
    write_puzzles,
)
from chessteach.puzzles.puzzle import Puzzle, PuzzleError, parse_moves
from chessteach.puzzles.tag import THEMES, tag_puzzle, tag_puzzles, theme_report

__all__ = [
    "bundled_exercises",
    "bundled_puzzles",
    "LICHESS_COLUMNS",
    "THEMES",
    "Puzzle",
    "PuzzleError",
    "PuzzleFile",
    "PuzzleWriter",
    "iter_puzzles",
    "parse_moves",
    "read_puzzles",
    "tag_puzzle",
    "tag_puzzles",
    "theme_report",
    "write_puzzles",
]
