"""Reading and writing the Lichess puzzle CSV, every column kept.

Columns: ``PuzzleId,FEN,Moves,Rating,RatingDeviation,Popularity,NbPlays,Themes,GameUrl,OpeningTags``
(any extra columns are kept too). A bad row is reported with its line number and PuzzleId and skipped.

Positional exercises (:mod:`chessteach.exercises`) use the same file with a ``Distractors`` column; there
``FEN`` is the solver's own position and ``Moves`` the best move alone (no setup move), and they load as
puzzles without a setup move (:attr:`Puzzle.has_setup` is False).
"""

from __future__ import annotations

import csv
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from chessteach.errors import BadRecordError
from chessteach.puzzles.puzzle import Puzzle, parse_moves

logger = logging.getLogger(__name__)

LICHESS_COLUMNS = [
    "PuzzleId",
    "FEN",
    "Moves",
    "Rating",
    "RatingDeviation",
    "Popularity",
    "NbPlays",
    "Themes",
    "GameUrl",
    "OpeningTags",
]
REQUIRED_COLUMNS = ["PuzzleId", "FEN", "Moves"]

DISTRACTORS_COLUMN = "Distractors"
"""The column that makes a row a positional exercise: its wrong choices, UCI, space separated."""
DISTRACTORS = 3
"""Wrong choices per exercise (with the best move: four candidates in a multiple-choice question)."""


@dataclass
class PuzzleFile:
    """The puzzles of one CSV file, the column order it had, and the rows that were skipped."""

    path: str
    columns: list[str]
    puzzles: list[Puzzle] = field(default_factory=list)
    errors: list[BadRecordError] = field(default_factory=list)


def bundled_puzzles() -> Path:
    """The bundled sample set, ``puzzles/lichess-sample.csv`` (packaged as ``chessteach/data/puzzles``)."""
    from chessteach.data import bundled

    return bundled("puzzles", "lichess-sample.csv")


def bundled_exercises() -> Path:
    """The bundled positional exercises, ``puzzles/positional-exercises.csv`` (packaged as
    ``chessteach/data/puzzles``; see :mod:`chessteach.exercises`)."""
    from chessteach.data import bundled

    return bundled("puzzles", "positional-exercises.csv")


def _row_to_puzzle(row: dict[str, str], source: str) -> Puzzle:
    rating_text = (row.get("Rating") or "").strip()
    try:
        rating = int(rating_text) if rating_text else None
    except ValueError:
        raise ValueError(f"bad Rating {rating_text!r}") from None
    moves = parse_moves(row["Moves"])
    extra = {k: v for k, v in row.items() if k not in ("PuzzleId", "FEN", "Moves", "Rating", "Themes")}
    if DISTRACTORS_COLUMN in row:
        extra.setdefault("Setup", "none")  # an exercise: FEN is the solver's position, Moves the best move
    return Puzzle(
        id=row["PuzzleId"],
        fen=row["FEN"],
        moves=moves,
        rating=rating,
        themes=(row.get("Themes") or "").split(),
        source=source,
        extra=extra,
    )


def iter_puzzles(path: str | os.PathLike[str], errors: list[BadRecordError] | None = None) -> Iterator[Puzzle]:
    """Yield the puzzles of a Lichess CSV, one at a time; bad rows are logged, appended to ``errors``, skipped.

    Raises :class:`BadRecordError` if the header lacks a required column.
    """
    source = str(path)
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames or []
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            raise BadRecordError(f"missing column(s) {', '.join(missing)} in the header", source=source, line=1)
        for row in reader:
            line = reader.line_num
            record = row.get("PuzzleId") or None
            try:
                if None in row or any(row.get(c) is None for c in header):
                    raise ValueError(f"expected {len(header)} columns, got a different number")
                yield _row_to_puzzle(row, source)
            except (ValueError, KeyError) as exc:
                error = BadRecordError(str(exc), source=source, line=line, record=record)
                logger.warning("skipping puzzle: %s", error)
                if errors is not None:
                    errors.append(error)


def read_puzzles(path: str | os.PathLike[str]) -> PuzzleFile:
    """Read a whole Lichess puzzle CSV. Bad rows land in ``PuzzleFile.errors``; the rest load."""
    errors: list[BadRecordError] = []
    with open(path, newline="", encoding="utf-8") as fh:
        header = next(csv.reader(fh), [])
    puzzles = list(iter_puzzles(path, errors))
    if errors:
        logger.warning("%s: %d bad row(s) skipped, %d puzzles loaded", path, len(errors), len(puzzles))
    return PuzzleFile(path=str(path), columns=header, puzzles=puzzles, errors=errors)


def puzzle_row(puzzle: Puzzle) -> dict[str, str]:
    """A puzzle as a CSV row (Lichess's columns first, then its extra columns)."""
    row = {
        "PuzzleId": puzzle.id,
        "FEN": puzzle.fen,
        "Moves": " ".join(m.uci() for m in puzzle.moves),
        "Rating": "" if puzzle.rating is None else str(puzzle.rating),
        "Themes": " ".join(puzzle.themes),
    }
    row.update(puzzle.extra)
    if DISTRACTORS_COLUMN in row and row.get("Setup") == "none":
        del row["Setup"]  # implied by the Distractors column (see the module doc)
    return row


def write_puzzles(
    path: str | os.PathLike[str], puzzles: Iterable[Puzzle], *, columns: list[str] | None = None
) -> None:
    """Write puzzles as a Lichess CSV. ``columns`` fixes the order; columns the puzzles add go after them
    (those left empty by every puzzle are not written)."""
    rows = [puzzle_row(p) for p in puzzles]
    order = list(columns or LICHESS_COLUMNS)
    added = {key: False for row in rows for key in row if key not in order}  # first-seen order
    for row in rows:
        for key in added:
            added[key] = added[key] or bool(row.get(key))
    order += [key for key, filled in added.items() if filled]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=order, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in order})
