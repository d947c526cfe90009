"""A persistent analysis cache in one SQLite file.

The key of an analysis is the position (FEN without move counters), the engine (name, version and the
options that can change its results), the search limit and the number of lines. Writes are committed in
small transactions, so an interrupted run leaves a consistent file and a rerun resumes from it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import chess.engine
import platformdirs

from chessteach.engine.analysis import Analysis
from chessteach.engine.process import EngineIdentity
from chessteach.errors import CacheError

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
CREATE TABLE IF NOT EXISTS engine_options (
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    options TEXT NOT NULL,
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
        """Open (or create) the cache file; raises :class:`CacheError` naming the file when that cannot be done."""
        self.path = str(path) if path is not None else str(default_cache_path())
        if self.path != ":memory:":
            folder = Path(self.path).parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise CacheError(self.path, f"cannot create its folder {folder}: {exc.strerror or exc}") from None
            if Path(self.path).is_dir():
                raise CacheError(self.path, "is a directory, not an analysis cache file")
        try:
            self._db = sqlite3.connect(self.path, timeout=30.0)
        except sqlite3.Error as exc:
            raise CacheError(self.path, f"not a usable analysis cache ({exc})") from None
        try:
            with self._guard():
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._db.executescript(_SCHEMA)
                self._db.commit()
        except CacheError:
            self._db.close()
            raise
        self._commit_every = commit_every
        self._last_commit = time.monotonic()
        self._pending = 0

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        """SQLite's errors (a file that is not a database, or damaged, or locked too long) as :class:`CacheError`."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            raise CacheError(self.path, f"not a usable analysis cache ({exc})") from None

    def __len__(self) -> int:
        with self._guard():
            return int(self._db.execute("SELECT COUNT(*) FROM analyses").fetchone()[0])

    def get(self, position: str, engine: str, search_limit: str, multipv: int) -> Analysis | None:
        with self._guard():
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
        with self._guard():
            self._db.execute(
                "INSERT OR REPLACE INTO analyses VALUES (?, ?, ?, ?, ?, ?, ?)",
                (position, analysis.engine, search_limit, multipv, analysis.fen, analysis.to_json(), time.time()),
            )
        self._pending += 1
        if time.monotonic() - self._last_commit >= self._commit_every:
            self.commit()

    def commit(self) -> None:
        if self._pending:
            with self._guard():
                self._db.commit()
            self._pending = 0
        self._last_commit = time.monotonic()

    def _binary(self, path: str) -> tuple[str, int, int] | None:
        try:
            st = os.stat(path)
        except OSError:
            return None
        return path, st.st_size, st.st_mtime_ns

    def engine_name(self, path: str) -> str | None:
        """The name an engine binary reported last time, if the file is unchanged since."""
        binary = self._binary(path)
        if binary is None:
            return None
        with self._guard():
            row = self._db.execute("SELECT name FROM engines WHERE path=? AND size=? AND mtime_ns=?", binary).fetchone()
        return None if row is None else str(row[0])

    def engine_identity(self, path: str) -> EngineIdentity | None:
        """The name and UCI options an engine binary announced last time, if the file is unchanged since."""
        name = self.engine_name(path)
        binary = self._binary(path)
        if name is None or binary is None:
            return None
        with self._guard():
            row = self._db.execute(
                "SELECT options FROM engine_options WHERE path=? AND size=? AND mtime_ns=?", binary
            ).fetchone()
        if row is None:
            return None
        try:
            options = {o["name"]: chess.engine.Option(**o) for o in json.loads(row[0])}
        except (ValueError, KeyError, TypeError) as exc:
            logger.warning("%s: ignoring the damaged option list of %s: %s", self.path, path, exc)
            return None
        return EngineIdentity(name, options)

    def remember_engine(
        self, path: str, name: str, options: Mapping[str, chess.engine.Option] | None = None
    ) -> None:
        """Remember the name (and the UCI options) the engine at ``path`` announced, for this version of the file."""
        binary = self._binary(path)
        if binary is None:
            return
        with self._guard():
            self._db.execute("INSERT OR REPLACE INTO engines VALUES (?, ?, ?, ?)", (*binary, name))
            if options is not None:
                listed = json.dumps([dataclasses.asdict(o) for o in options.values()])
                self._db.execute("INSERT OR REPLACE INTO engine_options VALUES (?, ?, ?, ?)", (*binary, listed))
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
