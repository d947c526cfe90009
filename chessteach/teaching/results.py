"""An exam's results as pandas frames, and their summaries: accuracies, the uplift and the dense score.

The score of an explanation is the **uplift**: the student's accuracy with it minus its accuracy without, with a
paired bootstrap interval over puzzles (:func:`~chessteach.teaching.stats.paired_bootstrap`); the **dense
score** is the change in the log-probability of the solution move (SAN) that the explanation brings. A
**profile** (:func:`concept_profile`) breaks several exams down by concept or by rating band.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from chessteach.puzzles.puzzle import Puzzle
from chessteach.teaching.exam_puzzles import rating_band
from chessteach.teaching.examiner import ExamConfig
from chessteach.teaching.prompts import ExamError
from chessteach.teaching.stats import Interval, paired_bootstrap


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
class ExamSummary:
    """An exam's scores: accuracies, the uplift and the log-probability change with their intervals."""

    concept: str
    n: int
    accuracy_without: float
    accuracy_with: float
    uplift: Interval
    logprob_change: Interval


SUMMARY_COLUMNS = [
    "n",
    "accuracy_without",
    "accuracy_with",
    "uplift",
    "ci_low",
    "ci_high",
    "logprob_change",
    "logprob_ci_low",
    "logprob_ci_high",
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
                row.update(answer_with=with_.answer, correct_with=with_.correct, logprob_with=with_.logprob_solution)
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


__all__ = ["SUMMARY_COLUMNS", "ExamReport", "ExamResult", "ExamSummary", "concept_profile"]
