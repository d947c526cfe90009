"""Reward functions for GRPO on the teacher, in TRL's shape, and the registry that names them.

Every reward is a small callable object (a :class:`Reward`: picklable, as TRL's own rewards are) called as
``reward(completions, **kwargs) -> list[float | None]``: ``completions`` are the teacher's explanations
(conversational: a list of messages each), the dataset's columns arrive as keyword arguments (``concept``,
``example_id``, ``exam_ids``; see :mod:`chessteach.rl.tasks`), and TRL adds ``completion_ids``, ``trainer_state``
and ``log_metric`` (which the rewards log their batch statistics through). TRL names a reward's log columns
(``rewards/<name>/mean``) after its ``__name__``, the registry's name. :data:`REWARDS` maps the names a recipe may
list to the reward classes, and :func:`get_reward_funcs` turns a list of names into rewards (an unknown name
raises ``ValueError`` listing the valid ones).

- ``teachability``: the student's accuracy on the task's exam puzzles with the explanation before the question,
  minus its accuracy without it (the no-explanation baseline is computed once per puzzle and cached).
- ``solution_logprob``: the dense version: the mean change in the student's log-probability of the solution move.
- ``solution_probability``: the dense version on the likelihood measure (:mod:`chessteach.teaching.likelihood`):
  the change in the student's probability on the solution among the question's candidates, a loss weighted
  ``degradation_weight`` times a gain (ATLAS-style: degrading the student costs more than helping it earns).
- ``truthfulness``: the share of checkable claims about the example that are true, a false claim costing
  ``false_claim_cost`` (``None``, no signal, when nothing is checkable).
- ``format``: the share of the four sections present.
- ``length``: 0 up to a budget of completion tokens, then a soft penalty down to -1 over ``length_soft_window``
  (TRL's soft overlong punishment).

The **leakage guard**: an explanation that names an exam puzzle's solution move (its SAN with or without the
check mark, or its UCI) earns nothing for that puzzle: it counts 0 in ``teachability`` and
``solution_logprob``, whatever the student answers (and the student is not asked).

The student runs in this process (``hf:PATH``) or behind an OpenAI-compatible server (``openai:URL#MODEL``, e.g.
``vllm serve`` on its own GPU); :class:`StudentExaminer` asks it about every (explanation, exam puzzle) pair of
a step at once: one ``generate`` call and one ``score`` call per step, shared by every reward that needs them.
"""

from __future__ import annotations

import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

from trl.rewards.other_rewards import get_soft_overlong_punishment

from chessteach.errors import RecipeError
from chessteach.llm.base import LanguageModel, ModelRequestError
from chessteach.puzzles.puzzle import Puzzle
from chessteach.teaching.exam_cache import ExamCache, explanation_hash
from chessteach.teaching.examiner import ExamConfig, ExamCounters, Examiner, FreeAnswer, Question
from chessteach.teaching.explain import parse_teacher_answer
from chessteach.teaching.factcheck import ExampleLine, check_text
from chessteach.teaching.sections import SECTIONS

logger = logging.getLogger(__name__)



# --- explanations --------------------------------------------------------------------------------------------


def completion_text(completion: str | Sequence[Mapping[str, Any]]) -> str:
    """The explanation a completion holds: its text (the assistant's content, conversational or plain), with
    any ``<think>...</think>`` block removed.

    >>> completion_text([{"role": "assistant", "content": "<think>hm</think>## What it is\\nA fork."}])
    '## What it is\\nA fork.'
    """
    if isinstance(completion, str):
        text = completion
    else:
        text = "".join(str(m.get("content") or "") for m in completion if m.get("role", "assistant") == "assistant")
    return parse_teacher_answer(text)[0]


def solution_names(puzzle: Puzzle) -> tuple[str, ...]:
    """How an explanation could name the puzzle's first solution move: SAN (with and without ``+``/``#``), UCI.

    >>> p = Puzzle.from_solution("6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1", ["a1a8"])
    >>> solution_names(p)
    ('Ra8#', 'Ra8', 'a1a8')
    """
    board = puzzle.position()
    move = puzzle.solver_moves[0]
    san = board.san(move)
    names = [san, san.rstrip("+#"), move.uci()]
    return tuple(dict.fromkeys(names))


def names_solution(text: str, puzzle: Puzzle) -> bool:
    """Whether the text names the puzzle's first solution move (the leakage guard), as a whole word.

    A pawn push is named by its square alone (``e4``), so any mention of that square counts: the guard errs on
    the side of no credit.

    >>> p = Puzzle.from_solution("6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1", ["a1a8"])
    >>> names_solution("Play Ra8 and win.", p), names_solution("The rook on a1 mates.", p)
    (True, False)
    """
    return any(re.search(rf"(?<![A-Za-z0-9]){re.escape(name)}(?![A-Za-z0-9])", text) for name in solution_names(puzzle))


# --- the student ---------------------------------------------------------------------------------------------


class StudentExaminer(Examiner):
    """The rewards' examiner: the one :class:`~chessteach.teaching.examiner.Examiner` (a thin subclass of it),
    over the tasks' puzzles by id, batched across a whole step.

    ``baseline(ids)`` answers without an explanation (each puzzle once, kept in memory and in the optional
    :class:`~chessteach.teaching.exam_cache.ExamCache`); ``examine(texts, exam_ids)`` answers every (explanation,
    puzzle) pair not yet seen in one ``generate`` call (and, with ``score_solutions``, one ``score`` call), counted
    in :attr:`counters`, and returns ``None`` for a pair whose explanation names the solution (the leakage guard).
    Questions take the config's form: free answer, or multiple choice with ``config.choices`` (positional
    exercises). A question the student still refuses when asked alone raises
    :class:`~chessteach.llm.base.ModelRequestError`.
    """

    def __init__(
        self,
        student: LanguageModel,
        puzzles: Mapping[str, Puzzle],
        *,
        config: ExamConfig | None = None,
        cache: ExamCache | None = None,
        score_solutions: bool = True,
    ) -> None:
        super().__init__(student, config, cache=cache, score_solutions=score_solutions)
        self.puzzles = dict(puzzles)
        self.counters = ExamCounters()
        """The calls of :meth:`examine` (the baseline is asked apart, once per puzzle)."""

    @property
    def likelihood(self) -> Examiner:
        """The examiner as the likelihood scorer (shared by the ``solution_probability`` reward and the
        evaluation, so a question is scored once)."""
        return self

    def puzzle(self, puzzle_id: str) -> Puzzle:
        try:
            return self.puzzles[puzzle_id]
        except KeyError:
            raise KeyError(f"exam puzzle {puzzle_id!r} is not among the {len(self.puzzles)} puzzles given") from None

    def _answer_all(self, questions: Sequence[Question], counters: ExamCounters | None) -> list[FreeAnswer]:
        """The free answers to all the questions, in one batch."""
        answers, failed = self.free_answers(questions, chunk=max(1, len(questions)), counters=counters)
        if failed:
            raise ModelRequestError(
                "the student could not answer: " + "; ".join(f"puzzle {pid}: {why}" for pid, why in failed.items())
            )
        return [answer for answer in answers if answer is not None]

    def baseline(self, puzzle_ids: Sequence[str]) -> dict[str, FreeAnswer]:
        """The student's answers without an explanation (computed once per puzzle, then cached)."""
        ids = list(dict.fromkeys(puzzle_ids))
        answers = dict(zip(ids, self._answer_all([(self.puzzle(pid), None) for pid in ids], None), strict=True))
        return {pid: answers[pid] for pid in puzzle_ids}

    def examine(self, texts: Sequence[str], exam_ids: Sequence[Sequence[str]]) -> list[list[FreeAnswer | None]]:
        """Each explanation's answers on its exam puzzles (``None`` where the explanation names the solution)."""
        keys: list[list[tuple[str, str] | None]] = []
        questions: dict[tuple[str, str], Question] = {}
        for text, ids in zip(texts, exam_ids, strict=True):
            digest = explanation_hash(text)
            row: list[tuple[str, str] | None] = []
            for pid in ids:
                puzzle = self.puzzle(pid)
                if names_solution(text, puzzle):
                    row.append(None)
                    continue
                key = (digest, pid)
                row.append(key)
                questions.setdefault(key, (puzzle, text or None))
            keys.append(row)
        answers = dict(zip(questions, self._answer_all(list(questions.values()), self.counters), strict=True))
        return [[None if key is None else answers[key] for key in row] for row in keys]


# --- rewards -------------------------------------------------------------------------------------------------


def _texts(completions: Sequence[Any]) -> list[str]:
    return [completion_text(c) for c in completions]


def log_batch_metric(kwargs: Mapping[str, Any], name: str, value: float) -> None:
    """Log a batch metric through TRL's ``log_metric`` reward keyword (absent when a reward is called directly;
    a NaN, no value this batch, is not logged)."""
    log_metric = kwargs.get("log_metric")
    if callable(log_metric) and value == value:
        log_metric(name, float(value))


class Reward(ABC):
    """A reward in TRL's shape: ``reward(completions, **columns) -> one reward (or None) per completion``.

    A small callable object rather than a closure, so that it pickles (as TRL's own rewards do); TRL names its
    log columns (``rewards/<name>/mean``) after ``__name__``, which is the registry's :attr:`name`.
    """

    name: ClassVar[str]

    @property
    def __name__(self) -> str:
        return self.name

    @classmethod
    @abstractmethod
    def from_context(cls, context: RewardContext) -> Self:
        """The reward as a recipe configures it."""

    __call__: Callable[..., list[float | None]]
    """``reward(completions, *columns it reads*, **kwargs)``: one reward (or ``None``, no signal) per completion."""


def _uplifts(
    examiner: StudentExaminer, completions: Sequence[Any], exam_ids: Sequence[Sequence[str]], *, dense: bool
) -> tuple[list[float], dict[str, float]]:
    """Per completion, the mean over its exam of (with - without), leaked puzzles counting 0; and batch stats."""
    texts = _texts(completions)
    base = examiner.baseline([pid for ids in exam_ids for pid in ids])
    results = examiner.examine(texts, exam_ids)
    rewards: list[float] = []
    with_total = without_total = leaked = asked = 0.0
    for ids, answers in zip(exam_ids, results, strict=True):
        gains = []
        for pid, answer in zip(ids, answers, strict=True):
            without = base[pid]
            asked += 1
            without_total += without.correct
            if answer is None:
                leaked += 1
                gains.append(0.0)
                continue
            with_total += answer.correct
            if dense:
                delta = answer.logprob - without.logprob
                gains.append(delta if delta == delta else 0.0)
            else:
                gains.append(float(answer.correct) - float(without.correct))
        rewards.append(sum(gains) / len(gains) if gains else 0.0)
    stats = {
        "accuracy_with": with_total / asked if asked else float("nan"),
        "accuracy_without": without_total / asked if asked else float("nan"),
        "leaked": leaked / asked if asked else float("nan"),
    }
    return rewards, stats


class StudentReward(Reward):
    """A reward that asks the student about the task's exam puzzles (through the step's shared examiner)."""

    def __init__(self, examiner: StudentExaminer) -> None:
        self.examiner = examiner

    @classmethod
    def from_context(cls, context: RewardContext) -> Self:
        return cls(context.examiner)


class TeachabilityReward(StudentReward):
    """Student accuracy on the task's exam puzzles with the explanation minus without (leaked puzzles count 0).
    Logs ``exam/accuracy_with``, ``exam/accuracy_without`` and ``exam/leaked``."""

    name = "teachability"

    def __call__(
        self, completions: Sequence[Any], exam_ids: Sequence[Sequence[str]], **kwargs: Any
    ) -> list[float | None]:
        rewards, stats = _uplifts(self.examiner, completions, exam_ids, dense=False)
        for name, value in stats.items():
            log_batch_metric(kwargs, f"exam/{name}", value)
        return list(rewards)


class SolutionLogprobReward(StudentReward):
    """Mean change in the student's log-probability of the solution move (leaked puzzles count 0)."""

    name = "solution_logprob"

    def __call__(
        self, completions: Sequence[Any], exam_ids: Sequence[Sequence[str]], **kwargs: Any
    ) -> list[float | None]:
        rewards, _ = _uplifts(self.examiner, completions, exam_ids, dense=True)
        return list(rewards)


def asymmetric_gain(delta: float, degradation_weight: float) -> float:
    """A gain as it is, a loss ``degradation_weight`` times over.

    >>> asymmetric_gain(0.2, 2.0), asymmetric_gain(-0.2, 2.0)
    (0.2, -0.4)
    """
    return delta if delta >= 0 else degradation_weight * delta


class SolutionProbabilityReward(StudentReward):
    """Mean over the exam of the change in the student's probability on the solution (likelihood multiple
    choice) that the explanation brings, losses weighted ``degradation_weight`` times (leaked puzzles count 0).
    Logs ``exam/degraded``: the share of pairs whose probability on the solution fell, and ``exam/p_with`` and
    ``exam/p_without``, the mean probability on the solution with and without the explanation. The ``scorer``
    (the examiner's :attr:`StudentExaminer.likelihood` when not given, made on the first call) remembers every
    question it scored."""

    name = "solution_probability"

    def __init__(
        self, examiner: StudentExaminer, *, degradation_weight: float = 2.0, scorer: Examiner | None = None
    ) -> None:
        if degradation_weight < 0:
            raise ValueError(f"degradation_weight must not be negative, got {degradation_weight}")
        super().__init__(examiner)
        self.degradation_weight = degradation_weight
        self.scorer = scorer

    @classmethod
    def from_context(cls, context: RewardContext) -> Self:
        return cls(context.examiner, degradation_weight=context.settings.degradation_weight)

    def __call__(
        self, completions: Sequence[Any], exam_ids: Sequence[Sequence[str]], **kwargs: Any
    ) -> list[float | None]:
        if self.scorer is None:
            self.scorer = self.examiner.likelihood
        scoring = self.scorer
        rewards: list[float | None] = []
        degraded = pairs = 0
        p_with = p_without = 0.0
        for text, ids in zip(_texts(completions), exam_ids, strict=True):
            gains = []
            for pid in ids:
                puzzle = self.examiner.puzzle(pid)
                if names_solution(text, puzzle):
                    gains.append(0.0)
                    continue
                taught, alone = scoring.choice(puzzle, text or None).p_solution, scoring.choice(puzzle, None).p_solution
                delta = taught - alone
                p_with += taught
                p_without += alone
                pairs += 1
                degraded += delta < 0
                gains.append(asymmetric_gain(delta, self.degradation_weight))
            rewards.append(sum(gains) / len(gains) if gains else 0.0)
        log_batch_metric(kwargs, "exam/degraded", degraded / pairs if pairs else float("nan"))
        log_batch_metric(kwargs, "exam/p_with", p_with / pairs if pairs else float("nan"))
        log_batch_metric(kwargs, "exam/p_without", p_without / pairs if pairs else float("nan"))
        return rewards


class TruthfulnessReward(Reward):
    """(verified - cost x false) / checked claims about the example; ``None`` when nothing is checkable.
    Logs ``truthfulness/false_claims``, the false claims per completion."""

    name = "truthfulness"

    def __init__(self, puzzles: Mapping[str, Puzzle], *, false_claim_cost: float = 1.0) -> None:
        self.puzzles = puzzles
        self.false_claim_cost = false_claim_cost
        self.lines: dict[str, ExampleLine] = {}

    @classmethod
    def from_context(cls, context: RewardContext) -> Self:
        return cls(context.puzzles, false_claim_cost=context.settings.false_claim_cost)

    def __call__(self, completions: Sequence[Any], example_id: Sequence[str], **kwargs: Any) -> list[float | None]:
        rewards: list[float | None] = []
        false_total = 0
        for text, pid in zip(_texts(completions), example_id, strict=True):
            example = self.puzzles[pid]
            if pid not in self.lines:
                self.lines[pid] = ExampleLine.from_puzzle(example)
            check = check_text(text, example, line=self.lines[pid])
            checked = check.verified + check.false
            false_total += check.false
            rewards.append((check.verified - self.false_claim_cost * check.false) / checked if checked else None)
        log_batch_metric(kwargs, "truthfulness/false_claims", false_total / max(1, len(rewards)))
        return rewards


class FormatReward(Reward):
    """The share of the four sections (What it is, How to spot it, Worked example, Common mistakes) present.

    >>> FormatReward()(["## What it is\\nA fork.", [{"role": "assistant", "content": "none"}]])
    [0.25, 0.0]
    """

    name = "format"

    @classmethod
    def from_context(cls, context: RewardContext) -> Self:
        return cls()

    def __call__(self, completions: Sequence[Any], **kwargs: Any) -> list[float | None]:
        rewards: list[float | None] = []
        for completion in completions:
            text = (
                completion if isinstance(completion, str) else "".join(str(m.get("content") or "") for m in completion)
            )
            _, _, missing = parse_teacher_answer(text)
            rewards.append((len(SECTIONS) - len(missing)) / len(SECTIONS))
        return rewards


class LengthReward(Reward):
    """0 up to ``budget`` completion tokens, then down linearly to -1 over the next ``soft_window`` tokens: TRL's
    soft overlong punishment (DAPO) with a maximum of ``budget + soft_window`` and a cache of ``soft_window``,
    on the ``completion_ids`` TRL passes.

    >>> LengthReward(10, 5)(["a", "b"], completion_ids=[[0] * 10, [0] * 12])
    [0.0, -0.4]
    """

    name = "length"

    def __init__(self, budget: int, soft_window: int) -> None:
        if budget < 1 or soft_window < 1:
            raise ValueError(f"length budget and soft window must be at least 1 (got {budget}, {soft_window})")
        self.budget = budget
        self.soft_window = soft_window
        self.punishment = get_soft_overlong_punishment(budget + soft_window, soft_window)

    @classmethod
    def from_context(cls, context: RewardContext) -> Self:
        return cls(context.settings.length_budget, context.settings.length_soft_window)

    def __call__(
        self, completions: Sequence[Any], completion_ids: Sequence[Sequence[int]], **kwargs: Any
    ) -> list[float | None]:
        return list(self.punishment(completion_ids))


# --- the registry --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RewardSettings:
    """The rewards' own settings (from the recipe)."""

    false_claim_cost: float = 1.0
    length_budget: int = 512
    length_soft_window: int = 128
    degradation_weight: float = 2.0


@dataclass
class RewardContext:
    """What the reward builders need: the puzzles, the settings, and the student's examiner (made on demand)."""

    puzzles: Mapping[str, Puzzle]
    settings: RewardSettings = field(default_factory=RewardSettings)
    examiner_factory: Callable[[], StudentExaminer] | None = None
    _examiner: StudentExaminer | None = None

    @property
    def has_examiner(self) -> bool:
        """Whether the examiner was built (a reward or the evaluation asked for it)."""
        return self._examiner is not None

    @property
    def examiner(self) -> StudentExaminer:
        if self._examiner is None:
            if self.examiner_factory is None:
                raise RecipeError("this reward needs a student, but none was configured")
            self._examiner = self.examiner_factory()
        return self._examiner


REWARD_TYPES: tuple[type[Reward], ...] = (
    TeachabilityReward,
    SolutionLogprobReward,
    SolutionProbabilityReward,
    TruthfulnessReward,
    FormatReward,
    LengthReward,
)

REWARDS: dict[str, type[Reward]] = {reward.name: reward for reward in REWARD_TYPES}
"""Reward names a recipe may list, and the reward each names (built with ``from_context``)."""


def check_reward_names(names: Sequence[str]) -> None:
    """Raise ``ValueError`` naming the valid rewards for an unknown or repeated name, or an empty list."""
    if not names:
        raise RecipeError(f"no rewards given; valid rewards: {', '.join(REWARDS)}")
    unknown = [n for n in names if n not in REWARDS]
    if unknown:
        raise RecipeError(f"unknown reward(s) {', '.join(map(repr, unknown))}; valid rewards: {', '.join(REWARDS)}")
    repeated = sorted({n for n in names if list(names).count(n) > 1})
    if repeated:
        raise RecipeError(f"reward(s) listed twice: {', '.join(repeated)}")


def get_reward_funcs(
    names: Sequence[str], context: RewardContext, weights: Sequence[float] | None = None
) -> list[Reward]:
    """The rewards the names ask for, in order; ``weights`` (when given) must match them one to one."""
    check_reward_names(names)
    if weights is not None and len(weights) != len(names):
        raise RecipeError(f"{len(weights)} reward weight(s) for {len(names)} reward(s) ({', '.join(names)})")
    return [REWARDS[name].from_context(context) for name in names]


__all__ = [
    "REWARDS",
    "REWARD_TYPES",
    "FormatReward",
    "LengthReward",
    "Reward",
    "RewardContext",
    "RewardSettings",
    "SolutionLogprobReward",
    "SolutionProbabilityReward",
    "StudentExaminer",
    "StudentReward",
    "TeachabilityReward",
    "TruthfulnessReward",
    "asymmetric_gain",
    "check_reward_names",
    "completion_text",
    "get_reward_funcs",
    "log_batch_metric",
    "names_solution",
    "solution_names",
]
