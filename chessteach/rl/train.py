"""GRPO on the teacher with TRL: explanations that raise the student's accuracy on puzzles of the concept.

One entry point, several recipes (``configs/grpo/*.yaml``)::

    chessteach train --config configs/grpo/tiny-cpu.yaml [--max_steps 5 ...]
    accelerate launch --config_file configs/accelerate/zero3.yaml -m chessteach.rl.train \\
        --config configs/grpo/qwen2.5-1.5b.yaml

:func:`main` builds the teaching tasks (:mod:`chessteach.rl.tasks`), the rewards (:mod:`chessteach.rl.rewards`)
and TRL's ``GRPOTrainer`` as it is (LoRA through peft with ``use_peft``; vLLM generation with ``use_vllm`` on a
GPU) with two callbacks: :class:`~chessteach.rl.timing.StepClock` (where each step's time goes, measured through
the rewards' calls) and :class:`~chessteach.rl.metrics.MetricsCallback`. It scores the teacher on the held-out
tasks before and after training (:mod:`chessteach.rl.evaluate`), and writes into the output dir: checkpoints,
``metrics.csv`` and ``training_curve.png`` (:mod:`chessteach.rl.metrics`), ``evaluation.csv`` /
``evaluation.md`` (the table that says whether training helped), ``explanations.csv`` (the held-out lessons
before and after, with their claims) and the final model.
"""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trl.trainer.grpo_trainer import GRPOTrainer
from trl.trainer.model_config import ModelConfig
from trl.trainer.utils import get_peft_config

from chessteach.llm.base import load_model
from chessteach.llm.gguf import SMOLLM2
from chessteach.puzzles import bundled_puzzles, read_puzzles
from chessteach.rl.config import GRPOScriptArguments, TeacherGRPOConfig, parse_args
from chessteach.rl.evaluate import PhaseResult, compare, score_phase, table_markdown, teacher_explanations
from chessteach.rl.metrics import MetricsCallback
from chessteach.rl.rewards import RewardContext, StudentExaminer, get_reward_funcs
from chessteach.rl.tasks import TRAIN, TaskSplit, build_tasks
from chessteach.rl.timing import StepClock
from chessteach.rl.tiny import TINY_RANDOM, resolve_tiny
from chessteach.teaching.exam_cache import ExamCache
from chessteach.teaching.prompts import exam_choices

logger = logging.getLogger(__name__)

EVALUATION_CSV = "evaluation.csv"
EVALUATION_MD = "evaluation.md"
EXPLANATIONS_CSV = "explanations.csv"
LAST_CHECKPOINT_WORDS = frozenset({"true", "last", "latest"})


@dataclass
class TrainResult:
    """What a run did: its tasks, the steps it reached, and the before/after evaluation (when run)."""

    output_dir: Path
    tasks: TaskSplit
    global_step: int
    metrics_csv: Path
    curve_png: Path
    before: PhaseResult | None = None
    after: PhaseResult | None = None
    verdict: str | None = None
    evaluation: Any = field(default=None, repr=False)


def student_spec(spec: str, output_dir: str | Path) -> str:
    """The student's model spec, with ``tiny-random`` turned into ``hf:`` and a tiny model built on the spot."""
    if spec == TINY_RANDOM:
        return "hf:" + resolve_tiny(TINY_RANDOM, output_dir, role="student")
    return spec


def teacher_checkpoint(name: str, output_dir: str | Path) -> str:
    """The teacher's ``model_name_or_path`` as a checkpoint: ``tiny-random`` built under the output dir,
    ``smollm2`` the converted safetensors directory of the installed SmolLM2-135M-Instruct
    (:func:`chessteach.llm.gguf.smollm2_checkpoint`), anything else (a directory, a hub id) unchanged."""
    if name == SMOLLM2:
        from chessteach.llm.gguf import smollm2_checkpoint

        return str(smollm2_checkpoint())
    return resolve_tiny(name, output_dir, role="teacher")


def check_choices(split: TaskSplit) -> None:
    """Raise :class:`~chessteach.teaching.prompts.ExamError` (naming the puzzle) unless every exam puzzle of the tasks
    has usable distractors for multiple choice (``exam_choices``), before any step is trained."""
    for task in split.train + split.eval:
        for pid in task.exam_ids:
            exam_choices(split.puzzles[pid])


def resume_checkpoint(value: str | None, output_dir: str | Path) -> str | None:
    """``resume_from_checkpoint`` as a path: ``true``/``last`` mean the newest checkpoint in the output dir."""
    if value is None or str(value).strip().lower() in {"", "false", "none", "no"}:
        return None
    if str(value).strip().lower() in LAST_CHECKPOINT_WORDS:
        from transformers.trainer_utils import get_last_checkpoint

        last: str | None = None
        if Path(output_dir).is_dir():
            last = get_last_checkpoint(str(output_dir))  # type: ignore[no-untyped-call]
        if last is None:
            logger.warning("resume_from_checkpoint=%s, but %s holds no checkpoint: starting afresh", value, output_dir)
        return last
    return str(value)


def _evaluate(
    trainer: GRPOTrainer,
    tokenizer: Any,
    split: TaskSplit,
    examiner: StudentExaminer,
    args: TeacherGRPOConfig,
    phase: str,
) -> PhaseResult | None:
    if not split.eval:
        return None
    from trl.models.utils import unwrap_model_for_generation

    started = time.perf_counter()
    max_new_tokens = args.eval_max_new_tokens or args.max_completion_length or 256
    with unwrap_model_for_generation(trainer.model_wrapped, trainer.accelerator) as model:
        texts = teacher_explanations(
            model,
            tokenizer,
            [t.prompt for t in split.eval],
            max_new_tokens=max_new_tokens,
            batch_size=args.eval_batch_size,
        )
    if not trainer.accelerator.is_main_process:
        return None
    scores = callable(getattr(examiner.student, "score_continuations", None))
    if args.eval_likelihood and not scores:
        logger.info("the student %s scores no continuations: no likelihood measure", examiner.student.spec)
    result = score_phase(
        phase, split.eval, texts, examiner, likelihood=examiner.likelihood if args.eval_likelihood and scores else None
    )
    logger.info(
        "%s training: held-out uplift %s (free answer)%s over %d tasks, %.2f false claims per explanation (%.1fs)",
        phase,
        result.uplift(),
        f", {result.measure_uplift('p')} (probability on the solution)" if result.has_likelihood else "",
        len(split.eval),
        result.claims["false"].mean() if not result.claims.empty else float("nan"),
        time.perf_counter() - started,
    )
    return result


def explanations_frame(*phases: PhaseResult) -> Any:
    """The held-out lessons of each phase, one row per (phase, task): its text and its claims' counts."""
    import pandas as pd

    rows = []
    for result in phases:
        claims = result.claims.set_index("task_id") if not result.claims.empty else None
        for task_id, text in result.explanations.items():
            row: dict[str, Any] = {"phase": result.phase, "task_id": task_id, "explanation": text}
            if claims is not None and task_id in claims.index:
                row.update({k: claims.at[task_id, k] for k in ("verified", "false", "uncheckable")})
            rows.append(row)
    return pd.DataFrame(rows)


def student_flops(context: RewardContext) -> float:
    """The FLOPs the student has computed so far (0 before it is loaded, or for a backend that does not count)."""
    if not context.has_examiner:
        return 0.0
    stats = getattr(context.examiner.student, "stats", None)
    return float(getattr(stats, "flops", 0.0))


def main(
    script_args: GRPOScriptArguments,
    training_args: TeacherGRPOConfig,
    model_args: ModelConfig,
) -> TrainResult:
    """Train the teacher with GRPO on the teaching tasks; evaluate it before and after on the held-out tasks."""
    output_dir = Path(training_args.output_dir or "runs/grpo")
    teacher = teacher_checkpoint(model_args.model_name_or_path or "", output_dir)
    if not teacher:
        raise ValueError(
            f"no teacher: set model_name_or_path (a checkpoint directory, a hub id, {SMOLLM2} or {TINY_RANDOM})"
        )
    model_args.model_name_or_path = teacher

    puzzle_path = script_args.puzzles or bundled_puzzles()
    puzzle_file = read_puzzles(puzzle_path)
    if puzzle_file.errors:
        logger.warning("%s: %d bad puzzle row(s) skipped", puzzle_path, len(puzzle_file.errors))
    split = build_tasks(
        puzzle_file.puzzles,
        concepts=script_args.concepts,
        exam_size=script_args.exam_size,
        tasks_per_concept=script_args.tasks_per_concept,
        eval_fraction=script_args.eval_fraction,
        seed=script_args.split_seed,
        max_train_tasks=script_args.max_train_tasks,
        max_eval_tasks=script_args.max_eval_tasks,
        prompt_style=script_args.teacher_prompt,
    )

    if script_args.exam_choices:
        check_choices(split)

    spec = student_spec(script_args.student, output_dir)
    cache = ExamCache(script_args.exam_cache) if script_args.exam_cache else None

    def make_examiner() -> StudentExaminer:
        logger.info("student: %s", spec)
        return StudentExaminer(
            load_model(spec),
            split.puzzles,
            config=script_args.exam_config(),
            cache=cache,
            score_solutions="solution_logprob" in script_args.rewards,
        )

    context = RewardContext(split.puzzles, script_args.reward_settings(), make_examiner)
    rewards = get_reward_funcs(script_args.rewards, context, training_args.reward_weights)

    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(
        teacher, revision=model_args.model_revision, trust_remote_code=training_args.trust_remote_code
    )
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model_init_kwargs: dict[str, Any] = {
        "revision": model_args.model_revision,
        "dtype": model_args.dtype,
        "attn_implementation": model_args.attn_implementation,
        "trust_remote_code": training_args.trust_remote_code,
    }
    if isinstance(training_args.model_init_kwargs, dict):
        model_init_kwargs.update(training_args.model_init_kwargs)
    training_args.model_init_kwargs = model_init_kwargs

    clock = StepClock(student_flops=functools.partial(student_flops, context))
    reward_funcs: list[Any] = clock.time_rewards(rewards)
    trainer = GRPOTrainer(
        model=teacher,
        reward_funcs=reward_funcs,
        args=training_args,
        train_dataset=split.dataset(TRAIN),
        processing_class=tokenizer,
        peft_config=get_peft_config(model_args),
        callbacks=[clock, MetricsCallback(output_dir)],
    )

    evaluate = training_args.evaluate_before_after and bool(split.eval)
    examiner = context.examiner if evaluate else None
    before = _evaluate(trainer, tokenizer, split, examiner, training_args, "before") if examiner else None

    checkpoint = resume_checkpoint(training_args.resume_from_checkpoint, output_dir)
    if checkpoint:
        logger.info("resuming from %s", checkpoint)
    trainer.train(resume_from_checkpoint=checkpoint)
    trainer.save_model(str(output_dir))

    after = _evaluate(trainer, tokenizer, split, examiner, training_args, "after") if examiner else None
    result = TrainResult(
        output_dir=output_dir,
        tasks=split,
        global_step=trainer.state.global_step,
        metrics_csv=output_dir / "metrics.csv",
        curve_png=output_dir / "training_curve.png",
        before=before,
        after=after,
    )
    if before is not None and after is not None:
        table, outcome = compare(before, after, seed=training_args.seed)
        explanations_frame(before, after).to_csv(output_dir / EXPLANATIONS_CSV, index=False)
        table.to_csv(output_dir / EVALUATION_CSV, index=False)
        markdown = table_markdown(table, outcome)
        (output_dir / EVALUATION_MD).write_text(markdown)
        logger.info("held-out evaluation (%s):\n%s", output_dir / EVALUATION_MD, markdown)
        result.verdict, result.evaluation = outcome, table
    if context.has_examiner:
        counters = context.examiner.counters
        logger.info(
            "student asked %d prompts in %d generate and %d score calls",
            counters.prompts,
            counters.generate_calls,
            counters.score_calls,
        )
    if cache is not None:
        cache.close()
    return result


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    main(*parse_args())
