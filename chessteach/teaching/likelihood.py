"""Exams a small model can take: multiple choice by likelihood, with placebo controls.

A small language model rarely writes a legal move when asked for one, so free answers say little about what an
explanation teaches it. Evaluation harnesses score small models by **likelihood** instead: the student's
log-probability of each candidate answer after the question, the answer its argmax. Here the candidates are
moves in SAN, the notation the exam's prompts ask for (:func:`~chessteach.teaching.prompts.exam_prompt`), each
written as the prompt's continuation (after a space in plain text, as the assistant's reply in a chat):

- for a positional exercise (a puzzle with ``Distractors``), the best move and its three distractors, the
  question listing those four (:func:`~chessteach.teaching.prompts.exam_choices`);
- for a puzzle, every legal move, the question listing them all.

The answer is right when :func:`~chessteach.teaching.answers.grade` accepts it (the solution, or any mate at
once); the **probability on the solution** is the share of the candidates' total probability that the accepted
moves hold (a softmax over the candidates' summed log-probabilities; no length normalisation). The prompt's
computation is shared by its candidates (:meth:`~chessteach.llm.base.LanguageModel.score_continuations`). The
:class:`~chessteach.teaching.examiner.Examiner` asks each question (:meth:`~chessteach.teaching.examiner.Examiner.choice`)
and keeps its answer in the exam cache.

Each item is asked under several **conditions**: no explanation, one or more explanations of the concept (the
grounded template's, a teacher model's: :data:`TEMPLATE`, :data:`TEACHER`) and a **placebo**, an explanation of
another concept of similar length (:func:`choose_placebo`). The content's effect is the uplift over the placebo;
the uplift over nothing also counts the mere presence of text. Both come with paired-bootstrap intervals (fixed
seed). The **degradation rate** (the issue's non-degradation measure) is the share of items right without the
explanation and wrong with it. The free answer (greedy, graded as in :func:`~chessteach.teaching.exam.run_exam`)
is asked from the same prompt, computed once for both, so the table shows both measures side by side.

>>> choose_placebo("fork", {"fork": "x" * 100, "pin": "x" * 90})
'pin'
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from chessteach.llm.base import LanguageModel, ModelRequestError
from chessteach.puzzles.puzzle import Puzzle
from chessteach.teaching.exam_cache import ExamCache
from chessteach.teaching.examiner import ExamConfig, Examiner, Progress, grade_free_answer
from chessteach.teaching.prompts import ExamError, candidate_moves, is_exercise
from chessteach.teaching.stats import Interval, paired_bootstrap

logger = logging.getLogger(__name__)

NONE, PLACEBO = "none", "placebo"
"""The control conditions: no explanation, and a placebo (another concept's explanation of similar length)."""
TEMPLATE, TEACHER, GIVEN = "template", "teacher", "given"
"""The usual explanation conditions: the grounded template explainer's, a teacher model's, a given text's."""
CONTROLS: tuple[str, ...] = (NONE, PLACEBO)

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
class ConditionSummary:
    """One condition's scores over an exam's items and, for an explanation (or the placebo), its uplifts."""

    concept: str
    condition: str
    n: int
    accuracy: float
    p_solution: float
    free_accuracy: float
    uplift_none: Interval
    """Likelihood accuracy minus that without an explanation (paired bootstrap)."""
    uplift_placebo: Interval
    """Likelihood accuracy minus that with the placebo: the content's effect."""
    p_uplift_none: Interval
    p_uplift_placebo: Interval
    degradation: float
    """The share of items right without an explanation and wrong in this condition (likelihood answers)."""


@dataclass
class LikelihoodReport:
    """The answers of one likelihood exam: one concept, asked without an explanation, with each of its
    explanations and with a placebo."""

    concept: str
    student: str
    explanations: dict[str, str | None]
    """The conditions in order (``none`` first, ``placebo`` last when asked) and the text each shows."""
    placebo_concept: str | None
    puzzles: list[Puzzle]
    results: list[LikelihoodResult]
    config: ExamConfig = field(default_factory=ExamConfig)
    seconds: float = 0.0
    """Time spent asking (scoring and free answers together: they share the prompt's computation)."""
    errors: list[str] = field(default_factory=list)

    @property
    def conditions(self) -> list[str]:
        return list(self.explanations)

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

    def summary(self) -> list[ConditionSummary]:
        return summarize(self.frame(), self.concept, self.conditions, self.config)


def summarize(
    frame: pd.DataFrame, concept: str, conditions: Sequence[str], config: ExamConfig
) -> list[ConditionSummary]:
    """Each condition's scores over a frame of :meth:`LikelihoodReport.frame` rows (one concept, or several
    together): uplifts over ``none`` for every other condition, over ``placebo`` for the explanations."""
    nan = float("nan")
    missing = Interval(nan, nan, nan, config.confidence, 0)

    def mean(column: str) -> float:
        return float(frame[column].astype(float).mean()) if column in frame and len(frame) else nan

    def uplift(column: str, condition: str, against: str) -> Interval:
        if condition == against or f"{column}_{condition}" not in frame or f"{column}_{against}" not in frame:
            return missing
        return paired_bootstrap(
            frame[f"{column}_{condition}"].astype(float).tolist(), frame[f"{column}_{against}"].astype(float).tolist(),
            resamples=config.resamples, confidence=config.confidence, seed=config.seed,
        )

    summaries = []
    for condition in conditions:
        degradation = nan
        if condition != NONE and f"correct_{condition}" in frame and f"correct_{NONE}" in frame and len(frame):
            degraded = frame[f"correct_{NONE}"].astype(bool) & ~frame[f"correct_{condition}"].astype(bool)
            degradation = float(degraded.mean())
        against_placebo = condition not in CONTROLS
        summaries.append(
            ConditionSummary(
                concept=concept,
                condition=condition,
                n=len(frame),
                accuracy=mean(f"correct_{condition}"),
                p_solution=mean(f"p_solution_{condition}"),
                free_accuracy=mean(f"free_correct_{condition}"),
                uplift_none=uplift("correct", condition, NONE),
                uplift_placebo=uplift("correct", condition, PLACEBO) if against_placebo else missing,
                p_uplift_none=uplift("p_solution", condition, NONE),
                p_uplift_placebo=uplift("p_solution", condition, PLACEBO) if against_placebo else missing,
                degradation=degradation,
            )
        )
    return summaries


UPLIFTS = ("uplift_none", "uplift_placebo", "p_uplift_none", "p_uplift_placebo")
TABLE_COLUMNS = [
    "concept", "condition", "n", "free_accuracy", "accuracy", "p_solution",
    *(f"{name}{end}" for name in UPLIFTS for end in ("", "_low", "_high")), "degradation",
]
"""The columns of :func:`likelihood_table` (one row per concept and condition)."""


def _table_row(summary: ConditionSummary) -> dict[str, Any]:
    row: dict[str, Any] = {
        "concept": summary.concept, "condition": summary.condition, "n": summary.n,
        "free_accuracy": summary.free_accuracy, "accuracy": summary.accuracy, "p_solution": summary.p_solution,
    }
    for name in UPLIFTS:
        interval: Interval = getattr(summary, name)
        row.update({name: interval.mean, f"{name}_low": interval.low, f"{name}_high": interval.high})
    row["degradation"] = summary.degradation
    return row


def likelihood_table(reports: Sequence[LikelihoodReport]) -> pd.DataFrame:
    """One row per exam (concept) and condition and, for more than one exam, rows ``all`` of every item together
    (for the conditions every exam has)."""
    rows = [_table_row(s) for r in reports for s in r.summary()]
    frames = [r.frame() for r in reports if r.puzzles]
    if len(reports) > 1 and frames:
        shared = [c for c in reports[0].conditions if all(c in r.explanations for r in reports)]
        together = pd.concat(frames, ignore_index=True)
        rows += [_table_row(s) for s in summarize(together, "all", shared, reports[0].config)]
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def run_likelihood_exam(
    student: LanguageModel,
    puzzles: Sequence[Puzzle],
    explanations: Mapping[str, str],
    placebo: str | None,
    *,
    concept: str = "",
    placebo_concept: str | None = None,
    config: ExamConfig | None = None,
    free_answer: bool = True,
    progress: Progress | None = None,
    cache: ExamCache | None = None,
) -> LikelihoodReport:
    """Ask every puzzle without an explanation, with each of ``explanations`` (condition name to text, e.g.
    ``{"template": ..., "teacher": ...}``) and with the placebo when given: score its candidates by likelihood
    and, with ``free_answer``, let the student answer greedily from the same prompt.

    The items go condition by condition, so that consecutive questions share the explanation's computation
    (the ``hf:`` backend keeps recent prompts' caches). A puzzle without usable candidates (an exercise with bad
    distractors) raises :class:`ExamError` before the student is asked anything. A puzzle the student refuses
    (:class:`~chessteach.llm.base.ModelRequestError`, e.g. a prompt too long for it) is left out of the report in
    every condition, logged and counted in ``errors``. ``progress(done, total)`` counts items (puzzles x
    conditions). With a ``cache`` every answer is kept as it comes, so an interrupted exam resumes where it
    stopped and a rerun asks the student nothing (the results are the same as a clean run's).
    """
    config = config or ExamConfig()
    if not explanations:
        raise ExamError("a likelihood exam needs at least one explanation")
    clash = [name for name in explanations if name in CONTROLS]
    if clash:
        raise ExamError(f"explanation conditions cannot be named {', '.join(clash)}: they are the controls")
    for puzzle in puzzles:
        candidate_moves(puzzle)
    shown: dict[str, str | None] = {NONE: None, **explanations}
    if placebo is not None:
        shown[PLACEBO] = placebo
    examiner = Examiner(student, config, cache=cache)
    items = [(p, c) for c in shown for p in puzzles]
    total = len(items)
    if progress is not None:
        progress(0, total)
    results: list[LikelihoodResult] = []
    failed: dict[str, str] = {}
    began = time.perf_counter()
    for done, (puzzle, condition) in enumerate(items, start=1):
        if puzzle.id not in failed:
            try:
                choice, text = examiner.choice_and_answer(puzzle, shown[condition], free_answer=free_answer)
            except ModelRequestError as exc:
                logger.warning("puzzle %s: the student could not answer: %s", puzzle.id, exc)
                failed[puzzle.id] = str(exc)
            else:
                free = None if text is None else grade_free_answer(puzzle, text)
                results.append(
                    LikelihoodResult(
                        puzzle.id, condition, choice.answer, choice.correct, choice.p_solution,
                        free_answer=None if free is None else free.move,
                        free_correct=None if free is None else free.correct, free_text=text,
                    )
                )
        if progress is not None and (done % config.chunk == 0 or done == total):
            progress(done, total)
    seconds = time.perf_counter() - began
    logger.info("%s: %d items, %.2f s/item", concept or "exam", total, seconds / max(1, total))
    return LikelihoodReport(
        concept=concept, student=student.spec, explanations=shown, placebo_concept=placebo_concept,
        puzzles=[p for p in puzzles if p.id not in failed],
        results=[r for r in results if r.puzzle_id not in failed], config=config, seconds=seconds,
        errors=[f"{pid}: {why}" for pid, why in failed.items()],
    )
