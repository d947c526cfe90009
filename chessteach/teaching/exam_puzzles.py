"""Which puzzles make an exam: a seeded draw of puzzles of one concept, apart from the teacher's example.

An exam is a seeded draw of puzzles of one concept (a Lichess theme: the puzzle's own, or computed by the
tagger; a positional concept's detector for an exercise), optionally within a rating band (:class:`RatingBand`),
that never contains the teacher's example or its positions (:func:`puzzle_positions`).

>>> str(RatingBand.parse("1500-")), rating_band(1450)
('1500+', '1400-1799')
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import chess

from chessteach.concepts.catalog import CONCEPTS, POSITIONAL
from chessteach.puzzles.puzzle import Puzzle
from chessteach.teaching.prompts import ExamError

logger = logging.getLogger(__name__)

RATING_EDGES: tuple[int, ...] = (1000, 1400, 1800, 2200)
"""Edges of the rating bands of the concept profile: below 1000, 1000-1399, ..., 2200 and up."""

ThemeSource = Literal["own", "computed", "either"]
THEME_SOURCES: tuple[str, ...] = ("own", "computed", "either")


@dataclass(frozen=True)
class RatingBand:
    """Puzzle ratings from ``low`` (inclusive) to ``high`` (exclusive); ``None`` leaves a side open.

    >>> band = RatingBand.parse("1200-1600")
    >>> band.contains(1200), band.contains(1600), str(band)
    (True, False, '1200-1599')
    """

    low: int | None = None
    high: int | None = None

    @classmethod
    def parse(cls, text: str) -> RatingBand:
        """``"1200-1600"``, ``"1500-"`` (and up) or ``"-1000"`` (below)."""
        low_text, sep, high_text = text.strip().partition("-")
        try:
            if not sep:
                raise ValueError
            low = int(low_text) if low_text.strip() else None
            high = int(high_text) if high_text.strip() else None
        except ValueError:
            raise ExamError(f"bad rating band {text!r}: expected LOW-HIGH, LOW- or -HIGH, e.g. 1200-1600") from None
        if low is not None and high is not None and low >= high:
            raise ExamError(f"bad rating band {text!r}: the low end must be below the high end")
        return cls(low, high)

    def contains(self, rating: int | None) -> bool:
        if rating is None:
            return self.low is None and self.high is None
        return (self.low is None or rating >= self.low) and (self.high is None or rating < self.high)

    def __str__(self) -> str:
        if self.low is None and self.high is None:
            return "all"
        if self.low is None:
            return f"<{self.high}"
        if self.high is None:
            return f"{self.low}+"
        return f"{self.low}-{self.high - 1}"


def rating_band(rating: int | None, edges: Sequence[int] = RATING_EDGES) -> str:
    """The profile's band of a rating (``"unrated"`` without one).

    >>> rating_band(950), rating_band(1450), rating_band(2400), rating_band(None)
    ('<1000', '1400-1799', '2200+', 'unrated')
    """
    if rating is None:
        return "unrated"
    bounds: list[int | None] = [None, *edges, None]
    for low, high in zip(bounds, bounds[1:], strict=False):
        band = RatingBand(low, high)
        if band.contains(rating):
            return str(band)
    raise AssertionError("unreachable")


def exam_position_key(board: chess.Board) -> str:
    """A position as the exam tells positions apart: the FEN's first four fields (pieces, side to move, castling
    rights, en passant square), without the move counters and without the repetition history that the engine's
    :func:`~chessteach.engine.analysis.position_key` adds.

    >>> exam_position_key(chess.Board())
    'rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR w KQkq -'
    """
    return " ".join(board.fen().split()[:4])


def puzzle_positions(puzzle: Puzzle) -> set[str]:
    """Every position of the puzzle: its FEN and each position of the line after it."""
    board = chess.Board(puzzle.fen)
    keys = {exam_position_key(board)}
    for move in puzzle.moves:
        board.push(move)
        keys.add(exam_position_key(board))
    return keys


def _positional(theme: str) -> bool:
    concept = CONCEPTS.get(theme)
    return concept is not None and concept.family == POSITIONAL


def puzzle_has_theme(puzzle: Puzzle, theme: str, *, source: ThemeSource = "own") -> bool:
    """Whether a puzzle carries the theme: its own themes (the CSV's ``Themes``), the computed ones, or either.

    The computed themes of a tactical theme are the tagger's (:func:`~chessteach.puzzles.tag.tag_puzzle`); a
    positional concept (an exercise's theme) is computed by its detector on the solver's position, as
    :func:`~chessteach.teaching.explain.pick_example` does.
    """
    if source not in THEME_SOURCES:
        raise ExamError(f"unknown theme source {source!r}; valid sources: {', '.join(THEME_SOURCES)}")
    if source != "computed" and theme in puzzle.themes:
        return True
    if source == "own":
        return False
    try:
        if _positional(theme):
            from chessteach.concepts.registry import verified_positional_facts

            return bool(verified_positional_facts(puzzle.position(), [theme]))
        from chessteach.puzzles.tag import tag_puzzle

        return theme in tag_puzzle(puzzle)
    except (ValueError, AssertionError, IndexError) as exc:
        logger.warning("cannot tag puzzle %s: %s", puzzle.id, exc)
        return False


def draw_exam(
    puzzles: Iterable[Puzzle],
    theme: str,
    *,
    n: int,
    example: Puzzle | None = None,
    exclude: Iterable[Puzzle] = (),
    rating: RatingBand | None = None,
    theme_source: ThemeSource = "own",
    seed: int = 0,
) -> list[Puzzle]:
    """Up to ``n`` puzzles of the theme (in a rating band when given), drawn with a seed.

    The teacher's ``example`` (and any puzzle in ``exclude``) never appears, by id or by position: a puzzle
    that shares any position with one of them is left out. The draw depends only on the seed, the theme and
    the set of candidates (not on their order). Fewer than ``n`` candidates gives all of them, with a warning.
    """
    if n < 1:
        raise ExamError(f"an exam needs at least one puzzle, n={n}")
    banned = [p for p in (example, *exclude) if p is not None]
    banned_ids = {p.id for p in banned}
    banned_positions = set().union(*(puzzle_positions(p) for p in banned)) if banned else set()
    candidates = []
    shared = 0
    for puzzle in puzzles:
        if puzzle.id in banned_ids:
            continue
        if rating is not None and not rating.contains(puzzle.rating):
            continue
        if not puzzle_has_theme(puzzle, theme, source=theme_source):
            continue
        if banned_positions and puzzle_positions(puzzle) & banned_positions:
            shared += 1
            continue
        candidates.append(puzzle)
    if shared:
        logger.info("%s: %d puzzle(s) left out for sharing a position with the example", theme, shared)
    if not candidates:
        where = f" rated {rating}" if rating is not None else ""
        raise ExamError(f"no puzzles of theme {theme!r}{where} to draw an exam from")
    candidates.sort(key=lambda p: p.id)
    if len(candidates) < n:
        logger.warning("%s: only %d puzzle(s) to draw from, fewer than the %d asked for", theme, len(candidates), n)
        return candidates
    return random.Random(f"{seed}:{theme}").sample(candidates, n)


__all__ = [
    "RATING_EDGES",
    "THEME_SOURCES",
    "RatingBand",
    "ThemeSource",
    "draw_exam",
    "exam_position_key",
    "puzzle_has_theme",
    "puzzle_positions",
    "rating_band",
]
