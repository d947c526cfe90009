"""Student exams: how much an explanation of a concept raises a student model's accuracy on its puzzles.

An exam is a seeded draw of puzzles of one concept (:func:`~chessteach.teaching.exam_puzzles.draw_exam`) that
never contains the teacher's example or its positions. :func:`run_exam` puts each puzzle to the student twice,
without and with the explanation before the question, in one of the named prompt formats
(:data:`~chessteach.teaching.prompts.PROMPT_FORMATS`); the student answers with one move, graded by
:func:`~chessteach.teaching.answers.grade` (the solution, or any mate at once). The asking goes through the
:class:`~chessteach.teaching.examiner.Examiner` and its :class:`~chessteach.teaching.exam_cache.ExamCache`: a
rerun asks the model nothing, and the no-explanation half is shared by every explanation of the same exam. The
report (:class:`~chessteach.teaching.results.ExamReport`) scores the explanation by its **uplift** and its dense
score.

Positional exercises (a puzzle CSV with a ``Distractors`` column) are exams like any puzzles, their themes being
positional concept ids. They also allow **multiple choice** (:attr:`~chessteach.teaching.examiner.ExamConfig.choices`):
the question lists the best move and the three distractors instead of every legal move; grading is the same.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from chessteach.llm.base import LanguageModel
from chessteach.puzzles.puzzle import Puzzle
from chessteach.teaching.exam_cache import ExamCache
from chessteach.teaching.examiner import ExamConfig, Examiner, FreeAnswer, Progress
from chessteach.teaching.prompts import ExplanationLike, explanation_text
from chessteach.teaching.results import ExamReport, ExamResult

logger = logging.getLogger(__name__)


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
    must have usable distractors (:func:`~chessteach.teaching.prompts.exam_choices`): an
    :class:`~chessteach.teaching.prompts.ExamError` is raised before the student is asked anything. Items
    already in ``cache`` are not asked again. A chunk of items the model refuses
    (:class:`~chessteach.llm.base.ModelRequestError`) is retried one by one; a puzzle whose item still fails is
    left out of the report (both conditions), logged, and counted in ``errors``. ``progress(done, total)`` counts
    items (puzzles x conditions).
    """
    config = config or ExamConfig()
    text = explanation_text(explanation)
    conditions = [False] if text is None else [False, True]
    questions = [(puzzle, text if with_explanation else None) for puzzle in puzzles for with_explanation in conditions]
    examiner = Examiner(student, config, cache=cache)
    answers, failed = examiner.free_answers(questions, progress=progress)
    if failed:
        logger.warning("%s: %d puzzle(s) left out, the student could not answer them", concept or "exam", len(failed))
    results = [
        _result(puzzle, explanation is not None, answer)
        for (puzzle, explanation), answer in zip(questions, answers, strict=True)
        if answer is not None and puzzle.id not in failed
    ]
    return ExamReport(
        concept=concept,
        student=student.spec,
        prompt_format=config.format_key,
        explanation=text,
        puzzles=[p for p in puzzles if p.id not in failed],
        results=results,
        example_id=example_id,
        config=config,
        errors=[f"{pid}: {why}" for pid, why in failed.items()],
    )


def _result(puzzle: Puzzle, with_explanation: bool, answer: FreeAnswer) -> ExamResult:
    return ExamResult(
        puzzle_id=puzzle.id,
        with_explanation=with_explanation,
        answer=answer.move,
        correct=answer.correct,
        logprob_solution=answer.logprob,
        completion=answer.completion,
        cached=answer.cached,
    )


__all__ = ["run_exam"]
