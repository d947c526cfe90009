"""Reward functions for GRPO on the teacher, in TRL's shape, and the registry that names them.

Every reward is ``def name(completions, **kwargs) -> list[float | None]``: ``completions`` are the teacher's
explanations (conversational: a list of messages each) and the dataset's columns arrive as keyword arguments
(``concept``, ``example_id``, ``exam_ids``; see :mod:`chessteach.rl.tasks`). A reward with settings comes from a
factory ``get_x_reward(...)``; :data:`REWARDS` maps the names a recipe may list to builders, and
:func:`get_reward_funcs` turns a list of names into functions (an unknown name raises ``ValueError`` listing the
valid ones).

- ``teachability``: the student's accuracy on the task's exam puzzles with the explanation before the question,
  minus its accuracy without it (the no-explanation baseline is computed once per puzzle and cached).
- ``solution_logprob``: the dense version: the mean change in the student's log-probability of the solution move.
- ``solution_probability``: the dense version on the likelihood measure (:mod:`chessteach.teaching.likelihood`):
  the change in the student's probability on the solution among the question's candidates, a loss weighted
  ``degradation_weight`` times a gain (ATLAS-style: degrading the student costs more than helping it earns).
- ``truthfulness``: the share of checkable claims about the example that are true, a false claim costing
  ``false_claim_cost`` (``None``, no signal, when nothing is checkable).
- ``format``: the share of the four sections present.
- ``length``: 0 up to a budget of completion tokens, then a soft penalty down to -1 over ``length_soft_window``.

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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from chessteach.llm.base import LanguageModel, ModelRequestError
from chessteach.puzzles.puzzle import Puzzle
from chessteach.teaching.exam_cache import ExamCache, explanation_hash
from chessteach.teaching.examiner import ExamConfig, ExamCounters, Examiner, FreeAnswer, Question
from chessteach.teaching.explain import parse_teacher_answer
from chessteach.teaching.factcheck import ExampleLine, check_text
from chessteach.teaching.sections import SECTIONS

logger = logging.getLogger(__name__)

RewardFunc = Callable[..., list[float | None]]
"""TRL's custom reward: ``func(completions=..., prompts=..., **columns) -> one reward (or None) per completion``."""


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


def _named(name: str, func: RewardFunc) -> RewardFunc:
    """Give a reward the registry's name (TRL logs ``rewards/<__name__>/mean``)."""
    func.__name__ = name
    func.__qualname__ = name
    return func


def _log(kwargs: Mapping[str, Any], name: str, value: float) -> None:
    log_metric = kwargs.get("log_metric")
    if callable(log_metric) and value == value:
        log_metric(name, float(value))


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


def get_teachability_reward(examiner: StudentExaminer) -> RewardFunc:
    """Student accuracy on the task's exam puzzles with the explanation minus without (leaked puzzles count 0)."""

    def teachability(
        completions: Sequence[Any], exam_ids: Sequence[Sequence[str]], **kwargs: Any
    ) -> list[float | None]:
        rewards, stats = _uplifts(examiner, completions, exam_ids, dense=False)
        for name, value in stats.items():
            _log(kwargs, f"exam/{name}", value)
        return list(rewards)

    return _named("teachability", teachability)


def get_solution_logprob_reward(examiner: StudentExaminer) -> RewardFunc:
    """Mean change in the student's log-probability of the solution move (leaked puzzles count 0)."""

    def solution_logprob(
        completions: Sequence[Any], exam_ids: Sequence[Sequence[str]], **kwargs: Any
    ) -> list[float | None]:
        rewards, _ = _uplifts(examiner, completions, exam_ids, dense=True)
        return list(rewards)

    return _named("solution_logprob", solution_logprob)


def asymmetric_gain(delta: float, degradation_weight: float) -> float:
    """A gain as it is, a loss ``degradation_weight`` times over.

    >>> asymmetric_gain(0.2, 2.0), asymmetric_gain(-0.2, 2.0)
    (0.2, -0.4)
    """
    return delta if delta >= 0 else degradation_weight * delta


def get_solution_probability_reward(
    examiner: StudentExaminer, *, degradation_weight: float = 2.0, scorer: Examiner | None = None
) -> RewardFunc:
    """Mean over the exam of the change in the student's probability on the solution (likelihood multiple
    choice) that the explanation brings, losses weighted ``degradation_weight`` times (leaked puzzles count 0).
    Logs ``exam/degraded``: the share of pairs whose probability on the solution fell, and ``exam/p_with`` and
    ``exam/p_without``, the mean probability on the solution with and without the explanation. The ``scorer``
    (the examiner's :attr:`StudentExaminer.likelihood` when not given) remembers every question it scored."""
    if degradation_weight < 0:
        raise ValueError(f"degradation_weight must not be negative, got {degradation_weight}")
    scorers: list[Examiner] = [scorer] if scorer is not None else []

    def solution_probability(
        completions: Sequence[Any], exam_ids: Sequence[Sequence[str]], **kwargs: Any
    ) -> list[float | None]:
        if not scorers:
            scorers.append(examiner.likelihood)
        scoring = scorers[0]
        rewards: list[float | None] = []
        degraded = pairs = 0
        p_with = p_without = 0.0
        for text, ids in zip(_texts(completions), exam_ids, strict=True):
            gains = []
            for pid in ids:
                puzzle = examiner.puzzle(pid)
                if names_solution(text, puzzle):
                    gains.append(0.0)
                    continue
                taught, alone = scoring.choice(puzzle, text or None).p_solution, scoring.choice(puzzle, None).p_solution
                delta = taught - alone
                p_with += taught
                p_without += alone
                pairs += 1
                degraded += delta < 0
                gains.append(asymmetric_gain(delta, degradation_weight))
            rewards.append(sum(gains) / len(gains) if gains else 0.0)
        _log(kwargs, "exam/degraded", degraded / pairs if pairs else float("nan"))
        _log(kwargs, "exam/p_with", p_with / pairs if pairs else float("nan"))
        _log(kwargs, "exam/p_without", p_without / pairs if pairs else float("nan"))
        return rewards

    return _named("solution_probability", solution_probability)


def get_truthfulness_reward(puzzles: Mapping[str, Puzzle], *, false_claim_cost: float = 1.0) -> RewardFunc:
    """(verified - cost x false) / checked claims about the example; ``None`` when nothing is checkable."""
    lines: dict[str, ExampleLine] = {}

    def truthfulness(completions: Sequence[Any], example_id: Sequence[str], **kwargs: Any) -> list[float | None]:
        rewards: list[float | None] = []
        false_total = 0
        for text, pid in zip(_texts(completions), example_id, strict=True):
            example = puzzles[pid]
            if pid not in lines:
                lines[pid] = ExampleLine.from_puzzle(example)
            check = check_text(text, example, line=lines[pid])
            checked = check.verified + check.false
            false_total += check.false
            rewards.append((check.verified - false_claim_cost * check.false) / checked if checked else None)
        _log(kwargs, "truthfulness/false_claims", false_total / max(1, len(rewards)))
        return rewards

    return _named("truthfulness", truthfulness)


def format_reward(completions: Sequence[Any], **kwargs: Any) -> list[float | None]:
    """The share of the four sections (What it is, How to spot it, Worked example, Common mistakes) present."""
    rewards: list[float | None] = []
    for completion in completions:
        text = completion if isinstance(completion, str) else "".join(str(m.get("content") or "") for m in completion)
        _, _, missing = parse_teacher_answer(text)
        rewards.append((len(SECTIONS) - len(missing)) / len(SECTIONS))
    return rewards


def _sections_present() -> RewardFunc:
    def sections_present(completions: Sequence[Any], **kwargs: Any) -> list[float | None]:
        return format_reward(completions, **kwargs)

    return sections_present


def get_length_reward(budget: int, soft_window: int) -> RewardFunc:
    """0 up to ``budget`` completion tokens, then down linearly to -1 over the next ``soft_window`` tokens."""
    if budget < 1 or soft_window < 1:
        raise ValueError(f"length budget and soft window must be at least 1 (got {budget}, {soft_window})")

    def length(
        completions: Sequence[Any], completion_ids: Sequence[Sequence[int]] | None = None, **kwargs: Any
    ) -> list[float | None]:
        if completion_ids is None:
            sizes = [len(t.split()) for t in _texts(completions)]
        else:
            sizes = [len(ids) for ids in completion_ids]
        return [-min(1.0, max(0, n - budget) / soft_window) for n in sizes]

    return _named("length", length)


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
                raise ValueError("this reward needs a student, but none was configured")
            self._examiner = self.examiner_factory()
        return self._examiner


RewardBuilder = Callable[[RewardContext], RewardFunc]

REWARDS: dict[str, RewardBuilder] = {
    "teachability": lambda ctx: get_teachability_reward(ctx.examiner),
    "solution_logprob": lambda ctx: get_solution_logprob_reward(ctx.examiner),
    "solution_probability": lambda ctx: get_solution_probability_reward(
        ctx.examiner, degradation_weight=ctx.settings.degradation_weight
    ),
    "truthfulness": lambda ctx: get_truthfulness_reward(ctx.puzzles, false_claim_cost=ctx.settings.false_claim_cost),
    "format": lambda ctx: _named("format", _sections_present()),
    "length": lambda ctx: get_length_reward(ctx.settings.length_budget, ctx.settings.length_soft_window),
}
"""Reward names a recipe may list, and how each is built."""

STUDENT_REWARDS = frozenset({"teachability", "solution_logprob", "solution_probability"})
"""Rewards that ask the student."""


def check_reward_names(names: Sequence[str]) -> None:
    """Raise ``ValueError`` naming the valid rewards for an unknown or repeated name, or an empty list."""
    if not names:
        raise ValueError(f"no rewards given; valid rewards: {', '.join(REWARDS)}")
    unknown = [n for n in names if n not in REWARDS]
    if unknown:
        raise ValueError(f"unknown reward(s) {', '.join(map(repr, unknown))}; valid rewards: {', '.join(REWARDS)}")
    repeated = sorted({n for n in names if list(names).count(n) > 1})
    if repeated:
        raise ValueError(f"reward(s) listed twice: {', '.join(repeated)}")


def get_reward_funcs(
    names: Sequence[str], context: RewardContext, weights: Sequence[float] | None = None
) -> list[RewardFunc]:
    """The reward functions the names ask for, in order; ``weights`` (when given) must match them one to one."""
    check_reward_names(names)
    if weights is not None and len(weights) != len(names):
        raise ValueError(f"{len(weights)} reward weight(s) for {len(names)} reward(s) ({', '.join(names)})")
    return [REWARDS[name](context) for name in names]


__all__ = [
    "REWARDS",
    "STUDENT_REWARDS",
    "RewardContext",
    "RewardFunc",
    "RewardSettings",
    "StudentExaminer",
    "asymmetric_gain",
    "check_reward_names",
    "completion_text",
    "format_reward",
    "get_length_reward",
    "get_reward_funcs",
    "get_solution_logprob_reward",
    "get_solution_probability_reward",
    "get_teachability_reward",
    "get_truthfulness_reward",
    "names_solution",
    "solution_names",
]
