"""The PuzzleIds a reader has seen, each with the line it was on, in bounded memory.

A puzzle file must not repeat a PuzzleId, and a repeat is reported with the line of the first one, so the reader
keeps every id it has read: Lichess's database holds millions. :class:`SeenIds` keeps the newest ids in a dict
(:data:`IN_MEMORY` of them at most); when it is full they move, sorted, in one transaction, to an indexed table in
a temporary SQLite database, which SQLite keeps in a file it deletes itself: the file is unlinked as soon as it is
opened, so it is gone when the connection closes, at the end, at Ctrl-C and even when the process is killed. The
database reads through a small page cache (:data:`CACHE_KIB`), so memory stays flat however many ids there are.

>>> seen = SeenIds(in_memory=2)
>>> for line, puzzle_id in enumerate(["a", "b", "c"], 2):
...     seen.add(puzzle_id, line)
>>> seen.line_of("a"), seen.line_of("c"), seen.line_of("z"), len(seen)
(2, 4, None, 3)
>>> seen.close()
"""

from __future__ import annotations

import sqlite3

IN_MEMORY = 100_000
"""The most ids kept in memory (about 12 MB) before they move to the temporary database."""
CACHE_KIB = 8192
"""The temporary database's page cache, KiB."""


class SeenIds:
    """PuzzleId -> the line it was read on; the newest ids in memory, the rest in a temporary SQLite table.

    ``in_memory`` bounds the dict (default :data:`IN_MEMORY`). Use it as a context manager, or call
    :meth:`close`, which drops the temporary database."""

    def __init__(self, in_memory: int | None = None) -> None:
        self._limit = max(1, IN_MEMORY if in_memory is None else in_memory)
        self._recent: dict[str, int] = {}
        self._stored = 0
        self._db: sqlite3.Connection | None = None

    def line_of(self, puzzle_id: str) -> int | None:
        """The line ``puzzle_id`` was seen on, or None."""
        line = self._recent.get(puzzle_id)
        if line is not None or self._db is None:
            return line
        row = self._db.execute("SELECT line FROM ids WHERE id = ?", (puzzle_id,)).fetchone()
        return None if row is None else int(row[0])

    def add(self, puzzle_id: str, line: int) -> None:
        """Note ``puzzle_id`` at ``line`` (the caller has checked it is new, with :meth:`line_of`)."""
        self._recent[puzzle_id] = line
        if len(self._recent) >= self._limit:
            self._spill()

    def __len__(self) -> int:
        return self._stored + len(self._recent)

    def _spill(self) -> None:
        if self._db is None:
            # "": a private temporary database in a file SQLite unlinks at once (and deletes when it closes)
            self._db = sqlite3.connect("", isolation_level=None, check_same_thread=False)
            for pragma in (f"cache_size = -{CACHE_KIB}", "journal_mode = OFF", "synchronous = OFF"):
                self._db.execute(f"PRAGMA {pragma}")
            self._db.execute("CREATE TABLE ids (id TEXT PRIMARY KEY, line INTEGER NOT NULL) WITHOUT ROWID")
        self._db.execute("BEGIN")
        self._db.executemany("INSERT INTO ids VALUES (?, ?)", sorted(self._recent.items()))  # sorted: fewer page splits
        self._db.execute("COMMIT")
        self._stored += len(self._recent)
        self._recent.clear()

    def close(self) -> None:
        """Forget every id and drop the temporary database."""
        self._recent.clear()
        self._stored = 0
        if self._db is not None:
            self._db.close()
            self._db = None

    def __enter__(self) -> SeenIds:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
