"""Filters on a Lichess puzzle's own columns (rating, themes, popularity, plays), cheap checks made before any
engine work: ``PuzzleFilter(...).matches(puzzle)``, and :func:`parse_range` for a rating range such as
``1500-2000``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from chessteach.errors import UsageError
from chessteach.puzzles.puzzle import Puzzle


class FilterError(UsageError, ValueError):
    """A filter's value cannot be used (a rating range that is not ``LOW-HIGH``, ...)."""


def parse_range(text: str) -> tuple[int | None, int | None]:
    """A range ``LOW-HIGH`` of whole numbers, either end open (``1500-``, ``-2000``), or one number ``N``
    (exactly N).

    >>> parse_range("1500-2000"), parse_range("1500-"), parse_range("-2000"), parse_range("1800")
    ((1500, 2000), (1500, None), (None, 2000), (1800, 1800))
    >>> parse_range("abc")
    Traceback (most recent call last):
    ...
    chessteach.puzzles.filters.FilterError: 'abc' is not a range LOW-HIGH of whole numbers (e.g. 1500-2000)
    """
    low, dash, high = text.strip().partition("-")
    try:
        if not dash:
            value = int(low)
            return value, value
        bounds = (int(low) if low.strip() else None, int(high) if high.strip() else None)
    except ValueError:
        raise FilterError(f"{text!r} is not a range LOW-HIGH of whole numbers (e.g. 1500-2000)") from None
    if bounds == (None, None) or (bounds[0] is not None and bounds[1] is not None and bounds[0] > bounds[1]):
        raise FilterError(f"{text!r} is not a range LOW-HIGH of whole numbers with LOW <= HIGH (e.g. 1500-2000)")
    return bounds


def _column(puzzle: Puzzle, name: str) -> int | None:
    try:
        return int(puzzle.extra.get(name, ""))
    except ValueError:
        return None


@dataclass(frozen=True)
class PuzzleFilter:
    """Which puzzles to keep: a rating range (ends included, either open), themes the puzzle has (any of
    ``themes``, and all of ``all_themes``), and minimums on Lichess's ``Popularity`` and ``NbPlays`` columns.
    A puzzle without the value a filter asks about does not match it. The empty filter keeps every puzzle.

    >>> from chessteach.puzzles import read_puzzles
    >>> puzzles = read_puzzles("tests/data/lichess-dev.csv").puzzles
    >>> forks = PuzzleFilter(themes=("fork",), min_rating=1500, max_rating=2000)
    >>> sum(forks.matches(p) for p in puzzles) > 0, PuzzleFilter().active
    (True, False)
    """

    min_rating: int | None = None
    max_rating: int | None = None
    themes: tuple[str, ...] = ()
    all_themes: tuple[str, ...] = ()
    min_popularity: int | None = None
    min_plays: int | None = None

    @property
    def active(self) -> bool:
        """Whether the filter drops anything at all."""
        return self != PuzzleFilter()

    def matches(self, puzzle: Puzzle) -> bool:
        """Whether ``puzzle`` passes every filter set."""
        if self.min_rating is not None or self.max_rating is not None:
            if puzzle.rating is None:
                return False
            if self.min_rating is not None and puzzle.rating < self.min_rating:
                return False
            if self.max_rating is not None and puzzle.rating > self.max_rating:
                return False
        if self.themes and not set(self.themes) & set(puzzle.themes):
            return False
        if self.all_themes and not set(self.all_themes) <= set(puzzle.themes):
            return False
        for name, minimum in (("Popularity", self.min_popularity), ("NbPlays", self.min_plays)):
            if minimum is not None:
                value = _column(puzzle, name)
                if value is None or value < minimum:
                    return False
        return True

    def select(self, puzzles: Iterable[Puzzle]) -> Iterator[Puzzle]:
        """The puzzles that match, in their order."""
        return (puzzle for puzzle in puzzles if self.matches(puzzle))


def puzzle_filter(
    rating: str | None = None,
    themes: Sequence[str] = (),
    all_themes: Sequence[str] = (),
    min_popularity: int | None = None,
    min_plays: int | None = None,
) -> PuzzleFilter:
    """A :class:`PuzzleFilter` from a command line's values (``rating`` as :func:`parse_range` reads it); a bad
    value raises :class:`FilterError`.

    >>> puzzle_filter(rating="1500-2000", themes=["fork"])
    PuzzleFilter(min_rating=1500, max_rating=2000, themes=('fork',), all_themes=(), min_popularity=None, min_plays=None)
    """
    low, high = parse_range(rating) if rating is not None else (None, None)
    for theme in (*themes, *all_themes):
        if not theme.strip() or " " in theme.strip():
            raise FilterError(f"{theme!r} is not a theme name (one word, e.g. fork)")
    return PuzzleFilter(low, high, tuple(t.strip() for t in themes), tuple(t.strip() for t in all_themes),
                        min_popularity, min_plays)
