"""The one examiner: its cache keys are the bytes older caches hold, the exam runner and the rewards' examiner
share its answers through the cache, and a question the student refuses is left out (the runner) or raised (the
rewards). The student here is a scripted stand-in with the LanguageModel interface, so these run in a second."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import pytest

from chessteach.llm import GenerationConfig, Prompt
from chessteach.llm.base import ModelRequestError
from chessteach.puzzles import Puzzle
from chessteach.teaching.exam import run_exam
from chessteach.teaching.exam_cache import ExamCache
from chessteach.teaching.examiner import ExamConfig, Examiner

BACK_RANK = "6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1"
REFUSED = "6k1/5ppp/8/8/8/8/5PPP/1R4K1 w - - 0 1"


class ScriptedStudent:
    """Answers the mate when the prompt speaks of the back rank, a king move otherwise; refuses any batch with
    the :data:`REFUSED` position; counts the prompts it is asked."""

    spec = "scripted:m?batch_size=4&dtype=bfloat16"

    def __init__(self) -> None:
        self.generated = 0
        self.scored = 0

    @staticmethod
    def _text(prompt: Prompt) -> str:
        return prompt if isinstance(prompt, str) else "\n".join(m["content"] for m in prompt)

    def generate(self, prompts: Sequence[Prompt], config: GenerationConfig | None = None) -> list[str]:
        texts = [self._text(p) for p in prompts]
        if any(REFUSED in t for t in texts):
            raise ModelRequestError("context too long")
        self.generated += len(prompts)
        return [" Ra8#" if "back rank" in t else " Kf1" for t in texts]

    def score(self, prompts: Sequence[Prompt], continuations: Sequence[str]) -> list[float]:
        self.scored += len(prompts)
        return [-0.5 if "back rank" in self._text(p) else -3.0 for p in prompts]

    def score_continuations(self, prompt: Prompt, continuations: Sequence[str]) -> list[float]:
        return [-float(i) for i in range(len(continuations))]

    def close(self) -> None:
        pass


@pytest.fixture
def back_rank() -> Puzzle:
    return Puzzle.from_solution(BACK_RANK, ["a1a8"], id="backRank")


def test_cache_keys_are_the_bytes_of_older_caches(back_rank: Puzzle) -> None:
    """The keys the exam cache was written with before the examiner existed (computed by the old code)."""
    examiner = Examiner(ScriptedStudent(), ExamConfig(chat=True))
    assert examiner.answer_key(back_rank, "Look at the back rank.") == (
        "scripted:m?dtype=bfloat16",
        "1371c26bdbce6986",
        "backRank:3247f52f",
        "fen-san+chat",
    )
    assert examiner.choice_key(back_rank) == (
        "scripted:m?dtype=bfloat16",
        "none",
        "backRank:3247f52f",
        "fen-san+chat+likelihood+16",
    )
    back_rank.extra["Distractors"] = "a1a2 g1f1 h2h3"
    assert Examiner(ScriptedStudent(), ExamConfig(choices=True)).answer_key(back_rank)[2] == "backRank:4bb1f36f"


def test_the_runner_and_the_rewards_share_answers_through_the_cache(back_rank: Puzzle, tmp_path: Path) -> None:
    pytest.importorskip("trl")
    from chessteach.rl.rewards import StudentExaminer

    text = "Look at the back rank."
    with ExamCache(tmp_path / "exams.sqlite") as cache:
        student = ScriptedStudent()
        report = run_exam(student, [back_rank], text, cache=cache)
        assert [(r.with_explanation, r.answer, r.correct) for r in report.results] == [
            (False, "Kf1", False),
            (True, "Ra8#", True),
        ]
        again = ScriptedStudent()
        examiner = StudentExaminer(again, {back_rank.id: back_rank}, cache=cache)
        base = examiner.baseline([back_rank.id])[back_rank.id]
        [[taught]] = examiner.examine([text], [[back_rank.id]])
    assert (again.generated, again.scored) == (0, 0)  # both answers came from the runner's cache
    assert (base.correct, base.logprob, base.cached) == (False, -3.0, True)
    assert taught is not None and taught.correct and taught.logprob == -0.5
    assert examiner.counters.generate_calls == 0


def test_a_refused_question_is_left_out_by_the_runner_and_raised_for_the_rewards(back_rank: Puzzle) -> None:
    pytest.importorskip("trl")
    from chessteach.rl.rewards import StudentExaminer

    refused = Puzzle.from_solution(REFUSED, ["b1b8"], id="refused")
    examiner = Examiner(ScriptedStudent(), score_solutions=False)
    answers, failed = examiner.free_answers([(back_rank, None), (refused, None)])
    assert answers[0] is not None and math.isnan(answers[0].logprob) and answers[1] is None
    assert list(failed) == ["refused"] and "context too long" in failed["refused"]
    report = run_exam(ScriptedStudent(), [back_rank, refused], "Look at the back rank.")
    assert [p.id for p in report.puzzles] == ["backRank"] and report.errors == ["refused: context too long"]
    rewards_examiner = StudentExaminer(ScriptedStudent(), {p.id: p for p in (back_rank, refused)})
    with pytest.raises(ModelRequestError, match="puzzle refused: context too long"):
        rewards_examiner.baseline(["backRank", "refused"])
