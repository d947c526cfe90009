"""Exams a small model can take: multiple choice by likelihood, with placebo controls.

A small language model rarely writes a legal move when asked for one, so free answers say little about what an
explanation teaches it. Evaluation harnesses score small models by **likelihood** instead: the student's
log-probability of each candidate answer after the question, the answer its argmax. Here the candidates are
moves in SAN, the notation the exam's prompts ask for (:func:`~chessteach.teaching.exam.exam_prompt`), each
written as the prompt's continuation (after a space in plain text, as the assistant's reply in a chat):

- for a positional exercise (a puzzle with ``Distractors``), the best move and its three distractors, the
  question listing those four (:func:`~chessteach.teaching.exam.exam_choices`);
- for a puzzle, every legal move, the question listing them all.

The answer is right when :func:`~chessteach.teaching.answers.grade` accepts it (the solution, or any mate at
once); the **probability on the solution** is the share of the candidates' total probability that the accepted
moves hold (a softmax over the candidates' summed log-probabilities; no length normalisation). The prompt's
computation is shared by its candidates (:meth:`~chessteach.llm.base.LanguageModel.score_continuations`).

Each item is asked under three **conditions** (:data:`CONDITIONS`): no explanation, the concept's
explanation, and a **placebo**, an explanation of another concept of similar length
(:func:`choose_placebo`). The content's effect is the uplift over the placebo; the uplift over nothing also
counts the mere presence of text. Both come with paired-bootstrap intervals (fixed seed). The **degradation
rate** (the issue's non-degradation measure) is the share of items right without the explanation and wrong
with it. The free answer (greedy, graded as in :func:`~chessteach.teaching.exam.run_exam`) is asked from the
same prompt, so the table shows both measures side by side.

>>> from chessteach.puzzles import Puzzle
>>> p = Puzzle.from_solution("6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1", ["a1a8"], id="backRank")
>>> len(candidate_moves(p)), Choice(("Ra8#", "Ra2"), (-1.0, -3.0), (True, False)).correct
(20, True)
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import chess
import pandas as pd

from chessteach.llm.base import LanguageModel, ModelRequestError, Prompt
from chessteach.puzzles.puzzle import Puzzle
from chessteach.teaching.answers import grade, parse_answer
from chessteach.teaching.exam import (
    ExamConfig,
    ExamError,
    Progress,
    exam_choices,
    exam_prompt,
    explanation_hash,
    is_exercise,
    puzzle_key,
)
from chessteach.teaching.stats import Interval, paired_bootstrap

logger = logging.getLogger(__name__)

NONE, CONCEPT, PLACEBO = "none", "concept", "placebo"
CONDITIONS: tuple[str, ...] = (NONE, CONCEPT, PLACEBO)
"""The exam's conditions: no explanation, the concept's explanation, a placebo explanation."""

MEMO_LIMIT = 65536
"""Questions whose candidate scores :class:`LikelihoodScorer` remembers."""


# --- one question --------------------------------------------------------------------------------------------


def candidate_moves(puzzle: Puzzle) -> list[chess.Move]:
    """The candidates of a question: an exercise's best move and three distractors (in
    :func:`~chessteach.teaching.exam.exam_choices`'s order), else every legal move of the solver's position."""
    if is_exercise(puzzle):
        return exam_choices(puzzle)
    return list(puzzle.position().legal_moves)


def likelihood_prompt(puzzle: Puzzle, explanation: str | None, config: ExamConfig) -> Prompt:
    """The question whose continuations are scored: the exam prompt, listing the candidates of an exercise
    (multiple choice) or every legal move of a puzzle."""
    return exam_prompt(
        puzzle, explanation, prompt_format=config.prompt_format, chat=config.chat, choices=is_exercise(puzzle)
    )


def move_continuation(san: str, *, chat: bool) -> str:
    """A move as the prompt's continuation: SAN, after a space in plain text (the prompt ends ``Answer:``)."""
    return san if chat else f" {san}"


@dataclass(frozen=True)
class Choice:
    """The student's log-probability of each candidate (SAN) of one question, and which candidates are right."""

    candidates: tuple[str, ...]
    logprobs: tuple[float, ...]
    accepted: tuple[bool, ...]

    @property
    def best(self) -> int:
        """The index of the student's answer: the most likely candidate (the first on a tie)."""
        return max(range(len(self.logprobs)), key=lambda i: self.logprobs[i])

    @property
    def answer(self) -> str:
        return self.candidates[self.best]

    @property
    def correct(self) -> bool:
        return self.accepted[self.best]

    @property
    def p_solution(self) -> float:
        """The accepted candidates' share of the candidates' total probability.

        >>> round(Choice(("a", "b"), (math.log(3), 0.0), (True, False)).p_solution, 3)
        0.75
        """
        top = max(self.logprobs)
        weights = [math.exp(lp - top) for lp in self.logprobs]
        return sum(w for w, ok in zip(weights, self.accepted, strict=True) if ok) / sum(weights)


def score_choice(student: LanguageModel, puzzle: Puzzle, explanation: str | None, config: ExamConfig) -> Choice:
    """Score every candidate of the puzzle's question after one prompt (the prompt computed once)."""
    board = puzzle.position()
    moves = candidate_moves(puzzle)
    if not moves:
        raise ExamError(f"puzzle {puzzle.id}: the solver has no legal move")
    sans = tuple(board.san(m) for m in moves)
    prompt = likelihood_prompt(puzzle, explanation, config)
    logprobs = student.score_continuations(prompt, [move_continuation(s, chat=config.chat) for s in sans])
    return Choice(sans, tuple(float(x) for x in logprobs), tuple(grade(puzzle, m) for m in moves))


class LikelihoodScorer:
    """Scores questions (explanation, puzzle) by likelihood, each once (remembered by the explanation's hash and
    the puzzle's key); the teachability reward on the likelihood measure asks it.

    >>> scorer = LikelihoodScorer(student, ExamConfig())  # doctest: +SKIP
    >>> scorer.choice(puzzle, None).p_solution  # doctest: +SKIP
    0.031
    """

    def __init__(self, student: LanguageModel, config: ExamConfig | None = None) -> None:
        self.student = student
        self.config = config or ExamConfig()
        self._memo: dict[tuple[str, str], Choice] = {}
        self.scored = 0

    def choice(self, puzzle: Puzzle, explanation: str | None) -> Choice:
        key = (explanation_hash(explanation), puzzle_key(puzzle, choices=is_exercise(puzzle)))
        hit = self._memo.get(key)
        if hit is None:
            if len(self._memo) >= MEMO_LIMIT:
                self._memo.clear()
            hit = self._memo[key] = score_choice(self.student, puzzle, explanation, self.config)
            self.scored += 1
        return hit


# --- placebos ------------------------------------------------------------------------------------------------


def choose_placebo(concept: str, explanations: Mapping[str, str]) -> str:
    """The other concept whose explanation is closest in length (characters) to ``concept``'s (ties: by id).

    >>> choose_placebo("fork", {"fork": "x" * 100, "pin": "x" * 90, "skewer": "x" * 300})
    'pin'
    """
    if concept not in explanations:
        raise ExamError(f"no explanation of {concept!r} to match a placebo to")
    others = sorted(c for c in explanations if c != concept)
    if not others:
        raise ExamError(f"a placebo for {concept!r} needs an explanation of another concept")
    size = len(explanations[concept])
    return min(others, key=lambda c: (abs(len(explanations[c]) - size), c))


# --- the exam ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LikelihoodResult:
    """One item under one condition: the likelihood answer and the free answer."""

    puzzle_id: str
    condition: str
    answer: str
    correct: bool
    p_solution: float
    free_answer: str | None = None
    free_correct: bool | None = None
    free_text: str | None = None


@dataclass(frozen=True)
class LikelihoodSummary:
    """An exam's scores per condition, the uplifts of the concept's explanation and the degradation rate."""

    concept: str
    n: int
    accuracy: dict[str, float]
    p_solution: dict[str, float]
    free_accuracy: dict[str, float]
    uplift_none: Interval
    uplift_placebo: Interval
    p_uplift_none: Interval
    p_uplift_placebo: Interval
    degradation: float
    """The share of items right without the explanation and wrong with it (likelihood answers)."""


@dataclass
class LikelihoodReport:
    """The answers of one likelihood exam (one concept, its explanation and its placebo)."""

    concept: str
    student: str
    explanations: dict[str, str | None]
    placebo_concept: str | None
    puzzles: list[Puzzle]
    results: list[LikelihoodResult]
    config: ExamConfig = field(default_factory=ExamConfig)
    score_seconds: float = 0.0
    generate_seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    def frame(self) -> pd.DataFrame:
        """One row per puzzle: ``concept, puzzle_id, kind, solution`` and per condition ``answer_C, correct_C,
        p_solution_C, free_answer_C, free_correct_C, free_text_C`` (the free answer's move and raw text)."""
        by_key = {(r.puzzle_id, r.condition): r for r in self.results}
        rows = []
        for puzzle in self.puzzles:
            row: dict[str, Any] = {
                "concept": self.concept,
                "puzzle_id": puzzle.id,
                "kind": "exercise" if is_exercise(puzzle) else "puzzle",
                "solution": puzzle.position().san(puzzle.solver_moves[0]),
            }
            for condition in self.explanations:
                result = by_key.get((puzzle.id, condition))
                if result is None:
                    break
                row.update({
                    f"answer_{condition}": result.answer,
                    f"correct_{condition}": result.correct,
                    f"p_solution_{condition}": result.p_solution,
                    f"free_answer_{condition}": result.free_answer,
                    f"free_correct_{condition}": result.free_correct,
                    f"free_text_{condition}": result.free_text,
                })
            else:
                rows.append(row)
        return pd.DataFrame(rows)

    def summary(self) -> LikelihoodSummary:
        return summarize(self.frame(), self.concept, self.config)


def summarize(frame: pd.DataFrame, concept: str, config: ExamConfig) -> LikelihoodSummary:
    """The scores of a frame of :meth:`LikelihoodReport.frame` rows (one concept, or several together)."""
    nan = float("nan")
    conditions = [c for c in CONDITIONS if f"correct_{c}" in frame]

    def mean(column: str) -> float:
        return float(frame[column].astype(float).mean()) if column in frame and len(frame) else nan

    def uplift(column: str, against: str) -> Interval:
        if f"{column}_{CONCEPT}" not in frame or f"{column}_{against}" not in frame:
            return Interval(nan, nan, nan, config.confidence, 0)
        return paired_bootstrap(
            frame[f"{column}_{CONCEPT}"].astype(float).tolist(), frame[f"{column}_{against}"].astype(float).tolist(),
            resamples=config.resamples, confidence=config.confidence, seed=config.seed,
        )

    degradation = nan
    if f"correct_{CONCEPT}" in frame and len(frame):
        degraded = frame[f"correct_{NONE}"].astype(bool) & ~frame[f"correct_{CONCEPT}"].astype(bool)
        degradation = float(degraded.mean())
    return LikelihoodSummary(
        concept=concept,
        n=len(frame),
        accuracy={c: mean(f"correct_{c}") for c in conditions},
        p_solution={c: mean(f"p_solution_{c}") for c in conditions},
        free_accuracy={c: mean(f"free_correct_{c}") for c in conditions},
        uplift_none=uplift("correct", NONE),
        uplift_placebo=uplift("correct", PLACEBO),
        p_uplift_none=uplift("p_solution", NONE),
        p_uplift_placebo=uplift("p_solution", PLACEBO),
        degradation=degradation,
    )


TABLE_COLUMNS = [
    "concept", "n", *(f"{m}_{c}" for m in ("free", "accuracy", "p_solution") for c in CONDITIONS),
    "uplift_none", "uplift_none_low", "uplift_none_high", "uplift_placebo", "uplift_placebo_low",
    "uplift_placebo_high", "p_uplift_none", "p_uplift_none_low", "p_uplift_none_high", "p_uplift_placebo",
    "p_uplift_placebo_low", "p_uplift_placebo_high", "degradation",
]


def _table_row(summary: LikelihoodSummary) -> dict[str, Any]:
    row: dict[str, Any] = {"concept": summary.concept, "n": summary.n}
    for condition in CONDITIONS:
        row[f"free_{condition}"] = summary.free_accuracy.get(condition, float("nan"))
        row[f"accuracy_{condition}"] = summary.accuracy.get(condition, float("nan"))
        row[f"p_solution_{condition}"] = summary.p_solution.get(condition, float("nan"))
    for name in ("uplift_none", "uplift_placebo", "p_uplift_none", "p_uplift_placebo"):
        interval: Interval = getattr(summary, name)
        row.update({name: interval.mean, f"{name}_low": interval.low, f"{name}_high": interval.high})
    row["degradation"] = summary.degradation
    return row


def likelihood_table(reports: Sequence[LikelihoodReport]) -> pd.DataFrame:
    """One row per exam (concept) and, for more than one, a row ``all`` of every item together."""
    rows = [_table_row(r.summary()) for r in reports]
    frames = [r.frame() for r in reports if r.puzzles]
    if len(reports) > 1 and frames:
        rows.append(_table_row(summarize(pd.concat(frames, ignore_index=True), "all", reports[0].config)))
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def run_likelihood_exam(
    student: LanguageModel,
    puzzles: Sequence[Puzzle],
    explanation: str,
    placebo: str | None,
    *,
    concept: str = "",
    placebo_concept: str | None = None,
    config: ExamConfig | None = None,
    free_answer: bool = True,
    progress: Progress | None = None,
) -> LikelihoodReport:
    """Ask every puzzle under each condition (none, the concept's explanation, the placebo when given): score
    its candidates by likelihood and, with ``free_answer``, generate a greedy answer from the same prompt.

    A puzzle without usable candidates (an exercise with bad distractors) raises :class:`ExamError` before the
    student is asked anything. A puzzle the student refuses (:class:`~chessteach.llm.base.ModelRequestError`,
    e.g. a prompt too long for it) is left out of the report in every condition, logged and counted in
    ``errors``. ``progress(done, total)`` counts items (puzzles x conditions).
    """
    config = config or ExamConfig()
    for puzzle in puzzles:
        candidate_moves(puzzle)
    explanations: dict[str, str | None] = {NONE: None, CONCEPT: explanation}
    if placebo is not None:
        explanations[PLACEBO] = placebo
    scorer = LikelihoodScorer(student, config)
    items = [(p, c) for p in puzzles for c in explanations]
    total = len(items)
    if progress is not None:
        progress(0, total)
    results: list[LikelihoodResult] = []
    failed: dict[str, str] = {}
    score_seconds = generate_seconds = 0.0
    generation = config.generation()
    for start in range(0, total, config.chunk):
        began = time.perf_counter()
        chunk, choices = [], []
        for puzzle, condition in items[start : start + config.chunk]:
            if puzzle.id in failed:
                continue
            try:
                choices.append(scorer.choice(puzzle, explanations[condition]))
            except ModelRequestError as exc:
                logger.warning("puzzle %s: the student could not answer: %s", puzzle.id, exc)
                failed[puzzle.id] = str(exc)
                continue
            chunk.append((puzzle, condition))
        score_seconds += time.perf_counter() - began
        free: list[str | None] = [None] * len(chunk)
        if free_answer:
            began = time.perf_counter()
            free = list(student.generate([likelihood_prompt(p, explanations[c], config) for p, c in chunk], generation))
            generate_seconds += time.perf_counter() - began
        for (puzzle, condition), choice, text in zip(chunk, choices, free, strict=True):
            move = None if text is None else parse_answer(text, puzzle.position())
            results.append(
                LikelihoodResult(
                    puzzle.id, condition, choice.answer, choice.correct, choice.p_solution,
                    free_answer=None if text is None else (puzzle.position().san(move) if move else None),
                    free_correct=None if text is None else grade(puzzle, move), free_text=text,
                )
            )
        if progress is not None:
            progress(min(total, start + config.chunk), total)
    logger.info(
        "%s: %d items, %.2f s/item scoring, %.2f s/item free answers", concept or "exam", total,
        score_seconds / max(1, total), generate_seconds / max(1, total),
    )
    return LikelihoodReport(
        concept=concept, student=student.spec, explanations=explanations, placebo_concept=placebo_concept,
        puzzles=[p for p in puzzles if p.id not in failed],
        results=[r for r in results if r.puzzle_id not in failed], config=config, score_seconds=score_seconds,
        generate_seconds=generate_seconds, errors=[f"{pid}: {why}" for pid, why in failed.items()],
    )
