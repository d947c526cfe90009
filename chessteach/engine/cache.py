"""A persistent analysis cache in one SQLite file.

The key of an analysis is the position (FEN without move counters), the engine (name, version and the
options that can change its results), the search limit and the number of lines. Writes are committed in
small transactions, so an interrupted run leaves a consistent file and a rerun resumes from it.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path

import platformdirs

from chessteach.engine.analysis import Analysis

logger = logging.getLogger(__name__)

CACHE_ENV = "CHESSTEACH_CACHE"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS analyses (
    position TEXT NOT NULL,
    engine TEXT NOT NULL,
    search_limit TEXT NOT NULL,
    multipv INTEGER NOT NULL,
    fen TEXT NOT NULL,
    result TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (position, engine, search_limit, multipv)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS engines (
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (path, size, mtime_ns)
);
"""


def default_cache_path() -> Path:
    """``$CHESSTEACH_CACHE``, else ``analysis.sqlite`` in the user's cache directory."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env)
    return Path(platformdirs.user_cache_dir("chessteach")) / "analysis.sqlite"


class AnalysisCache:
    """Analyses by (position, engine, limit, multipv), in one SQLite file.

    Use from one thread (the pool's coordinating thread); several processes may share the file.

    >>> cache = AnalysisCache(":memory:")
    >>> len(cache)
    0
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *, commit_every: float = 1.0) -> None:
        self.path = str(path) if path is not None else str(default_cache_path())
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(self.path, timeout=30.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            self._db.commit()
        except sqlite3.DatabaseError as exc:
            raise sqlite3.DatabaseError(f"{self.path}: not a usable analysis cache: {exc}") from exc
        self._commit_every = commit_every
        self._last_commit = time.monotonic()
        self._pending = 0

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM analyses").fetchone()[0])

    def get(self, position: str, engine: str, search_limit: str, multipv: int) -> Analysis | None:
        row = self._db.execute(
            "SELECT fen, result FROM analyses WHERE position=? AND engine=? AND search_limit=? AND multipv=?",
            (position, engine, search_limit, multipv),
        ).fetchone()
        if row is None:
            return None
        try:
            return Analysis.from_json(row[0], engine, row[1])
        except (ValueError, KeyError, TypeError) as exc:
            logger.warning("%s: ignoring a damaged cache entry for %s: %s", self.path, position, exc)
            return None

    def get_many(
        self, positions: Iterable[str], engine: str, search_limit: str, multipv: int
    ) -> dict[str, Analysis]:
        """All cached analyses among ``positions``, by position key."""
        found: dict[str, Analysis] = {}
        for position in dict.fromkeys(positions):
            analysis = self.get(position, engine, search_limit, multipv)
            if analysis is not None:
                found[position] = analysis
        return found

    def put(self, position: str, search_limit: str, multipv: int, analysis: Analysis) -> None:
        """Store an analysis; committed within ``commit_every`` seconds (and by :meth:`commit`)."""
        self._db.execute(
            "INSERT OR REPLACE INTO analyses VALUES (?, ?, ?, ?, ?, ?, ?)",
            (position, analysis.engine, search_limit, multipv, analysis.fen, analysis.to_json(), time.time()),
        )
        self._pending += 1
        if time.monotonic() - self._last_commit >= self._commit_every:
            self.commit()

    def commit(self) -> None:
        if self._pending:
            self._db.commit()
            self._pending = 0
        self._last_commit = time.monotonic()

    def engine_name(self, path: str) -> str | None:
        """The name an engine binary reported last time, if the file is unchanged since."""
        try:
            st = os.stat(path)
        except OSError:
            return None
        row = self._db.execute(
            "SELECT name FROM engines WHERE path=? AND size=? AND mtime_ns=?", (path, st.st_size, st.st_mtime_ns)
        ).fetchone()
        return None if row is None else str(row[0])

    def remember_engine(self, path: str, name: str) -> None:
        st = os.stat(path)
        self._db.execute(
            "INSERT OR REPLACE INTO engines VALUES (?, ?, ?, ?)", (path, st.st_size, st.st_mtime_ns, name)
        )
        self._db.commit()

    def close(self) -> None:
        try:
            self.commit()
        finally:
            self._db.close()

    def __enter__(self) -> AnalysisCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
