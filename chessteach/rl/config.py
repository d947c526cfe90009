"""The settings of a GRPO run on the teacher, as dataclasses that TRL's ``TrlParser`` fills.

Three groups, as in TRL's own scripts and open-r1: :class:`GRPOScriptArguments` (the tasks, the student and the
rewards), :class:`TeacherGRPOConfig` (TRL's ``GRPOConfig`` plus the before/after evaluation) and TRL's
``ModelConfig`` (the teacher checkpoint, dtype, LoRA). A recipe is one YAML file holding keys of any of them;
the command line overrides the YAML, and an unknown key is an error (see :func:`make_parser`). The example is not
run as a doctest (the recipe's path is relative to a checkout of the project):

>>> script_args, training_args, model_args = parse_args(["--config", "configs/grpo/tiny-cpu.yaml"])  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from trl.scripts.utils import TrlParser
from trl.trainer.grpo_config import GRPOConfig
from trl.trainer.model_config import ModelConfig

from chessteach.errors import RecipeError
from chessteach.rl.rewards import REWARDS, RewardSettings, check_reward_names
from chessteach.rl.tasks import COMPACT, FULL, PROMPT_STYLES
from chessteach.rl.tiny import TINY_RANDOM
from chessteach.teaching.examiner import DEFAULT_MAX_NEW_TOKENS, ExamConfig
from chessteach.teaching.prompts import DEFAULT_PROMPT_FORMAT, PROMPT_FORMATS

DEFAULT_REWARDS = ["teachability", "solution_logprob", "truthfulness", "format", "length"]


def _reward_help() -> str:
    """The valid reward names, from the registry (so the help never drifts from the code)."""
    return ", ".join(REWARDS)


@dataclass
class GRPOScriptArguments:
    """The teaching tasks, the student that is examined, and the rewards."""

    puzzles: str | None = field(
        default=None,
        metadata={
            "help": "Lichess puzzle CSV (or positional exercises CSV) the tasks are built from (default: the bundled "
            "sample set)."
        },
    )
    concepts: list[str] | None = field(
        default=None,
        metadata={
            "help": "Concepts (Lichess theme ids, or positional concept ids for exercises) to teach (default: "
            "chessteach.rl.tasks.DEFAULT_CONCEPTS; for an exercises CSV, the positional concepts its exercises list)."
        },
    )
    exam_size: int = field(default=4, metadata={"help": "Exam puzzles per task (k), of the task's concept."})
    tasks_per_concept: int = field(default=2, metadata={"help": "Tasks (example puzzles) per concept and side."})
    eval_fraction: float = field(
        default=0.3, metadata={"help": "Share of the puzzles held out for the eval tasks (the split is by puzzle)."}
    )
    split_seed: int = field(default=0, metadata={"help": "Seed of the train/eval split and of the exam draws."})
    max_train_tasks: int | None = field(default=None, metadata={"help": "Cap on the training tasks."})
    max_eval_tasks: int | None = field(default=None, metadata={"help": "Cap on the held-out tasks."})
    teacher_prompt: str = field(
        default=FULL,
        metadata={
            "help": f"The teacher's prompt: {FULL} (the explain prompt) or {COMPACT} (a short system prompt, no board "
            "diagram, two checked facts: about 300 tokens instead of 700, for small teachers on the CPU)."
        },
    )
    student: str = field(
        default=TINY_RANDOM,
        metadata={
            "help": "The student's model spec: hf:PATH (in process), openai:URL#MODEL (an OpenAI-compatible server "
            f"such as `vllm serve`), or {TINY_RANDOM} (a tiny random model built under the output dir)."
        },
    )
    exam_prompt_format: str = field(
        default=DEFAULT_PROMPT_FORMAT,
        metadata={"help": f"How exam positions are shown: {', '.join(PROMPT_FORMATS)}."},
    )
    student_chat: bool = field(
        default=False, metadata={"help": "Ask the student in chat form (instruct models) instead of plain text."}
    )
    exam_choices: bool = field(
        default=False,
        metadata={
            "help": "Multiple-choice exams: the student chooses among the best move and the three Distractors of an "
            "exercises CSV (every exam puzzle must have them) instead of all legal moves."
        },
    )
    student_max_new_tokens: int = field(
        default=DEFAULT_MAX_NEW_TOKENS, metadata={"help": "Tokens the student may write for its answer."}
    )
    exam_cache: str | None = field(
        default=None,
        metadata={"help": "SQLite file that keeps the no-explanation baseline across runs (default: memory only)."},
    )
    rewards: list[str] = field(
        default_factory=lambda: list(DEFAULT_REWARDS),
        metadata={"help": f"Rewards, in the order of `reward_weights`; valid: {_reward_help()}."},
    )
    false_claim_cost: float = field(
        default=1.0, metadata={"help": "truthfulness: what one false claim costs, against 1 for a verified one."}
    )
    degradation_weight: float = field(
        default=2.0,
        metadata={
            "help": "solution_probability: how many times a fall in the student's probability on the solution counts "
            "against a rise of the same size (ATLAS-style; 1 is symmetric)."
        },
    )
    length_budget: int = field(
        default=512, metadata={"help": "length: completion tokens allowed before the soft penalty starts."}
    )
    length_soft_window: int = field(
        default=128, metadata={"help": "length: tokens past the budget over which the penalty grows to -1."}
    )

    def __post_init__(self) -> None:
        check_reward_names(self.rewards)
        if self.exam_size < 1 or self.tasks_per_concept < 1:
            raise RecipeError("exam_size and tasks_per_concept must be at least 1")
        if not 0.0 <= self.eval_fraction < 1.0:
            raise RecipeError(f"eval_fraction must lie in [0, 1), got {self.eval_fraction}")
        if self.teacher_prompt not in PROMPT_STYLES:
            raise RecipeError(f"unknown teacher_prompt {self.teacher_prompt!r}; valid: {', '.join(PROMPT_STYLES)}")
        if self.exam_prompt_format not in PROMPT_FORMATS:
            raise RecipeError(
                f"unknown exam_prompt_format {self.exam_prompt_format!r}; valid: {', '.join(PROMPT_FORMATS)}"
            )
        if self.length_budget < 1 or self.length_soft_window < 1:
            raise RecipeError("length_budget and length_soft_window must be at least 1")
        if self.false_claim_cost < 0:
            raise RecipeError("false_claim_cost must not be negative")
        if self.degradation_weight < 0:
            raise RecipeError("degradation_weight must not be negative")

    def reward_settings(self) -> RewardSettings:
        return RewardSettings(
            false_claim_cost=self.false_claim_cost,
            length_budget=self.length_budget,
            length_soft_window=self.length_soft_window,
            degradation_weight=self.degradation_weight,
        )

    def exam_config(self) -> ExamConfig:
        return ExamConfig(
            prompt_format=self.exam_prompt_format,
            chat=self.student_chat,
            choices=self.exam_choices,
            max_new_tokens=self.student_max_new_tokens,
        )


@dataclass
class TeacherGRPOConfig(GRPOConfig):
    """TRL's ``GRPOConfig``, plus the held-out evaluation before and after training."""

    evaluate_before_after: bool = field(
        default=True,
        metadata={"help": "Score the teacher on the held-out tasks before and after training (greedy explanations)."},
    )
    eval_max_new_tokens: int | None = field(
        default=None,
        metadata={"help": "Tokens per explanation in the before/after evaluation (default: max_completion_length)."},
    )
    eval_likelihood: bool = field(
        default=True,
        metadata={
            "help": "Also score the likelihood measure in that evaluation (the student's probability on the solution "
            "among the candidates, without and with the explanation), when the student can score continuations."
        },
    )
    eval_batch_size: int = field(default=8, metadata={"help": "Explanations generated at once in that evaluation."})

    def __post_init__(self) -> None:
        super().__post_init__()  # type: ignore[no-untyped-call]
        if self.eval_max_new_tokens is not None and self.eval_max_new_tokens < 1:
            raise RecipeError("eval_max_new_tokens must be at least 1")
        if self.eval_batch_size < 1:
            raise RecipeError("eval_batch_size must be at least 1")


def make_parser() -> TrlParser:
    """The parser of a run: YAML (``--config``) first, then command-line overrides; unknown keys are errors."""
    dataclass_types: Any = (GRPOScriptArguments, TeacherGRPOConfig, ModelConfig)
    return TrlParser(dataclass_types)


def parse_args(argv: Sequence[str] | None = None) -> tuple[GRPOScriptArguments, TeacherGRPOConfig, ModelConfig]:
    """``(script_args, training_args, model_args)`` from ``argv`` (default: ``sys.argv[1:]``)."""
    parsed: Any = make_parser().parse_args_and_config(args=list(argv) if argv is not None else None)
    script_args, training_args, model_args = parsed
    return script_args, training_args, model_args


__all__ = [
    "DEFAULT_REWARDS",
    "GRPOScriptArguments",
    "TeacherGRPOConfig",
    "make_parser",
    "parse_args",
]
