"""Likelihood exams keep every answer as it comes: an interrupted exam resumes where it stopped, with the same
results as a clean run, and a rerun asks the student nothing. The tiny random model stands in for a student here
(the claim is about the bookkeeping; ``tests/test_smollm2.py`` makes the claims about a real model)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from chessteach.concepts.catalog import CONCEPTS  # noqa: E402
from chessteach.llm import load_model  # noqa: E402
from chessteach.llm.base import GenerationConfig, Prompt  # noqa: E402
from chessteach.puzzles import read_puzzles  # noqa: E402
from chessteach.teaching.exam_cache import ExamCache  # noqa: E402
from chessteach.teaching.exam_puzzles import draw_exam  # noqa: E402
from chessteach.teaching.examiner import ExamConfig  # noqa: E402
from chessteach.teaching.likelihood import run_likelihood_exam  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


class Counting:
    """The student, counting the questions put to it."""

    def __init__(self, model: Any) -> None:
        self.model, self.spec, self.asked = model, model.spec, 0

    def generate(self, prompts: Sequence[Prompt], config: GenerationConfig | None = None) -> list[str]:
        return list(self.model.generate(prompts, config))

    def score(self, prompts: Sequence[Prompt], continuations: Sequence[str]) -> list[float]:
        return list(self.model.score(prompts, continuations))

    def score_continuations(self, prompt: Prompt, continuations: Sequence[str]) -> list[float]:
        self.asked += 1
        return list(self.model.score_continuations(prompt, continuations))

    def score_and_generate(
        self, prompt: Prompt, continuations: Sequence[str], config: GenerationConfig | None = None
    ) -> tuple[list[float], str]:
        self.asked += 1
        return self.model.score_and_generate(prompt, continuations, config)

    def close(self) -> None:
        pass


class Interrupt(Exception):
    pass


def test_an_interrupted_likelihood_exam_resumes_to_the_clean_runs_results(tmp_path: Path, tiny_model_dir: Path) -> None:
    model = load_model(f"hf:{tiny_model_dir}")
    student = Counting(model)
    exercises = read_puzzles(ROOT / "puzzles" / "positional-exercises.csv").puzzles
    items = draw_exam(exercises, "outpost", n=3, seed=0)
    config = ExamConfig(max_new_tokens=4, resamples=200, chunk=1)  # progress after every item
    explanations = {"template": CONCEPTS["outpost"].definition}
    placebo = CONCEPTS["passedPawn"].definition

    def exam(cache: ExamCache | None, stop_after: int | None = None) -> pd.DataFrame:
        def progress(done: int, total: int) -> None:
            if stop_after is not None and done >= stop_after:
                raise Interrupt
        report = run_likelihood_exam(
            student, items, explanations, placebo, concept="outpost", config=config, cache=cache,
            progress=progress if stop_after else None,
        )
        return report.frame()

    clean = exam(None)
    assert student.asked == 9
    with ExamCache(tmp_path / "exams.sqlite") as cache:
        student.asked = 0
        with pytest.raises(Interrupt):
            exam(cache, stop_after=4)
        assert student.asked == 4  # kept as they came
    with ExamCache(tmp_path / "exams.sqlite") as cache:  # a new process would open the file again
        student.asked = 0
        resumed = exam(cache)
        assert student.asked == 5  # only what the interrupted run had not asked
        student.asked = 0
        again = exam(cache)
        assert student.asked == 0
    pd.testing.assert_frame_equal(resumed, clean)
    pd.testing.assert_frame_equal(again, clean)
    model.close()


def test_a_damaged_cached_answer_is_asked_again(tmp_path: Path, tiny_model_dir: Path) -> None:
    import sqlite3

    model = load_model(f"hf:{tiny_model_dir}")
    student = Counting(model)
    items = draw_exam(read_puzzles(ROOT / "puzzles" / "positional-exercises.csv").puzzles, "outpost", n=1, seed=0)
    config = ExamConfig(max_new_tokens=4, resamples=100)
    explanations = {"template": CONCEPTS["outpost"].definition}
    path = tmp_path / "exams.sqlite"
    with ExamCache(path) as cache:
        first = run_likelihood_exam(student, items, explanations, None, config=config, cache=cache).frame()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE likelihood_answers SET logprobs = 'not json'")
    student.asked = 0
    with ExamCache(path) as cache:
        second = run_likelihood_exam(student, items, explanations, None, config=config, cache=cache).frame()
    assert student.asked == 2
    pd.testing.assert_frame_equal(first, second)
    model.close()
