"""The exam cache: a student's raw answers in one SQLite file, so that a rerun asks the student nothing.

Two tables, both keyed by (student, explanation hash, puzzle, prompt format): ``exam_answers`` holds free answers
(the completion and the log-probability of the solution move), ``likelihood_answers`` likelihood questions (the
candidates in SAN, their log-probabilities and the free answer when it was asked). The no-explanation half of an
exam is shared by every explanation of it. Grading is not cached: it is recomputed from what the student said,
so a better parser applies to old runs.

>>> explanation_hash(None), explanation_hash("A fork attacks two pieces.")[:8]
('none', 'bb355e37')
>>> student_key("hf:models/m?batch_size=8&dtype=bfloat16")
'hf:models/m?dtype=bfloat16'
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import platformdirs

from chessteach.engine.cache import CACHE_ENV
from chessteach.puzzles.lichess_csv import DISTRACTORS_COLUMN
from chessteach.puzzles.puzzle import Puzzle
from chessteach.teaching.prompts import ExplanationLike, explanation_text

logger = logging.getLogger(__name__)

EXAM_CACHE_ENV = "CHESSTEACH_EXAM_CACHE"

AnswerKey = tuple[str, str, str, str]
"""A cached answer's key: (student, explanation hash, puzzle, prompt format)."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS exam_answers (
    student TEXT NOT NULL,
    explanation TEXT NOT NULL,
    puzzle TEXT NOT NULL,
    prompt_format TEXT NOT NULL,
    completion TEXT NOT NULL,
    logprob REAL,
    created REAL NOT NULL,
    PRIMARY KEY (student, explanation, puzzle, prompt_format)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS likelihood_answers (
    student TEXT NOT NULL,
    explanation TEXT NOT NULL,
    puzzle TEXT NOT NULL,
    prompt_format TEXT NOT NULL,
    candidates TEXT NOT NULL,
    logprobs TEXT NOT NULL,
    free_text TEXT,
    created REAL NOT NULL,
    PRIMARY KEY (student, explanation, puzzle, prompt_format)
) WITHOUT ROWID;
"""


def default_exam_cache_path() -> Path:
    """``$CHESSTEACH_EXAM_CACHE``; else ``exams.sqlite`` beside ``$CHESSTEACH_CACHE`` (the analysis cache) when
    that is set; else ``exams.sqlite`` in the user's cache directory."""
    env = os.environ.get(EXAM_CACHE_ENV)
    if env:
        return Path(env)
    analysis = os.environ.get(CACHE_ENV)
    if analysis:
        return Path(analysis).parent / "exams.sqlite"
    return Path(platformdirs.user_cache_dir("chessteach")) / "exams.sqlite"


# --- the keys ------------------------------------------------------------------------------------------------


def explanation_hash(explanation: ExplanationLike | None) -> str:
    """A short content hash of the explanation's text (``"none"`` without one): the cache's key."""
    text = explanation_text(explanation)
    return "none" if text is None else hashlib.sha256(text.encode()).hexdigest()[:16]


def student_key(spec: str) -> str:
    """The student's spec without the options that cannot change its answers (``batch_size``)."""
    path, sep, query = spec.partition("?")
    if not sep:
        return spec
    kept = [item for item in query.split("&") if item and not item.startswith("batch_size=")]
    return path + ("?" + "&".join(kept) if kept else "")


def puzzle_key(puzzle: Puzzle, *, choices: bool = False) -> str:
    """The puzzle's id and a short hash of its position and moves (two sets may reuse an id), and with
    ``choices`` of its distractors too (other distractors are another question)."""
    content = puzzle.fen + " " + " ".join(m.uci() for m in puzzle.moves)
    if choices:
        content += " | " + " ".join(puzzle.extra.get(DISTRACTORS_COLUMN, "").split())
    return f"{puzzle.id}:{hashlib.sha1(content.encode()).hexdigest()[:8]}"


# --- the cache -----------------------------------------------------------------------------------------------


class ExamCache:
    """The student's raw outputs (completion, log-probability of the solution; a likelihood question's scores)
    in one SQLite file.

    >>> cache = ExamCache(":memory:")
    >>> cache.put(("hf:m", "none", "p1:00", "fen-san"), " Nf3", -1.5)
    >>> cache.get(("hf:m", "none", "p1:00", "fen-san"))
    (' Nf3', -1.5)
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = str(path) if path is not None else str(default_exam_cache_path())
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(self.path, timeout=30.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)
            self._db.commit()
        except sqlite3.DatabaseError as exc:
            raise sqlite3.DatabaseError(f"{self.path}: not a usable exam cache: {exc}") from exc

    def get(self, key: AnswerKey) -> tuple[str, float] | None:
        """A free answer's completion and the solution's log-probability (NaN where it was not scored), or
        ``None``."""
        row = self._db.execute(
            "SELECT completion, logprob FROM exam_answers "
            "WHERE student = ? AND explanation = ? AND puzzle = ? AND prompt_format = ?",
            key,
        ).fetchone()
        if row is None:
            return None
        return row[0], float("nan") if row[1] is None else float(row[1])

    def put(self, key: AnswerKey, completion: str, logprob: float) -> None:
        self.put_many([(key, completion, logprob)])

    def put_many(self, rows: Iterable[tuple[AnswerKey, str, float]]) -> None:
        now = time.time()
        self._db.executemany(
            "INSERT OR REPLACE INTO exam_answers VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(*key, completion, None if logprob != logprob else logprob, now) for key, completion, logprob in rows],
        )
        self._db.commit()

    def get_choice(self, key: AnswerKey) -> tuple[list[str], list[float], str | None] | None:
        """A likelihood question's candidates (SAN), their log-probabilities and the free answer (``None`` where
        it was not asked), or ``None``.

        >>> cache = ExamCache(":memory:")
        >>> cache.put_choice(("hf:m", "none", "p1:00", "fen-san+likelihood"), ["Ra8#", "Kf1"], [-0.5, -2.0], None)
        >>> cache.get_choice(("hf:m", "none", "p1:00", "fen-san+likelihood"))
        (['Ra8#', 'Kf1'], [-0.5, -2.0], None)
        """
        row = self._db.execute(
            "SELECT candidates, logprobs, free_text FROM likelihood_answers "
            "WHERE student = ? AND explanation = ? AND puzzle = ? AND prompt_format = ?",
            key,
        ).fetchone()
        if row is None:
            return None
        try:
            candidates, logprobs = json.loads(row[0]), [float(x) for x in json.loads(row[1])]
        except (ValueError, TypeError):
            logger.warning("%s: a damaged likelihood answer for %s is asked again", self.path, key[2])
            return None
        if len(candidates) != len(logprobs):
            return None
        return [str(c) for c in candidates], logprobs, row[2]

    def put_choice(
        self, key: AnswerKey, candidates: Sequence[str], logprobs: Sequence[float], free_text: str | None
    ) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO likelihood_answers VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (*key, json.dumps(list(candidates)), json.dumps([float(x) for x in logprobs]), free_text, time.time()),
        )
        self._db.commit()

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM exam_answers").fetchone()[0])

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> ExamCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = [
    "EXAM_CACHE_ENV",
    "AnswerKey",
    "ExamCache",
    "default_exam_cache_path",
    "explanation_hash",
    "puzzle_key",
    "student_key",
]
