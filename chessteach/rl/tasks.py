"""Teaching tasks: what the teacher is asked to explain, and the exam its explanation is scored on.

A task is a concept (a Lichess theme; for positional exercises a positional concept id), an example puzzle of it,
the example's checked facts, the teacher's chat prompt (:func:`~chessteach.teaching.explain.teacher_prompt`) and
``k`` exam puzzles of the same concept, drawn apart from the example (:func:`~chessteach.teaching.exam_puzzles.draw_exam`:
never the example, never a puzzle that shares a position with it).

Train and eval tasks are built from disjoint halves of the puzzle set, split **by puzzle** before any task is
made: every puzzle lands on one side by a seeded hash of its id, so no eval puzzle is ever an example or an exam
puzzle of a training task (and an eval puzzle that shares a position with a training puzzle is dropped from
eval).

>>> from chessteach.puzzles import bundled_puzzles, read_puzzles
>>> split = build_tasks(read_puzzles(bundled_puzzles()).puzzles, concepts=["mateIn1"], exam_size=2)
>>> split.train[0].concept, len(split.train[0].exam_ids)
('mateIn1', 2)
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from chessteach.concepts.catalog import CONCEPTS, POSITIONAL, get_concept
from chessteach.concepts.facts import Fact
from chessteach.errors import ChessteachError
from chessteach.llm.base import Message
from chessteach.puzzles.puzzle import Puzzle
from chessteach.teaching.exam_puzzles import draw_exam, puzzle_has_theme, puzzle_positions
from chessteach.teaching.explain import COMPACT_PROMPTS, NoExampleError, example_facts, pick_example, teacher_prompt
from chessteach.teaching.prompts import ExamError, is_exercise

logger = logging.getLogger(__name__)

TRAIN = "train"
EVAL = "eval"

FULL, COMPACT = "full", "compact"
PROMPT_STYLES: tuple[str, ...] = (FULL, COMPACT)
"""How the teacher is prompted: ``full`` (:func:`~chessteach.teaching.explain.teacher_prompt` as it is) or
``compact`` (:func:`task_prompt`: about 300 tokens instead of 700, for small teachers on the CPU)."""

COMPACT_FACTS = 2
"""Checked facts a ``compact`` teacher prompt keeps (the first ones)."""


def task_prompt(concept_id: str, example: Puzzle, facts: Sequence[Fact], prompt_style: str = FULL) -> list[Message]:
    """The teacher's prompt of a task: :func:`~chessteach.teaching.explain.teacher_prompt` as it is (``full``), or
    rendered from its compact templates (:data:`~chessteach.teaching.explain.COMPACT_PROMPTS`) with the first
    :data:`COMPACT_FACTS` facts (``compact``).

    >>> p = Puzzle.from_solution("6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1", ["a1a8"])
    >>> print(task_prompt("backRankMate", p, [], COMPACT)[1]["content"].split("\\n\\n")[1])
    Example position (White to move), FEN: 6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1
    Solution line: 1. Ra8#
    Checked facts about the line: none beyond the solution itself.
    """
    if prompt_style == COMPACT:
        return teacher_prompt(concept_id, example, list(facts)[:COMPACT_FACTS], templates=COMPACT_PROMPTS)
    return teacher_prompt(concept_id, example, facts)


DEFAULT_CONCEPTS: tuple[str, ...] = (
    "mateIn1",
    "mateIn2",
    "backRankMate",
    "fork",
    "hangingPiece",
    "pin",
    "skewer",
    "discoveredAttack",
    "promotion",
    "advancedPawn",
    "sacrifice",
    "deflection",
)
"""Concepts with enough puzzles in the bundled sample set to make tasks on both sides of the split."""


def default_concepts(puzzles: Iterable[Puzzle]) -> tuple[str, ...]:
    """The concepts to teach when none are named: :data:`DEFAULT_CONCEPTS` for puzzles; for a set of positional
    exercises (every puzzle came with a ``Distractors`` column) the positional concepts its exercises list, in
    catalog order.

    >>> default_concepts([]) == DEFAULT_CONCEPTS
    True
    """
    pool = list(puzzles)
    if not pool or not all(is_exercise(p) for p in pool):
        return DEFAULT_CONCEPTS
    listed = {theme for p in pool for theme in p.themes}
    return tuple(c.id for c in CONCEPTS.values() if c.family == POSITIONAL and c.id in listed)


class TaskError(ChessteachError, ValueError):
    """Tasks that cannot be built as asked (no puzzles, a bad split fraction, no concept with enough puzzles)."""


@dataclass(frozen=True)
class TeachingTask:
    """One teaching task: explain ``concept`` with the example puzzle; be scored on the exam puzzles."""

    task_id: str
    concept: str
    example_id: str
    exam_ids: tuple[str, ...]
    prompt: list[Message] = field(repr=False)
    facts: tuple[str, ...] = field(default=(), repr=False)

    def row(self) -> dict[str, Any]:
        """The task as a dataset row: TRL's conversational ``prompt`` plus the columns the rewards read."""
        return {
            "prompt": self.prompt,
            "task_id": self.task_id,
            "concept": self.concept,
            "example_id": self.example_id,
            "exam_ids": list(self.exam_ids),
            "facts": list(self.facts),
        }


@dataclass
class TaskSplit:
    """Train and eval tasks, and every puzzle they name, by id."""

    train: list[TeachingTask]
    eval: list[TeachingTask]
    puzzles: dict[str, Puzzle]

    def dataset(self, side: str = TRAIN) -> Any:
        """The tasks of one side as a ``datasets.Dataset`` (columns of :meth:`TeachingTask.row`)."""
        return tasks_dataset(self.train if side == TRAIN else self.eval)


def tasks_dataset(tasks: Sequence[TeachingTask]) -> Any:
    """A ``datasets.Dataset`` with a conversational ``prompt`` column and the reward columns."""
    from datasets import Dataset

    if not tasks:
        raise TaskError("no tasks to make a dataset of")
    return Dataset.from_list([t.row() for t in tasks])


def puzzle_side(puzzle_id: str, *, eval_fraction: float, seed: int = 0) -> str:
    """Which side of the split a puzzle falls on: a seeded hash of its id, stable across runs and machines.

    >>> puzzle_side("00008", eval_fraction=0.0)
    'train'
    """
    digest = hashlib.sha256(f"{seed}:{puzzle_id}".encode()).digest()
    share = int.from_bytes(digest[:8], "big") / 2**64
    return EVAL if share < eval_fraction else TRAIN


def split_puzzles(
    puzzles: Iterable[Puzzle], *, eval_fraction: float, seed: int = 0
) -> tuple[list[Puzzle], list[Puzzle]]:
    """(train, eval) puzzles by :func:`puzzle_side`; an eval puzzle sharing a position with a train one is dropped."""
    if not 0.0 <= eval_fraction < 1.0:
        raise TaskError(f"eval_fraction must lie in [0, 1), got {eval_fraction!r}")
    train: list[Puzzle] = []
    held: list[Puzzle] = []
    for puzzle in puzzles:
        (held if puzzle_side(puzzle.id, eval_fraction=eval_fraction, seed=seed) == EVAL else train).append(puzzle)
    train_positions = set().union(*(puzzle_positions(p) for p in train)) if train else set()
    kept = [p for p in held if not (puzzle_positions(p) & train_positions)]
    if len(kept) < len(held):
        logger.info("%d eval puzzle(s) dropped for sharing a position with a training puzzle", len(held) - len(kept))
    return train, kept


def concept_tasks(
    concept_id: str,
    puzzles: Sequence[Puzzle],
    *,
    exam_size: int,
    tasks_per_concept: int,
    side: str,
    seed: int = 0,
    prompt_style: str = FULL,
) -> list[TeachingTask]:
    """Up to ``tasks_per_concept`` tasks of one concept from one side's puzzles: the best examples in turn
    (:func:`~chessteach.teaching.explain.pick_example` among the puzzles that list the theme), each with an exam
    of ``exam_size`` other puzzles of the theme. A concept with fewer than ``exam_size + 1`` puzzles gives none."""
    get_concept(concept_id)  # an unknown id raises UnknownConceptError, naming close matches
    candidates = [p for p in puzzles if puzzle_has_theme(p, concept_id)]
    if len(candidates) < exam_size + 1:
        logger.info("%s (%s): %d puzzle(s), too few for an exam of %d", concept_id, side, len(candidates), exam_size)
        return []
    tasks: list[TeachingTask] = []
    remaining = list(candidates)
    while len(tasks) < tasks_per_concept and remaining:
        try:
            example = pick_example(concept_id, remaining)
        except NoExampleError:
            break
        remaining = [p for p in remaining if p.id != example.id]
        try:
            exam = draw_exam(candidates, concept_id, n=exam_size, example=example, seed=seed + len(tasks))
        except ExamError as exc:
            logger.info("%s: no exam for example %s: %s", concept_id, example.id, exc)
            continue
        if len(exam) < exam_size:
            continue
        facts = example_facts(example, concept_id)
        tasks.append(
            TeachingTask(
                task_id=f"{side}-{concept_id}-{example.id}",
                concept=concept_id,
                example_id=example.id,
                exam_ids=tuple(p.id for p in exam),
                prompt=task_prompt(concept_id, example, facts, prompt_style),
                facts=tuple(f.text for f in facts),
            )
        )
    return tasks


def build_tasks(
    puzzles: Iterable[Puzzle],
    *,
    concepts: Sequence[str] | None = None,
    exam_size: int = 4,
    tasks_per_concept: int = 2,
    eval_fraction: float = 0.3,
    seed: int = 0,
    max_train_tasks: int | None = None,
    max_eval_tasks: int | None = None,
    prompt_style: str = FULL,
) -> TaskSplit:
    """Train and eval tasks from one puzzle set, split by puzzle (see the module docstring).

    ``concepts`` defaults to :func:`default_concepts` (:data:`DEFAULT_CONCEPTS`, or for positional exercises the
    positional concepts they list); ``prompt_style`` is one of :data:`PROMPT_STYLES`. Tasks interleave concepts
    (one of each, then the second of each, ...), so that a cap keeps the concepts balanced.
    """
    if exam_size < 1 or tasks_per_concept < 1:
        raise TaskError(f"exam_size and tasks_per_concept must be at least 1 (got {exam_size}, {tasks_per_concept})")
    if prompt_style not in PROMPT_STYLES:
        raise TaskError(f"unknown teacher prompt style {prompt_style!r}; valid: {', '.join(PROMPT_STYLES)}")
    pool = list(puzzles)
    if not pool:
        raise TaskError("no puzzles to build tasks from")
    concepts = list(concepts) if concepts else list(default_concepts(pool))
    if not concepts:
        raise TaskError("no concepts to teach: name them (the exercises list no positional concept in their Themes)")
    train_puzzles, eval_puzzles = split_puzzles(pool, eval_fraction=eval_fraction, seed=seed)
    sides: dict[str, list[TeachingTask]] = {}
    for side, side_puzzles, cap in ((TRAIN, train_puzzles, max_train_tasks), (EVAL, eval_puzzles, max_eval_tasks)):
        per_concept = [
            concept_tasks(
                c,
                side_puzzles,
                exam_size=exam_size,
                tasks_per_concept=tasks_per_concept,
                side=side,
                seed=seed,
                prompt_style=prompt_style,
            )
            for c in concepts
        ]
        interleaved = [tasks[i] for i in range(tasks_per_concept) for tasks in per_concept if i < len(tasks)]
        sides[side] = interleaved[:cap] if cap is not None else interleaved
    if not sides[TRAIN]:
        raise TaskError(
            f"no training tasks: no concept of {', '.join(concepts)} has {exam_size + 1} puzzles"
            f" among the {len(train_puzzles)} training puzzles"
        )
    if eval_fraction > 0 and not sides[EVAL]:
        logger.warning("no eval tasks: too few held-out puzzles (%d) for exams of %d", len(eval_puzzles), exam_size)
    named = {pid for task in sides[TRAIN] + sides[EVAL] for pid in (task.example_id, *task.exam_ids)}
    by_id = {p.id: p for p in pool if p.id in named}
    logger.info(
        "%d training and %d eval tasks (%d + %d puzzles, exams of %d)",
        len(sides[TRAIN]),
        len(sides[EVAL]),
        len(train_puzzles),
        len(eval_puzzles),
        exam_size,
    )
    return TaskSplit(sides[TRAIN], sides[EVAL], by_id)


__all__ = [
    "COMPACT",
    "COMPACT_FACTS",
    "DEFAULT_CONCEPTS",
    "FULL",
    "PROMPT_STYLES",
    "EVAL",
    "TRAIN",
    "TaskError",
    "TaskSplit",
    "TeachingTask",
    "build_tasks",
    "concept_tasks",
    "default_concepts",
    "puzzle_side",
    "split_puzzles",
    "task_prompt",
    "tasks_dataset",
]
