"""The examiner: puts puzzles to one student, with or without an explanation, and remembers what it said.

A question is a puzzle and an explanation (``None`` for none). The examiner asks it in one of two ways:

- a **free answer** (:meth:`Examiner.free_answers`): the student's greedy answer (up to
  :attr:`ExamConfig.max_new_tokens` tokens, cut at the first newline), graded by
  :func:`~chessteach.teaching.answers.grade`, and the log-probability of the solution move after the same prompt;
  the question lists every legal move, or with :attr:`ExamConfig.choices` the best move and the three distractors
  of a positional exercise (:func:`~chessteach.teaching.prompts.exam_choices`);
- a **likelihood question** (:meth:`Examiner.choice`): the student's log-probability of each candidate
  (:func:`~chessteach.teaching.prompts.candidate_moves`) after the question, its answer the most likely one
  (:class:`Choice`), and on request the free answer from the same prompt, computed once for both.

Every answer is remembered in memory and, with an :class:`~chessteach.teaching.exam_cache.ExamCache`, kept on
disk, so that a rerun or a resumed run asks the student nothing it has answered; grading is recomputed from what
the student said. The exam runners (:func:`~chessteach.teaching.exam.run_exam`,
:func:`~chessteach.teaching.likelihood.run_likelihood_exam`) and the teacher's rewards
(:class:`~chessteach.rl.rewards.StudentExaminer`) all ask through it.

>>> from chessteach.puzzles import Puzzle
>>> p = Puzzle.from_solution("6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1", ["a1a8"], id="backRank")
>>> len(candidate_moves(p)), Choice(("Ra8#", "Ra2"), (-1.0, -3.0), (True, False)).correct
(20, True)
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from chessteach.llm.base import GenerationConfig, LanguageModel, ModelRequestError, Prompt, score_and_generate
from chessteach.puzzles.puzzle import Puzzle
from chessteach.teaching.answers import grade, parse_answer
from chessteach.teaching.exam_cache import AnswerKey, ExamCache, explanation_hash, puzzle_key, student_key
from chessteach.teaching.prompts import (
    DEFAULT_PROMPT_FORMAT,
    ExamError,
    candidate_moves,
    exam_prompt,
    get_prompt_format,
    is_exercise,
    move_continuation,
    solution_continuation,
)
from chessteach.teaching.stats import BOOTSTRAP_RESAMPLES, CONFIDENCE

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)``."""

DEFAULT_MAX_NEW_TOKENS = 16
DEFAULT_CHUNK = 32
MEMO_LIMIT = 65536
"""Answers an :class:`Examiner` remembers in memory (those with an explanation are forgotten first)."""

Question = tuple[Puzzle, str | None]
"""A puzzle and the explanation shown before it (``None``: no explanation)."""


@dataclass(frozen=True)
class ExamConfig:
    """How an exam is put to the student (``choices``: multiple choice among the best move and the puzzle's
    three distractors, see :func:`~chessteach.teaching.prompts.exam_choices`) and how its scores are computed."""

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
class FreeAnswer:
    """The student's free answer to one question: what it said, the move it names (SAN; ``None`` when it gave no
    legal move), whether that is correct, the log-probability of the solution move (NaN where it was not scored),
    and whether the answer came from the cache."""

    completion: str
    move: str | None
    correct: bool
    logprob: float = float("nan")
    cached: bool = False


@dataclass
class ExamCounters:
    """How often the student was asked for free answers: calls (one per batch of questions) and prompts."""

    generate_calls: int = 0
    score_calls: int = 0
    prompts: int = 0


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


def likelihood_prompt(puzzle: Puzzle, explanation: str | None, config: ExamConfig) -> Prompt:
    """The question whose continuations are scored: the exam prompt, listing the candidates of an exercise
    (multiple choice) or every legal move of a puzzle."""
    return exam_prompt(
        puzzle, explanation, prompt_format=config.prompt_format, chat=config.chat, choices=is_exercise(puzzle)
    )


def grade_free_answer(
    puzzle: Puzzle, completion: str, logprob: float = float("nan"), *, cached: bool = False
) -> FreeAnswer:
    """What the student said about the puzzle, read (:func:`~chessteach.teaching.answers.parse_answer`) and
    graded (:func:`~chessteach.teaching.answers.grade`)."""
    board = puzzle.position()
    move = parse_answer(completion, board)
    return FreeAnswer(completion, None if move is None else board.san(move), grade(puzzle, move), logprob, cached)


class Examiner:
    """Asks one student exam questions (free answers and likelihood questions), each at most once: remembered
    in memory and kept in the optional ``cache``. With ``score_solutions`` off, free answers are not scored (their
    log-probability is NaN), which saves the scoring pass.

    >>> examiner = Examiner(student, ExamConfig(), cache=ExamCache(":memory:"))  # doctest: +SKIP
    >>> examiner.free_answers([(puzzle, None), (puzzle, "Look for checks.")])[0][0].correct  # doctest: +SKIP
    False
    >>> examiner.choice(puzzle, None).p_solution  # doctest: +SKIP
    0.031
    """

    def __init__(
        self,
        student: LanguageModel,
        config: ExamConfig | None = None,
        *,
        cache: ExamCache | None = None,
        score_solutions: bool = True,
    ) -> None:
        self.student = student
        self.config = config or ExamConfig()
        self.cache = cache
        self.score_solutions = score_solutions
        self.scored = 0
        """Likelihood questions put to the student (not those served from memory or the cache)."""
        self._answers: dict[AnswerKey, FreeAnswer] = {}
        self._choices: dict[tuple[str, str], tuple[Choice, str | None]] = {}

    # --- free answers ----------------------------------------------------------------------------------------

    def answer_key(self, puzzle: Puzzle, explanation: str | None = None) -> AnswerKey:
        """The cache's key of a free answer: the student, the explanation's hash, the puzzle, the prompt format."""
        return (
            student_key(self.student.spec),
            explanation_hash(explanation),
            puzzle_key(puzzle, choices=self.config.choices),
            self.config.format_key,
        )

    def _known(self, puzzle: Puzzle, key: AnswerKey) -> FreeAnswer | None:
        answer = self._answers.get(key)
        if answer is None and self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None and not (self.score_solutions and math.isnan(hit[1])):
                answer = grade_free_answer(puzzle, hit[0], hit[1], cached=True)
                self._remember(key, answer)
        return answer

    def _remember(self, key: AnswerKey, answer: FreeAnswer) -> None:
        if len(self._answers) >= MEMO_LIMIT:
            none = explanation_hash(None)
            self._answers = {k: a for k, a in self._answers.items() if k[1] == none}
        self._answers[key] = answer

    def free_answers(
        self,
        questions: Sequence[Question],
        *,
        chunk: int | None = None,
        progress: Progress | None = None,
        counters: ExamCounters | None = None,
    ) -> tuple[list[FreeAnswer | None], dict[str, str]]:
        """The student's free answer to each question, and the puzzles it could not answer (id to why).

        Questions answered before (in memory or in the cache) are not asked again; the others go to the student
        ``chunk`` at a time (default :attr:`ExamConfig.chunk`): one ``generate`` call and, with
        ``score_solutions``, one ``score`` call per chunk, each counted in ``counters``. A chunk the model refuses
        (:class:`~chessteach.llm.base.ModelRequestError`) is asked again one question at a time; a question that
        still fails is ``None`` in the answers and its puzzle is among the failed. ``progress(done, total)``
        counts questions.
        """
        keys = [self.answer_key(puzzle, explanation) for puzzle, explanation in questions]
        answers: list[FreeAnswer | None] = [self._known(q[0], key) for q, key in zip(questions, keys, strict=True)]
        pending = [i for i, answer in enumerate(answers) if answer is None]
        total = len(questions)
        done = total - len(pending)
        if done:
            logger.debug("%d of %d answers known already", done, total)
        if progress is not None:
            progress(done, total)
        prompts = {i: self.prompt(*questions[i]) for i in pending}  # a bad question fails before any is asked
        failed: dict[str, str] = {}
        size = chunk or self.config.chunk
        for start in range(0, len(pending), size):
            part = pending[start : start + size]
            asked = self._ask([questions[i] for i in part], [prompts[i] for i in part], failed, counters)
            rows = []
            for i, answer in zip(part, asked, strict=True):
                if answer is not None:
                    answers[i] = answer
                    self._remember(keys[i], answer)
                    rows.append((keys[i], answer.completion, answer.logprob))
            if self.cache is not None and rows:
                self.cache.put_many(rows)
            done += len(part)
            if progress is not None:
                progress(done, total)
        return answers, failed

    def prompt(self, puzzle: Puzzle, explanation: str | None = None) -> Prompt:
        """The free-answer prompt of a question in this examiner's form (raises
        :class:`~chessteach.teaching.prompts.ExamError` for a multiple-choice puzzle without usable distractors)."""
        config = self.config
        return exam_prompt(
            puzzle, explanation, prompt_format=config.prompt_format, chat=config.chat, choices=config.choices
        )

    def _ask(
        self,
        questions: Sequence[Question],
        prompts: Sequence[Prompt],
        failed: dict[str, str],
        counters: ExamCounters | None,
    ) -> list[FreeAnswer | None]:
        """One generate call (and one score call) for the questions; one by one again if the model refuses."""
        config = self.config
        try:
            completions = self.student.generate(prompts, config.generation())
            if counters is not None:
                counters.generate_calls += 1
                counters.prompts += len(prompts)
            if self.score_solutions:
                continuations = [solution_continuation(p, chat=config.chat) for p, _ in questions]
                logprobs = [float(x) for x in self.student.score(prompts, continuations)]
                if counters is not None:
                    counters.score_calls += 1
            else:
                logprobs = [float("nan")] * len(prompts)
        except ModelRequestError as exc:
            if len(questions) == 1:
                puzzle = questions[0][0]
                logger.warning("puzzle %s: the student could not answer: %s", puzzle.id, exc)
                failed[puzzle.id] = str(exc)
                return [None]
            return [
                answer
                for question, prompt in zip(questions, prompts, strict=True)
                for answer in self._ask([question], [prompt], failed, counters)
            ]
        return [
            grade_free_answer(p, completion, logprob)
            for (p, _), completion, logprob in zip(questions, completions, logprobs, strict=True)
        ]

    # --- likelihood questions --------------------------------------------------------------------------------

    def choice_key(self, puzzle: Puzzle, explanation: str | None = None) -> AnswerKey:
        """The cache's key of a likelihood question (its prompt format says ``likelihood`` and the free answer's
        token budget)."""
        form = f"{self.config.format_key}+likelihood+{self.config.max_new_tokens}"
        return (
            student_key(self.student.spec),
            explanation_hash(explanation),
            puzzle_key(puzzle, choices=is_exercise(puzzle)),
            form,
        )

    def _cached_choice(self, puzzle: Puzzle, explanation: str | None) -> tuple[Choice, str | None] | None:
        if self.cache is None:
            return None
        hit = self.cache.get_choice(self.choice_key(puzzle, explanation))
        if hit is None:
            return None
        candidates, logprobs, text = hit
        board = puzzle.position()
        moves = candidate_moves(puzzle)
        if [board.san(m) for m in moves] != candidates:  # another question after all: ask again
            return None
        return Choice(tuple(candidates), tuple(logprobs), tuple(grade(puzzle, m) for m in moves)), text

    def _ask_choice(self, puzzle: Puzzle, explanation: str | None, *, free_answer: bool) -> tuple[Choice, str | None]:
        board = puzzle.position()
        moves = candidate_moves(puzzle)
        if not moves:
            raise ExamError(f"puzzle {puzzle.id}: the solver has no legal move")
        sans = tuple(board.san(m) for m in moves)
        prompt = likelihood_prompt(puzzle, explanation, self.config)
        continuations = [move_continuation(s, chat=self.config.chat) for s in sans]
        text: str | None = None
        if free_answer:
            logprobs, text = score_and_generate(self.student, prompt, continuations, self.config.generation())
        else:
            logprobs = self.student.score_continuations(prompt, continuations)
        return Choice(sans, tuple(float(x) for x in logprobs), tuple(grade(puzzle, m) for m in moves)), text

    def choice(self, puzzle: Puzzle, explanation: str | None) -> Choice:
        """The likelihood question's candidates scored (asked once per explanation and puzzle)."""
        return self.choice_and_answer(puzzle, explanation, free_answer=False)[0]

    def choice_and_answer(
        self, puzzle: Puzzle, explanation: str | None, *, free_answer: bool = True
    ) -> tuple[Choice, str | None]:
        """The likelihood question's :class:`Choice` and, with ``free_answer``, the student's free answer to the
        same prompt (one computation of the prompt for both where the backend can:
        :func:`~chessteach.llm.base.score_and_generate`); each computed once per explanation and puzzle (a free
        answer asked later than its choice costs a second prompt). Raises :class:`ExamError` for a puzzle without
        usable candidates."""
        key = (explanation_hash(explanation), puzzle_key(puzzle, choices=is_exercise(puzzle)))
        hit = self._choices.get(key)
        if hit is None or (free_answer and hit[1] is None):
            hit = self._cached_choice(puzzle, explanation)
        if hit is None or (free_answer and hit[1] is None):
            hit = self._ask_choice(puzzle, explanation, free_answer=free_answer)
            self.scored += 1
            if self.cache is not None:
                choice, text = hit
                self.cache.put_choice(self.choice_key(puzzle, explanation), choice.candidates, choice.logprobs, text)
        if len(self._choices) >= MEMO_LIMIT:
            self._choices.clear()
        self._choices[key] = hit
        return hit


__all__ = [
    "DEFAULT_CHUNK",
    "DEFAULT_MAX_NEW_TOKENS",
    "Choice",
    "ExamConfig",
    "ExamCounters",
    "Examiner",
    "FreeAnswer",
    "Progress",
    "Question",
    "grade_free_answer",
    "likelihood_prompt",
]
