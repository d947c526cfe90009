"""Did training help? The teacher's held-out tasks, scored before and after, with confidence intervals.

The teacher writes one greedy explanation per held-out task (:func:`teacher_explanations`); the student answers
each task's exam puzzles with and without it (:class:`~chessteach.rl.rewards.StudentExaminer`, the leakage guard
included). :func:`compare` puts both phases in one table: per phase the accuracy without and with the
explanation and the uplift with its paired bootstrap interval over (task, puzzle) pairs, and the change from
before to after with its own paired interval and a verdict.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from chessteach.rl.rewards import StudentExaminer, completion_text
from chessteach.rl.tasks import TeachingTask
from chessteach.teaching.stats import Interval, paired_bootstrap

logger = logging.getLogger(__name__)

HELPED = "helped"
HURT = "hurt"
UNCLEAR = "no clear change"


def teacher_explanations(
    model: Any, tokenizer: Any, prompts: Sequence[list[dict[str, str]]], *, max_new_tokens: int, batch_size: int = 8
) -> list[str]:
    """Greedy explanations of a transformers model (PEFT-wrapped or not) for chat prompts, batched with left
    padding."""
    import torch

    texts: list[str] = []
    was_training = model.training
    model.eval()
    side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    try:
        for start in range(0, len(prompts), batch_size):
            chunk = prompts[start : start + batch_size]
            rendered = [tokenizer.apply_chat_template(p, tokenize=False, add_generation_prompt=True) for p in chunk]
            batch = tokenizer(rendered, return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
            with torch.inference_mode():
                out = model.generate(
                    **batch,
                    max_new_tokens=max_new_tokens,
                    do_sample=False,
                    temperature=None,
                    top_p=None,
                    top_k=None,
                    pad_token_id=tokenizer.pad_token_id,
                )
            texts += tokenizer.batch_decode(out[:, batch["input_ids"].shape[1] :], skip_special_tokens=True)
    finally:
        tokenizer.padding_side = side
        if was_training:
            model.train()
    return [completion_text(t) for t in texts]


@dataclass
class PhaseResult:
    """The held-out exams of one phase: one row per (task, exam puzzle)."""

    phase: str
    frame: pd.DataFrame
    explanations: dict[str, str]

    def uplift(self, *, seed: int = 0) -> Interval:
        return paired_bootstrap(self.frame["correct_with"].tolist(), self.frame["correct_without"].tolist(), seed=seed)


def score_phase(
    phase: str, tasks: Sequence[TeachingTask], explanations: Sequence[str], examiner: StudentExaminer
) -> PhaseResult:
    """Put each task's exam to the student with its explanation and without (a leaked puzzle scores as unsolved
    with the explanation, as it earns nothing)."""
    exam_ids = [list(t.exam_ids) for t in tasks]
    base = examiner.baseline([pid for ids in exam_ids for pid in ids])
    answers = examiner.examine(list(explanations), exam_ids)
    rows = []
    for task, ids, row in zip(tasks, exam_ids, answers, strict=True):
        for pid, answer in zip(ids, row, strict=True):
            rows.append(
                {
                    "phase": phase,
                    "task_id": task.task_id,
                    "concept": task.concept,
                    "puzzle_id": pid,
                    "leaked": answer is None,
                    "correct_without": float(base[pid].correct),
                    "correct_with": 0.0 if answer is None else float(answer.correct),
                }
            )
    return PhaseResult(phase, pd.DataFrame(rows), {t.task_id: e for t, e in zip(tasks, explanations, strict=True)})


def verdict(change: Interval) -> str:
    """``helped`` / ``hurt`` when the interval of the change excludes 0, else ``no clear change``."""
    if change.n == 0 or not change.excludes(0.0):
        return UNCLEAR
    return HELPED if change.mean > 0 else HURT


def compare(before: PhaseResult, after: PhaseResult, *, seed: int = 0) -> tuple[pd.DataFrame, str]:
    """The before/after table (one row per phase, then the change), and its verdict."""
    rows = []
    for result in (before, after):
        interval = result.uplift(seed=seed)
        rows.append(
            {
                "phase": result.phase,
                "tasks": result.frame["task_id"].nunique(),
                "pairs": len(result.frame),
                "accuracy_without": result.frame["correct_without"].mean(),
                "accuracy_with": result.frame["correct_with"].mean(),
                "uplift": interval.mean,
                "ci_low": interval.low,
                "ci_high": interval.high,
                "leaked": result.frame["leaked"].mean(),
            }
        )
    merged = before.frame.merge(after.frame, on=["task_id", "puzzle_id"], suffixes=("_before", "_after"))
    change = paired_bootstrap(merged["correct_with_after"].tolist(), merged["correct_with_before"].tolist(), seed=seed)
    outcome = verdict(change)
    rows.append(
        {
            "phase": "after - before",
            "tasks": merged["task_id"].nunique(),
            "pairs": len(merged),
            "accuracy_without": float("nan"),
            "accuracy_with": change.mean,
            "uplift": change.mean,
            "ci_low": change.low,
            "ci_high": change.high,
            "leaked": float("nan"),
        }
    )
    return pd.DataFrame(rows), outcome


def table_markdown(table: pd.DataFrame, outcome: str) -> str:
    """The comparison as a Markdown table with the verdict under it."""
    head = "| phase | tasks | pairs | accuracy without | accuracy with | uplift (95% CI) | leaked |"
    lines = [head, "|---|---:|---:|---:|---:|---|---:|"]
    for row in table.itertuples(index=False):

        def num(value: float) -> str:
            return "" if value != value else f"{value:.3f}"

        lines.append(
            f"| {row.phase} | {row.tasks} | {row.pairs} | {num(row.accuracy_without)} | {num(row.accuracy_with)}"
            f" | {row.uplift:+.3f} [{row.ci_low:+.3f}, {row.ci_high:+.3f}] | {num(row.leaked)} |"
        )
    lines += ["", f"Verdict: {outcome} (the change in accuracy with the explanation, after minus before, 95% CI)."]
    return "\n".join(lines) + "\n"


__all__ = [
    "HELPED",
    "HURT",
    "UNCLEAR",
    "PhaseResult",
    "compare",
    "score_phase",
    "table_markdown",
    "teacher_explanations",
    "verdict",
]
