"""Reading and writing the Lichess puzzle CSV, every column kept.

Columns: ``PuzzleId,FEN,Moves,Rating,RatingDeviation,Popularity,NbPlays,Themes,GameUrl,OpeningTags``
(any extra columns are kept too). A bad row is reported with its line number and PuzzleId and skipped.

Positional exercises (:mod:`chessteach.exercises`) use the same file with a ``Distractors`` column; there
``FEN`` is the solver's own position and ``Moves`` the best move alone (no setup move), and they load as
puzzles without a setup move (:attr:`Puzzle.setup` is False). A ``Setup`` column holding ``none`` says the
same of a puzzle without distractors; it is read into :attr:`Puzzle.setup` and written back from it.
"""

from __future__ import annotations

import contextlib
import csv
import io
import logging
import os
import re
from collections import deque
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from chessteach.errors import BadRecordError
from chessteach.inputs import input_name, open_input
from chessteach.puzzles.puzzle import Puzzle, parse_moves
from chessteach.puzzles.seen_ids import SeenIds

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
SETUP_COLUMN = "Setup"
NO_SETUP = "none"
"""``Setup`` holding ``none`` marks a puzzle given as the solver's position (:attr:`Puzzle.setup` False)."""
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
    # an exercise (FEN the solver's position, Moves the best move) or a puzzle marked as having no setup move
    setup = DISTRACTORS_COLUMN not in row and extra.get(SETUP_COLUMN) != NO_SETUP
    if extra.get(SETUP_COLUMN) == NO_SETUP:
        del extra[SETUP_COLUMN]
    puzzle = Puzzle(
        id=row["PuzzleId"],
        fen=row["FEN"],
        moves=moves,
        rating=rating,
        themes=(row.get("Themes") or "").split(),
        source=source,
        extra=extra,
        setup=setup,
    )
    if not puzzle.solver_moves:
        raise ValueError("Moves holds only the setup move: nothing for the solver to find")
    return puzzle


MAX_RECORD_LINES = 100
"""A quoted field may hold line breaks; a record longer than this many lines is an unterminated quote."""

_BOM = b"\xef\xbb\xbf"
_NOT_UTF8 = re.compile("[\udc80-\udcff]")  # bytes that were not UTF-8, kept by ``surrogateescape``


def _printable(text: str) -> str:
    """``text`` with the bytes that were not UTF-8 written as ``\\xNN``."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _parse_record(text: str) -> tuple[list[str] | None, str | None]:
    """The fields of one CSV record, or the reason it does not parse."""
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        return None, f"bad CSV: {exc}"
    if len(rows) > 1:
        return None, "bad CSV: a quote that is never closed"
    return (rows[0] if rows else []), None


def _records(path: str | os.PathLike[str]) -> Generator[tuple[int, str, list[str] | None, str | None], None, None]:
    """(line, its text, fields or None, problem) for each record of a CSV file: the header first, then the rows.

    Records are read line by line, so one bad byte or quote costs one row: each line is decoded alone (bytes
    that are not UTF-8 are kept as surrogates, see :func:`_printable`), and a record that an open quote carries
    past its line is kept only if it then parses with the header's number of columns; otherwise its first
    line is the bad row and the lines after it are read again.
    """
    width: int | None = None
    backlog: deque[tuple[int, str]] = deque()
    with open_input(path) as fh:
        lines = ((n, (raw.removeprefix(_BOM) if n == 1 else raw).decode("utf-8", "surrogateescape"))
                 for n, raw in enumerate(fh, 1))

        def take() -> tuple[int, str] | None:
            return backlog.popleft() if backlog else next(lines, None)

        while (item := take()) is not None:
            pending = [item]
            odd = item[1].count('"') % 2 == 1
            while odd and len(pending) < MAX_RECORD_LINES and (more := take()) is not None:
                pending.append(more)
                odd ^= more[1].count('"') % 2 == 1
            fields, problem = _parse_record("".join(text for _, text in pending))
            if len(pending) > 1 and (fields is None or (width is not None and len(fields) != width)):
                backlog.extendleft(reversed(pending[1:]))  # read again, after the first line alone
                odd = item[1].count('"') % 2 == 1
                fields, problem = _parse_record(item[1])
            if fields is None and odd:
                problem = f"a quote opened in line {item[0]} is never closed"
            if width is None and fields is not None:
                width = len(fields)
            yield item[0], item[1], fields, problem


def iter_puzzles(
    path: str | os.PathLike[str], errors: list[BadRecordError] | None = None, *, columns: list[str] | None = None
) -> Iterator[Puzzle]:
    """Yield the puzzles of a Lichess CSV, one at a time; bad rows are logged, appended to ``errors``, skipped.

    A row is bad when it does not parse as CSV (an unterminated quote, a field over the csv module's limit),
    holds bytes that are not UTF-8, has the wrong number of columns, an empty or repeated PuzzleId, or a
    puzzle that does not stand (see :meth:`Puzzle.validate`; a Lichess puzzle needs a move after its setup
    move). A UTF-8 byte-order mark is skipped. ``columns``, when given, receives the header's columns.

    ``path`` may be ``-`` (standard input) or zstd-compressed (:func:`~chessteach.inputs.open_input`); it is read
    a line at a time, and the PuzzleIds seen so far are kept in bounded memory (:class:`SeenIds`: beyond
    :data:`~chessteach.puzzles.seen_ids.IN_MEMORY` of them, in a temporary SQLite file dropped at the end), so
    memory stays flat however large the file. Raises :class:`BadRecordError` naming the file and line 1 if the
    header is unreadable or lacks a column, :class:`~chessteach.errors.InputError` on damaged zstd data (after
    the puzzles before it).
    """
    source = input_name(path)
    with contextlib.closing(_records(path)) as records, SeenIds() as seen:
        first = next(records, None)
        if first is None:
            raise BadRecordError("empty file: no header", source=source, line=1)
        _, _, header, problem = first
        if header is None or problem is not None:
            raise BadRecordError(f"unreadable header: {problem}", source=source, line=1)
        if _NOT_UTF8.search(",".join(header)):
            raise BadRecordError(f"the header is not UTF-8: {_printable(','.join(header))!r}", source=source, line=1)
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            raise BadRecordError(f"missing column(s) {', '.join(missing)} in the header", source=source, line=1)
        if columns is not None:
            columns[:] = header
        for line, text, fields, problem in records:
            if fields == []:
                continue  # a blank line
            first_field = fields[0] if fields else text.split(",", 1)[0]
            record = _printable(first_field) if first_field.strip() else None
            try:
                if fields is None:
                    raise ValueError(problem)
                if len(fields) != len(header):
                    raise ValueError(f"expected {len(header)} columns, got {len(fields)}")
                row = dict(zip(header, fields, strict=True))
                bad = next((name for name, value in row.items() if _NOT_UTF8.search(value)), None)
                if bad is not None:
                    raise ValueError(f"column {bad} is not UTF-8: {_printable(row[bad])[:60]!r}")
                puzzle_id = row["PuzzleId"].strip()
                if not puzzle_id:
                    raise ValueError("empty PuzzleId")
                first_line = seen.line_of(puzzle_id)
                if first_line is not None:
                    raise ValueError(f"PuzzleId {puzzle_id!r} repeats the one in line {first_line}")
                puzzle = _row_to_puzzle(row, source)
                seen.add(puzzle_id, line)
                yield puzzle
            except (ValueError, KeyError) as exc:
                error = BadRecordError(str(exc), source=source, line=line, record=record)
                if errors is not None:  # the caller collects them and reports each once
                    errors.append(error)
                else:
                    logger.warning("skipping puzzle: %s", error)


def read_puzzles(path: str | os.PathLike[str]) -> PuzzleFile:
    """Read a whole Lichess puzzle CSV. Bad rows land in ``PuzzleFile.errors``; the rest load."""
    errors: list[BadRecordError] = []
    header: list[str] = []
    puzzles = list(iter_puzzles(path, errors, columns=header))
    if errors:
        logger.warning("%s: %d bad row(s) skipped, %d puzzles loaded", input_name(path), len(errors), len(puzzles))
    return PuzzleFile(path=input_name(path), columns=header, puzzles=puzzles, errors=errors)


def puzzle_row(puzzle: Puzzle) -> dict[str, str]:
    """A puzzle as a CSV row (Lichess's columns first, then its extra columns)."""
    row = {
        "PuzzleId": puzzle.id,
        "FEN": puzzle.fen,
        "Moves": " ".join(m.uci() for m in puzzle.moves),
        "Rating": "" if puzzle.rating is None else str(puzzle.rating),
        "Themes": " ".join(puzzle.themes),
    }
    if not puzzle.setup and DISTRACTORS_COLUMN not in puzzle.extra:  # the Distractors column implies it
        row[SETUP_COLUMN] = NO_SETUP
    row.update(puzzle.extra)
    return row


class PuzzleWriter:
    """Writes puzzles to a Lichess CSV as they come, a batch at a time (:func:`write_puzzles` in one go).

    ``columns`` fixes the order (Lichess's by default); the columns the first batch's puzzles add go after them
    (those it leaves empty are not written). A later puzzle that fills a column the header lacks is a
    ``ValueError``: a stream's columns are known from its first puzzles (a file's own, and what a command adds to
    each). The file is opened (its folder made) at once; a writer that is given no puzzle writes the header alone.

    >>> import tempfile, pathlib, chess
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = pathlib.Path(folder.name) / "out.csv"
    >>> mate = Puzzle(id="m1", fen="6k1/5ppp/8/8/8/8/5PPP/R5K1 b - - 0 1",
    ...               moves=[chess.Move.from_uci(m) for m in ("g8h8", "a1a8")], extra={"Verified": "true"})
    >>> with PuzzleWriter(path, columns=["PuzzleId", "FEN", "Moves"]) as writer:
    ...     writer.write([mate])
    >>> print(path.read_text(), end="")
    PuzzleId,FEN,Moves,Verified
    m1,6k1/5ppp/8/8/8/8/5PPP/R5K1 b - - 0 1,g8h8 a1a8,true
    >>> folder.cleanup()
    """

    def __init__(self, path: str | os.PathLike[str], *, columns: list[str] | None = None) -> None:
        self.path = Path(path)
        self._order = list(columns or LICHESS_COLUMNS)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "w", newline="", encoding="utf-8")  # noqa: SIM115 - closed by close()
        self._writer: csv.DictWriter[str] | None = None
        self.written = 0
        """Puzzles written so far."""

    def write(self, puzzles: Iterable[Puzzle]) -> None:
        """Write a batch of puzzles (the first batch fixes the header)."""
        rows = [puzzle_row(p) for p in puzzles]
        if self._writer is None:
            if not rows:
                return
            added = {key: False for row in rows for key in row if key not in self._order}  # first-seen order
            for row in rows:
                for key in added:
                    added[key] = added[key] or bool(row.get(key))
            self._start([*self._order, *(key for key, filled in added.items() if filled)])
        assert self._writer is not None
        header = set(self._order)
        for row in rows:
            lost = next((key for key, value in row.items() if value and key not in header), None)
            if lost is not None:
                raise ValueError(f"{self.path}: puzzle {row['PuzzleId']} fills column {lost}, not in the header")
            self._writer.writerow({k: row.get(k, "") for k in self._order})
        self.written += len(rows)

    def _start(self, order: list[str]) -> None:
        self._order = order
        self._writer = csv.DictWriter(self._fh, fieldnames=order, extrasaction="ignore", lineterminator="\n")
        self._writer.writeheader()

    def close(self) -> None:
        """Finish the file (the header alone if no puzzle came)."""
        if self._fh.closed:
            return
        if self._writer is None:
            self._start(self._order)
        self._fh.close()

    def __enter__(self) -> PuzzleWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_puzzles(
    path: str | os.PathLike[str], puzzles: Iterable[Puzzle], *, columns: list[str] | None = None
) -> None:
    """Write puzzles as a Lichess CSV. ``columns`` fixes the order; columns the puzzles add go after them
    (those left empty by every puzzle are not written)."""
    with PuzzleWriter(path, columns=columns) as writer:
        writer.write(puzzles)
