"""Student exams: how much an explanation of a concept raises a student model's accuracy on its puzzles.

An exam is a seeded draw of puzzles of one concept (a Lichess theme: the puzzle's own, or computed by the
tagger), optionally within a rating band, that never contains the teacher's example or its positions.
Each puzzle is put to the student twice, without and with the explanation before the question, in one of
the named :data:`PROMPT_FORMATS`; the student answers with one move, which
:func:`~chessteach.teaching.answers.parse_answer` reads and :func:`~chessteach.teaching.answers.grade`
grades (the solution, or any mate at once). The score of an explanation is the **uplift**: accuracy with it
minus accuracy without, with a paired bootstrap interval over puzzles; the **dense score** is the change in
the log-probability of the solution move (SAN) that the explanation brings.

Positional exercises (a puzzle CSV with a ``Distractors`` column: the solver's position, the best move, three
legal moves the engine ranks clearly lower) are exams like any puzzles, their themes being positional concept
ids. They also allow **multiple choice** (:attr:`ExamConfig.choices`): the question lists the best move and
the three distractors in SAN (:func:`exam_choices`, in an order fixed by the puzzle id) instead of every
legal move; grading is the same.

Model outputs are cached in SQLite by (student, explanation hash, puzzle, prompt format): a rerun asks
the model nothing, and the no-explanation half is shared by every explanation of the same exam.

>>> from chessteach.puzzles import Puzzle
>>> p = Puzzle.from_solution("6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1", ["a1a8"], id="backRank")
>>> print(exam_prompt(p, "Look at the back rank.").splitlines()[1])
Look at the back rank.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import chess
import pandas as pd
import platformdirs

from chessteach.concepts.catalog import CONCEPTS, POSITIONAL
from chessteach.errors import ChessteachError
from chessteach.llm.base import GenerationConfig, LanguageModel, ModelRequestError, Prompt
from chessteach.puzzles.lichess_csv import DISTRACTORS, DISTRACTORS_COLUMN
from chessteach.puzzles.puzzle import Puzzle
from chessteach.teaching.answers import grade, parse_answer
from chessteach.teaching.stats import BOOTSTRAP_RESAMPLES, CONFIDENCE, Interval, paired_bootstrap

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)``."""

EXAM_CACHE_ENV = "CHESSTEACH_EXAM_CACHE"
ANALYSIS_CACHE_ENV = "CHESSTEACH_CACHE"
DEFAULT_PROMPT_FORMAT = "fen-san"
DEFAULT_MAX_NEW_TOKENS = 16
DEFAULT_CHUNK = 32
RATING_EDGES: tuple[int, ...] = (1000, 1400, 1800, 2200)
"""Edges of the rating bands of the concept profile: below 1000, 1000-1399, ..., 2200 and up."""

ThemeSource = Literal["own", "computed", "either"]
THEME_SOURCES: tuple[str, ...] = ("own", "computed", "either")


class ExamError(ChessteachError, ValueError):
    """An exam that cannot be drawn or run as asked (no puzzles of the theme, a bad rating band, ...)."""


class _HasText(Protocol):
    text: str


ExplanationLike = str | _HasText
"""An explanation's text, or any object with a ``text`` attribute (such as an ``Explanation``)."""


def explanation_text(explanation: ExplanationLike | None) -> str | None:
    """The text of an explanation given as text or as an object with ``.text``; empty text is no explanation."""
    if explanation is None:
        return None
    text = explanation if isinstance(explanation, str) else explanation.text
    return text.strip() or None


def explanation_hash(explanation: ExplanationLike | None) -> str:
    """A short content hash of the explanation's text (``"none"`` without one): the cache's key.

    >>> explanation_hash(None), explanation_hash("A fork attacks two pieces.")[:8]
    ('none', 'bb355e37')
    """
    text = explanation_text(explanation)
    return "none" if text is None else hashlib.sha256(text.encode()).hexdigest()[:16]


# --- prompt formats ------------------------------------------------------------------------------------------


def _side(board: chess.Board) -> str:
    return "White" if board.turn == chess.WHITE else "Black"


def legal_moves_san(board: chess.Board) -> list[str]:
    """The legal moves in SAN, in python-chess's generation order (by piece, from a1 to h8)."""
    return [board.san(move) for move in board.legal_moves]


def _labelled_grid(board: chess.Board) -> str:
    """The board as a diagram from White's side, ranks and files labelled (uppercase White, lowercase Black,
    ``.`` an empty square)."""
    rows = []
    for rank in range(7, -1, -1):
        cells = []
        for file in range(8):
            piece = board.piece_at(chess.square(file, rank))
            cells.append(piece.symbol() if piece else ".")
        rows.append(f"{rank + 1} " + " ".join(cells))
    rows.append("  a b c d e f g h")
    return "\n".join(rows)


@dataclass(frozen=True)
class PromptFormat:
    """How a position is shown to the student: the FEN, and optionally the board as text."""

    name: str
    help: str
    board: Callable[[chess.Board], str] | None = None


PROMPT_FORMATS: dict[str, PromptFormat] = {
    f.name: f
    for f in (
        PromptFormat("fen-san", "the FEN and the legal moves in SAN"),
        PromptFormat("board", "the FEN, the board as python-chess prints it, the legal moves in SAN", str),
        PromptFormat("grid", "the FEN, a board grid labelled with ranks and files, the legal moves in SAN",
                     _labelled_grid),
    )
}
"""The named prompt formats (``--format``)."""


def get_prompt_format(name: str) -> PromptFormat:
    """The prompt format of that name; an unknown name raises :class:`ExamError` listing the valid ones."""
    try:
        return PROMPT_FORMATS[name]
    except KeyError:
        raise ExamError(f"unknown prompt format {name!r}; valid formats: {', '.join(PROMPT_FORMATS)}") from None


SYSTEM_PROMPT = "You are a chess student. Answer with one move in standard algebraic notation (SAN), nothing else."
CHOICES_SYSTEM_PROMPT = (
    "You are a chess student. Choose one of the candidate moves and answer with it in standard algebraic notation"
    " (SAN), nothing else."
)
"""The chat system prompt of a multiple-choice exam."""



def is_exercise(puzzle: Puzzle) -> bool:
    """Whether the puzzle is a positional exercise: it came with a ``Distractors`` column."""
    return DISTRACTORS_COLUMN in puzzle.extra


def exam_choices(puzzle: Puzzle) -> list[chess.Move]:
    """The candidate moves of a multiple-choice question: the best move (the first solver move) and the
    puzzle's three ``Distractors``, in an order fixed by the puzzle id (a hash of the id and each move), so the
    best move is not always first and a rerun asks the same question.

    Raises :class:`ExamError` naming the puzzle when the column is missing or empty, does not hold exactly three
    moves, or holds a move that is not UCI, is illegal in the solver's position, repeats, or is the best move.

    >>> from chessteach.puzzles import Puzzle
    >>> p = Puzzle.from_solution("6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1", ["a1a8"], id="m1")
    >>> p.extra["Distractors"] = "a1a2 g1f1 h2h3"
    >>> sorted(m.uci() for m in exam_choices(p))
    ['a1a2', 'a1a8', 'g1f1', 'h2h3']
    """
    where = f"puzzle {puzzle.id}"
    text = puzzle.extra.get(DISTRACTORS_COLUMN)
    if text is None:
        raise ExamError(f"{where}: no {DISTRACTORS_COLUMN} column; multiple choice needs an exercises CSV")
    tokens = text.split()
    if not tokens:
        raise ExamError(f"{where}: the {DISTRACTORS_COLUMN} column is empty; multiple choice needs {DISTRACTORS} moves")
    if len(tokens) != DISTRACTORS:
        raise ExamError(f"{where}: {DISTRACTORS_COLUMN} {text.strip()!r} holds {len(tokens)} move(s), not {DISTRACTORS}")
    board = puzzle.position()
    best = puzzle.solver_moves[0]
    wrong: list[chess.Move] = []
    for token in tokens:
        try:
            move = chess.Move.from_uci(token)
        except ValueError:
            raise ExamError(f"{where}: distractor {token!r} is not a UCI move") from None
        if move not in board.legal_moves:
            raise ExamError(f"{where}: distractor {token} is illegal in {board.fen()}")
        if move == best:
            raise ExamError(f"{where}: distractor {token} is the best move itself")
        if move in wrong:
            raise ExamError(f"{where}: distractor {token} is listed twice")
        wrong.append(move)
    return sorted([best, *wrong], key=lambda m: hashlib.sha256(f"{puzzle.id}:{m.uci()}".encode()).digest())


def exam_question(puzzle: Puzzle, *, prompt_format: str = DEFAULT_PROMPT_FORMAT, choices: bool = False) -> str:
    """The question about the solver's position (without the explanation and the ``Answer:`` cue): the legal
    moves in SAN, or with ``choices`` the four candidates of :func:`exam_choices` (raises :class:`ExamError`
    for a puzzle without usable distractors)."""
    form = get_prompt_format(prompt_format)
    board = puzzle.position()
    side = _side(board)
    lines = [f"Puzzle. FEN: {board.fen()}"]
    if form.board is not None:
        lines.append(form.board(board))
    if choices:
        candidates = " ".join(board.san(move) for move in exam_choices(puzzle))
        lines.append(f"{side} to move. Candidate moves: {candidates}")
        lines.append(f"Choose the best move for {side} from the candidates. Answer with one of them in SAN.")
    else:
        lines.append(f"{side} to move. Legal moves: {' '.join(legal_moves_san(board))}")
        lines.append(f"Find the best move for {side}. Answer with one move in SAN.")
    return "\n".join(lines)


def exam_prompt(
    puzzle: Puzzle,
    explanation: ExplanationLike | None = None,
    *,
    prompt_format: str = DEFAULT_PROMPT_FORMAT,
    chat: bool = False,
    choices: bool = False,
) -> Prompt:
    """The student's prompt: the explanation (when given) before the question.

    Plain text ends with ``Answer:`` (the model continues with `` MOVE``); a chat is a system message and one
    user message, and the model answers as the assistant. ``choices`` asks a multiple-choice question
    (:func:`exam_question`).
    """
    question = exam_question(puzzle, prompt_format=prompt_format, choices=choices)
    text = explanation_text(explanation)
    body = question if text is None else f"Explanation:\n{text}\n\n{question}"
    if chat:
        system = CHOICES_SYSTEM_PROMPT if choices else SYSTEM_PROMPT
        return [{"role": "system", "content": system}, {"role": "user", "content": body}]
    return f"{body}\nAnswer:"


def solution_continuation(puzzle: Puzzle, *, chat: bool = False) -> str:
    """What the student should say: the first solver move in SAN (after a space in plain text prompts)."""
    san = puzzle.position().san(puzzle.solver_moves[0])
    return san if chat else f" {san}"


# --- drawing exams -------------------------------------------------------------------------------------------


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


def position_key(board: chess.Board) -> str:
    """A position without its move counters (pieces, side to move, castling rights, en passant square)."""
    return " ".join(board.fen().split()[:4])


def puzzle_positions(puzzle: Puzzle) -> set[str]:
    """Every position of the puzzle: its FEN and each position of the line after it."""
    board = chess.Board(puzzle.fen)
    keys = {position_key(board)}
    for move in puzzle.moves:
        board.push(move)
        keys.add(position_key(board))
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


# --- the cache -----------------------------------------------------------------------------------------------

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
    """``$CHESSTEACH_EXAM_CACHE``; else ``exams.sqlite`` beside ``$CHESSTEACH_CACHE`` when that is set; else
    ``exams.sqlite`` in the user's cache directory."""
    env = os.environ.get(EXAM_CACHE_ENV)
    if env:
        return Path(env)
    analysis = os.environ.get(ANALYSIS_CACHE_ENV)
    if analysis:
        return Path(analysis).parent / "exams.sqlite"
    return Path(platformdirs.user_cache_dir("chessteach")) / "exams.sqlite"


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


class ExamCache:
    """The student's raw outputs (completion, log-probability of the solution) in one SQLite file.

    Grading is not cached: it is recomputed from the completion, so a better parser applies to old runs.

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

    def get(self, key: tuple[str, str, str, str]) -> tuple[str, float] | None:
        row = self._db.execute(
            "SELECT completion, logprob FROM exam_answers "
            "WHERE student = ? AND explanation = ? AND puzzle = ? AND prompt_format = ?",
            key,
        ).fetchone()
        if row is None:
            return None
        return row[0], float("nan") if row[1] is None else float(row[1])

    def put(self, key: tuple[str, str, str, str], completion: str, logprob: float) -> None:
        self.put_many([(key, completion, logprob)])

    def put_many(self, rows: Iterable[tuple[tuple[str, str, str, str], str, float]]) -> None:
        now = time.time()
        self._db.executemany(
            "INSERT OR REPLACE INTO exam_answers VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(*key, completion, None if logprob != logprob else logprob, now) for key, completion, logprob in rows],
        )
        self._db.commit()

    def get_choice(self, key: tuple[str, str, str, str]) -> tuple[list[str], list[float], str | None] | None:
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
        self, key: tuple[str, str, str, str], candidates: Sequence[str], logprobs: Sequence[float], free_text: str | None
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


# --- results -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExamResult:
    """One answer: the puzzle, with or without the explanation, the move (SAN; ``None`` when the student
    gave no legal move), whether it is correct, and the log-probability of the solution move."""

    puzzle_id: str
    with_explanation: bool
    answer: str | None
    correct: bool
    logprob_solution: float
    completion: str = ""
    cached: bool = False


@dataclass(frozen=True)
class ExamConfig:
    """How an exam is put to the student (``choices``: multiple choice among the best move and the puzzle's
    three distractors, see :func:`exam_choices`)."""

    prompt_format: str = DEFAULT_PROMPT_FORMAT
    chat: bool = False
    choices: bool = False
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS
    chunk: int = DEFAULT_CHUNK
    resamples: int = BOOTSTRAP_RESAMPLES
    confidence: float = CONFIDENCE
    seed: int = 0

    def __post_init__(self) -> None:
        get_prompt_format(self.prompt_format)
        if self.max_new_tokens < 1 or self.chunk < 1:
            raise ExamError("max_new_tokens and chunk must be at least 1")

    @property
    def format_key(self) -> str:
        """The prompt format as the cache keys it (multiple choice and chat prompts are other formats).

        >>> ExamConfig().format_key, ExamConfig(choices=True, chat=True).format_key
        ('fen-san', 'fen-san+choices+chat')
        """
        return self.prompt_format + ("+choices" if self.choices else "") + ("+chat" if self.chat else "")

    def generation(self) -> GenerationConfig:
        return GenerationConfig(max_new_tokens=self.max_new_tokens, temperature=0.0, stop=("\n",))


@dataclass(frozen=True)
class ExamSummary:
    """An exam's scores: accuracies, the uplift and the log-probability change with their intervals."""

    concept: str
    n: int
    accuracy_without: float
    accuracy_with: float
    uplift: Interval
    logprob_change: Interval


SUMMARY_COLUMNS = [
    "n", "accuracy_without", "accuracy_with", "uplift", "ci_low", "ci_high", "logprob_change",
    "logprob_ci_low", "logprob_ci_high",
]


@dataclass
class ExamReport:
    """The answers of one exam (one concept, one explanation) and the puzzles they answer."""

    concept: str
    student: str
    prompt_format: str
    explanation: str | None
    puzzles: list[Puzzle]
    results: list[ExamResult]
    example_id: str | None = None
    config: ExamConfig = field(default_factory=ExamConfig)
    errors: list[str] = field(default_factory=list)

    def frame(self) -> pd.DataFrame:
        """One row per puzzle answered in both conditions: ``concept, puzzle_id, rating, rating_band,
        themes, solution, answer_without, answer_with, correct_without, correct_with, logprob_without,
        logprob_with`` (``*_with`` columns are missing without an explanation)."""
        by_key = {(r.puzzle_id, r.with_explanation): r for r in self.results}
        rows = []
        for puzzle in self.puzzles:
            without = by_key.get((puzzle.id, False))
            if without is None:
                continue
            board = puzzle.position()
            row: dict[str, Any] = {
                "concept": self.concept,
                "puzzle_id": puzzle.id,
                "rating": puzzle.rating,
                "rating_band": rating_band(puzzle.rating),
                "themes": " ".join(puzzle.themes),
                "solution": board.san(puzzle.solver_moves[0]),
                "answer_without": without.answer,
                "correct_without": without.correct,
                "logprob_without": without.logprob_solution,
            }
            with_ = by_key.get((puzzle.id, True))
            if self.explanation is not None:
                if with_ is None:
                    continue
                row.update(
                    answer_with=with_.answer, correct_with=with_.correct, logprob_with=with_.logprob_solution
                )
            rows.append(row)
        return pd.DataFrame(rows)

    def summary(self) -> ExamSummary:
        """Accuracies, the uplift and the log-probability change (paired bootstrap intervals)."""
        return _summarize(self.frame(), self.concept, self.config)


def _summarize(frame: pd.DataFrame, concept: str, config: ExamConfig) -> ExamSummary:
    n = len(frame)
    nan = float("nan")
    if n == 0:
        empty = Interval(nan, nan, nan, config.confidence, 0)
        return ExamSummary(concept, 0, nan, nan, empty, empty)
    without = frame["correct_without"].astype(float)
    has_with = "correct_with" in frame
    with_ = frame["correct_with"].astype(float) if has_with else pd.Series([nan] * n)
    def interval(with_scores: list[float], without_scores: list[float]) -> Interval:
        return paired_bootstrap(
            with_scores, without_scores, resamples=config.resamples, confidence=config.confidence, seed=config.seed
        )

    uplift = interval(with_.tolist(), without.tolist())
    logprob = (
        interval(frame["logprob_with"].tolist(), frame["logprob_without"].tolist())
        if has_with
        else Interval(nan, nan, nan, config.confidence, 0)
    )
    return ExamSummary(concept, n, float(without.mean()), float(with_.mean()), uplift, logprob)


def _summary_row(summary: ExamSummary) -> dict[str, Any]:
    return {
        "n": summary.n,
        "accuracy_without": summary.accuracy_without,
        "accuracy_with": summary.accuracy_with,
        "uplift": summary.uplift.mean,
        "ci_low": summary.uplift.low,
        "ci_high": summary.uplift.high,
        "logprob_change": summary.logprob_change.mean,
        "logprob_ci_low": summary.logprob_change.low,
        "logprob_ci_high": summary.logprob_change.high,
    }


def concept_profile(
    reports: Sequence[ExamReport], *, by: Literal["concept", "rating_band"] = "concept"
) -> pd.DataFrame:
    """The student's profile over several exams: one row per concept (or per rating band, all concepts
    together) with ``n``, both accuracies, the uplift and its interval, and the log-probability change."""
    if by not in ("concept", "rating_band"):
        raise ExamError(f"cannot break results down by {by!r}; valid: concept, rating_band")
    frames = [r.frame() for r in reports]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=[by, *SUMMARY_COLUMNS])
    frame = pd.concat(frames, ignore_index=True)
    config = reports[0].config
    rows = []
    keys = list(dict.fromkeys(frame[by])) if by == "concept" else _band_order(frame[by])
    for key in keys:
        part = frame[frame[by] == key]
        rows.append({by: key, **_summary_row(_summarize(part, str(key), config))})
    return pd.DataFrame(rows, columns=[by, *SUMMARY_COLUMNS])


def _band_order(bands: pd.Series) -> list[str]:
    def low(band: str) -> float:
        if band == "unrated":
            return float("inf")
        if band.startswith("<"):
            return float("-inf")
        return float(band.rstrip("+").split("-")[0])

    return sorted(set(bands), key=low)


# --- running an exam -----------------------------------------------------------------------------------------


@dataclass
class _Item:
    puzzle: Puzzle
    with_explanation: bool
    key: tuple[str, str, str, str]
    prompt: Prompt
    continuation: str
    completion: str | None = None
    logprob: float = float("nan")
    cached: bool = False


def run_exam(
    student: LanguageModel,
    puzzles: Sequence[Puzzle],
    explanation: ExplanationLike | None,
    *,
    concept: str = "",
    example_id: str | None = None,
    config: ExamConfig | None = None,
    cache: ExamCache | None = None,
    progress: Progress | None = None,
) -> ExamReport:
    """Put each puzzle to the student without and (when there is one) with the explanation.

    The student generates one greedy answer per prompt (up to ``config.max_new_tokens`` tokens, cut at the
    first newline) and scores the solution move after the same prompt. With ``config.choices`` every puzzle
    must have usable distractors (:func:`exam_choices`): a :class:`ExamError` is raised before the student is
    asked anything. Items already in ``cache`` are not asked again. A chunk of items the model refuses
    (:class:`ModelRequestError`) is retried one by one; a puzzle whose item still fails is left out of the
    report (both conditions), logged, and counted in ``errors``. ``progress(done, total)`` counts items
    (puzzles x conditions).
    """
    config = config or ExamConfig()
    text = explanation_text(explanation)
    conditions = [False] if text is None else [False, True]
    student_id = student_key(student.spec)
    items = []
    for puzzle in puzzles:
        pkey = puzzle_key(puzzle, choices=config.choices)
        for with_explanation in conditions:
            shown = text if with_explanation else None
            items.append(
                _Item(
                    puzzle,
                    with_explanation,
                    (student_id, explanation_hash(shown), pkey, config.format_key),
                    exam_prompt(
                        puzzle, shown, prompt_format=config.prompt_format, chat=config.chat, choices=config.choices
                    ),
                    solution_continuation(puzzle, chat=config.chat),
                )
            )
    total = len(items)
    pending = []
    for item in items:
        hit = cache.get(item.key) if cache is not None else None
        if hit is None:
            pending.append(item)
        else:
            item.completion, item.logprob = hit
            item.cached = True
    done = total - len(pending)
    if done:
        logger.debug("%s: %d of %d answers from the cache", concept or "exam", done, total)
    if progress is not None:
        progress(done, total)
    failed: dict[str, str] = {}
    generation = config.generation()
    for start in range(0, len(pending), config.chunk):
        chunk = pending[start : start + config.chunk]
        _ask(student, chunk, generation, failed)
        answered = [i for i in chunk if i.completion is not None]
        if cache is not None and answered:
            cache.put_many([(i.key, i.completion or "", i.logprob) for i in answered])
        done += len(chunk)
        if progress is not None:
            progress(done, total)
    if failed:
        logger.warning("%s: %d puzzle(s) left out, the student could not answer them", concept or "exam", len(failed))
    results = [_result(item) for item in items if item.puzzle.id not in failed]
    kept = [p for p in puzzles if p.id not in failed]
    return ExamReport(
        concept=concept,
        student=student.spec,
        prompt_format=config.format_key,
        explanation=text,
        puzzles=kept,
        results=results,
        example_id=example_id,
        config=config,
        errors=[f"{pid}: {why}" for pid, why in failed.items()],
    )


def _ask(student: LanguageModel, chunk: list[_Item], generation: GenerationConfig, failed: dict[str, str]) -> None:
    prompts = [i.prompt for i in chunk]
    try:
        completions = student.generate(prompts, generation)
        logprobs = student.score(prompts, [i.continuation for i in chunk])
    except ModelRequestError as exc:
        if len(chunk) == 1:
            item = chunk[0]
            logger.warning("puzzle %s: the student could not answer: %s", item.puzzle.id, exc)
            failed[item.puzzle.id] = str(exc)
            return
        for item in chunk:
            _ask(student, [item], generation, failed)
        return
    for item, completion, logprob in zip(chunk, completions, logprobs, strict=True):
        item.completion, item.logprob = completion, logprob


def _result(item: _Item) -> ExamResult:
    board = item.puzzle.position()
    completion = item.completion or ""
    move = parse_answer(completion, board)
    return ExamResult(
        puzzle_id=item.puzzle.id,
        with_explanation=item.with_explanation,
        answer=None if move is None else board.san(move),
        correct=grade(item.puzzle, move),
        logprob_solution=item.logprob,
        completion=completion,
        cached=item.cached,
    )


# --- charts --------------------------------------------------------------------------------------------------


def plot_profile(profile: pd.DataFrame, path: str | os.PathLike[str], *, by: str = "concept", title: str = "") -> Path:
    """A bar chart of a profile (:func:`concept_profile`): accuracy without and with the explanation per row,
    and the uplift with its interval; saved as PNG."""
    from matplotlib.figure import Figure

    labels = [str(x) for x in profile[by]]
    xs = list(range(len(labels)))
    width = 0.38
    fig = Figure(figsize=(max(5.0, 1.2 * len(labels) + 2), 6.5), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    top.bar([x - width / 2 for x in xs], profile["accuracy_without"], width, label="without", color="#9aa5b1")
    top.bar([x + width / 2 for x in xs], profile["accuracy_with"], width, label="with explanation", color="#3b8fd4")
    top.set_ylim(0, 1)
    top.set_ylabel("accuracy")
    top.legend(loc="upper right", fontsize="small")
    top.set_title(title or f"student accuracy by {by.replace('_', ' ')}")
    uplift = profile["uplift"].astype(float)
    errors = [(uplift - profile["ci_low"]).clip(lower=0), (profile["ci_high"] - uplift).clip(lower=0)]
    colors = ["#2e8b57" if low > 0 else "#c0392b" if high < 0 else "#b0b0b0"
              for low, high in zip(profile["ci_low"], profile["ci_high"], strict=True)]
    bottom.bar(xs, uplift, 0.6, yerr=errors, capsize=4, color=colors)
    bottom.axhline(0, color="black", linewidth=0.8)
    bottom.set_ylabel(f"uplift ({int(CONFIDENCE * 100)}% CI)")
    bottom.set_xticks(xs, labels, rotation=30 if len(labels) > 4 else 0, ha="right" if len(labels) > 4 else "center")
    for x, n in zip(xs, profile["n"], strict=True):
        bottom.annotate(f"n={n}", (x, 0), textcoords="offset points", xytext=(0, -26), ha="center", fontsize="x-small")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png", dpi=110)
    return out


# --- benchmark: exam throughput against the memory-bandwidth bound of decoding ------------------------------

RANDOM_MODEL_CONFIGS: dict[str, dict[str, Any]] = {
    "tiny": {
        "model_type": "llama", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 4096,
        "tie_word_embeddings": True,
    },
    "qwen2.5-1.5b": {
        "model_type": "qwen2", "hidden_size": 1536, "intermediate_size": 8960, "num_hidden_layers": 28,
        "num_attention_heads": 12, "num_key_value_heads": 2, "max_position_embeddings": 32768,
        "vocab_size": 151936, "rope_theta": 1_000_000.0, "rms_norm_eps": 1e-6, "tie_word_embeddings": True,
    },
}
"""Configs of random students for the benchmark: the tests' tiny Llama, and one the size of Qwen2.5-1.5B."""

BENCH_BATCH_SIZES: tuple[int, ...] = (1, 8, 32)
BENCH_EXPLANATION = (
    "A fork is one move that attacks two or more enemy pieces at once; the opponent can save only one. "
    "Look for checks and captures that also hit an undefended piece, and for knight jumps onto squares "
    "that attack the king and the queen together."
)
_SPECIAL_TOKENS = ["<pad>", "<s>", "</s>", "<unk>", "<|system|>", "<|user|>", "<|assistant|>"]
_CHAT_TEMPLATE = (
    "{% for message in messages %}<|{{ message['role'] }}|>{{ message['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


def build_random_model(
    config: dict[str, Any],
    path: str | os.PathLike[str],
    corpus: Iterable[str],
    *,
    dtype: str = "float32",
    tokenizer_vocab: int = 600,
    seed: int = 0,
) -> Path:
    """A randomly initialised causal LM from a config dict (``model_type`` plus its fields), with a byte-level
    BPE tokenizer trained on ``corpus``, saved as a safetensors checkpoint. Nothing is downloaded.

    The model's vocabulary is the config's ``vocab_size`` when given (a real model's size, for honest
    timings), else the tokenizer's; ids past the tokenizer's decode to nothing.
    """
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import AutoConfig, AutoModelForCausalLM, PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=tokenizer_vocab, special_tokens=_SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tokenizer.train_from_iterator(list(corpus), trainer=trainer)
    fast = PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<pad>",
        padding_side="left",
    )
    fast.chat_template = _CHAT_TEMPLATE
    fields = dict(config)
    model_type = fields.pop("model_type")
    fields["vocab_size"] = max(int(fields.get("vocab_size", 0)), len(fast))
    model_config = AutoConfig.for_model(
        model_type, bos_token_id=fast.bos_token_id, eos_token_id=fast.eos_token_id, pad_token_id=fast.pad_token_id,
        **fields,
    )
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(model_config, dtype=getattr(torch, dtype))  # type: ignore[no-untyped-call]
    model.generation_config.pad_token_id = fast.pad_token_id
    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    fast.save_pretrained(out)
    return out


def chess_corpus(puzzles: Iterable[Puzzle]) -> list[str]:
    """Chess text to train a benchmark tokenizer on: puzzle FENs and moves, the concept catalog."""
    from chessteach.concepts.catalog import CONCEPTS

    lines = [f"{p.fen} {' '.join(m.uci() for m in p.moves)} {' '.join(p.solution_san())}" for p in puzzles]
    return lines + [f"{c.name}: {c.definition} {c.how_to_spot}" for c in CONCEPTS.values()]


def memory_bandwidth(*, device: str = "cpu", megabytes: int = 256, repeats: int = 5) -> float:
    """Bytes per second of a large copy (read + write), best of ``repeats``: numpy on the CPU, torch on CUDA."""
    count = megabytes * 2**20 // 4
    best = float("inf")
    if device.startswith("cuda"):
        import torch

        src = torch.ones(count, dtype=torch.float32, device=device)
        dst = torch.empty_like(src)
        for _ in range(repeats + 1):
            torch.cuda.synchronize(device)
            start = time.perf_counter()
            dst.copy_(src)
            torch.cuda.synchronize(device)
            best = min(best, time.perf_counter() - start)
        nbytes = src.numel() * src.element_size()
    else:
        import numpy as np

        src_np = np.ones(count, dtype=np.float32)
        dst_np = np.empty_like(src_np)
        for _ in range(repeats + 1):
            start = time.perf_counter()
            np.copyto(dst_np, src_np)
            best = min(best, time.perf_counter() - start)
        nbytes = src_np.nbytes
    return 2 * nbytes / best


def model_bytes(student: LanguageModel, path: str | os.PathLike[str] | None = None) -> int:
    """The bytes of the student's weights: its torch module's parameters, else its safetensors files."""
    module = getattr(student, "model", None)
    parameters = getattr(module, "parameters", None)
    if callable(parameters):
        return int(sum(p.numel() * p.element_size() for p in parameters()))
    if path is None:
        raise ExamError(f"{student.spec}: cannot tell the size of its weights")
    return sum(f.stat().st_size for f in Path(path).glob("*.safetensors"))


@dataclass(frozen=True)
class ExamBenchRow:
    """Exam throughput at one batch size, with or without the explanation, and its decode bound."""

    batch_size: int
    with_explanation: bool
    puzzles: int
    prompt_tokens: float
    seconds: float
    bound_seconds: float

    @property
    def puzzles_per_s(self) -> float:
        return self.puzzles / self.seconds

    @property
    def bound_puzzles_per_s(self) -> float:
        return self.puzzles / self.bound_seconds

    @property
    def ratio(self) -> float:
        """Measured throughput over the bound (1.0 would read the weights at full memory bandwidth)."""
        return self.bound_seconds / self.seconds


@dataclass
class ExamBench:
    """The benchmark's setting and its rows."""

    student: str
    device: str
    model_bytes: int
    bandwidth: float
    decode_steps: int
    rows: list[ExamBenchRow]

    @property
    def step_seconds(self) -> float:
        """The decode bound of one step: the weights read once at the measured bandwidth."""
        return self.model_bytes / self.bandwidth


def run_exam_bench(
    student: LanguageModel,
    puzzles: Sequence[Puzzle],
    *,
    batch_sizes: Sequence[int] = BENCH_BATCH_SIZES,
    explanation: str = BENCH_EXPLANATION,
    max_new_tokens: int = 8,
    device: str = "cpu",
    checkpoint: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
) -> ExamBench:
    """Time the student's exam work (greedy answers plus the solution's log-probability) per batch size,
    without and with the explanation, against the decode bound.

    The bound: each batch reads the weights at least ``max_new_tokens + 2`` times (every decoding step, the
    prefill and the scoring pass), so ``ceil(puzzles / batch) * (max_new_tokens + 2) * model_bytes /
    bandwidth`` seconds, with the bandwidth measured in the same run (:func:`memory_bandwidth`). It ignores
    compute (prefill of long prompts is compute-bound), so it is optimistic; the ratio is at most 1.
    Answers always run to ``max_new_tokens`` (no stop string), as a random model would anyway. The student's
    batch size is set on the backend when it has a ``batch_size`` attribute (the ``hf:`` backend).
    """
    import math

    weights = model_bytes(student, checkpoint)
    bandwidth = memory_bandwidth(device=device)
    steps = max_new_tokens + 2
    generation = GenerationConfig(max_new_tokens=max_new_tokens, temperature=0.0)
    tokenizer = getattr(student, "tokenizer", None)
    rows = []
    total = 2 * len(batch_sizes)
    warm = [exam_prompt(p, explanation) for p in puzzles[:2]]
    student.generate(warm, generation)
    student.score(warm, [solution_continuation(p) for p in puzzles[:2]])
    for batch in batch_sizes:
        if hasattr(student, "batch_size"):
            student.batch_size = batch
        for with_explanation in (False, True):
            prompts = [exam_prompt(p, explanation if with_explanation else None) for p in puzzles]
            tokens = (
                sum(len(tokenizer(str(p))["input_ids"]) for p in prompts) / len(prompts) if tokenizer else float("nan")
            )
            start = time.perf_counter()
            student.generate(prompts, generation)
            student.score(prompts, [solution_continuation(p) for p in puzzles])
            seconds = time.perf_counter() - start
            bound = math.ceil(len(puzzles) / batch) * steps * weights / bandwidth
            rows.append(ExamBenchRow(batch, with_explanation, len(puzzles), tokens, seconds, bound))
            logger.info("batch %d, %s explanation: %.2f puzzles/s", batch, "with" if with_explanation else "without",
                        len(puzzles) / seconds)
            if progress is not None:
                progress(len(rows), total)
    return ExamBench(student.spec, device, weights, bandwidth, steps, rows)
