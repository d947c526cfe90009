"""Did training help? The teacher's held-out tasks, scored before and after, with confidence intervals.

The teacher writes one greedy explanation per held-out task (:func:`teacher_explanations`); the student answers
each task's exam puzzles with and without it (:class:`~chessteach.rl.rewards.StudentExaminer`, the leakage guard
included). Beside the free answer, two more measures where they can be had:

- the **likelihood measure** (:mod:`chessteach.teaching.likelihood`, when the student scores continuations): the
  student's probability on the solution among the question's candidates, and its likelihood answer's accuracy,
  without and with the explanation (the measure a small student's free answer cannot give, and the one the
  ``solution_probability`` reward trains on);
- **false claims per explanation**: the fact-checker of the ``truthfulness`` reward
  (:func:`~chessteach.teaching.factcheck.check_text`) on each explanation, against its task's example.

:func:`compare` puts both phases in one table: per phase each measure without and with the explanation, the
uplifts with paired bootstrap intervals over (task, puzzle) pairs, the claims per explanation, and the change
from before to after with its own paired interval (over pairs; over tasks for the claims) and a verdict. A leaked
pair (the explanation names the solution) scores as unsolved with the explanation in every measure (probability
0 on the solution), as it earns nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from chessteach.rl.rewards import StudentExaminer, completion_text
from chessteach.rl.tasks import TeachingTask
from chessteach.teaching.examiner import Examiner
from chessteach.teaching.factcheck import ExampleLine, check_text
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
    """The held-out exams of one phase: ``frame`` one row per (task, exam puzzle), ``claims`` one row per task
    (its explanation's verified, false and uncheckable claims about the example; empty when not checked)."""

    phase: str
    frame: pd.DataFrame
    explanations: dict[str, str]
    claims: pd.DataFrame = field(default_factory=pd.DataFrame)

    def uplift(self, *, seed: int = 0) -> Interval:
        """The free answer's accuracy with the explanation minus without, over the pairs."""
        return self.measure_uplift("correct", seed=seed)

    @property
    def has_likelihood(self) -> bool:
        """Whether the likelihood measure was scored (the student scores continuations)."""
        return "p_with" in self.frame and bool(self.frame["p_with"].notna().any())

    def measure_uplift(self, measure: str, *, seed: int = 0) -> Interval:
        """``<measure>_with - <measure>_without`` over the pairs: ``correct`` (free answer), ``p`` (probability
        on the solution) or ``lik_correct`` (the likelihood answer)."""
        with_, without = self.frame[f"{measure}_with"].tolist(), self.frame[f"{measure}_without"].tolist()
        return paired_bootstrap(with_, without, seed=seed)


def score_phase(
    phase: str,
    tasks: Sequence[TeachingTask],
    explanations: Sequence[str],
    examiner: StudentExaminer,
    *,
    likelihood: Examiner | None = None,
    factcheck: bool = True,
) -> PhaseResult:
    """Put each task's exam to the student with its explanation and without (a leaked puzzle scores as unsolved
    with the explanation, as it earns nothing): the free answer, and with a ``likelihood`` scorer the probability
    on the solution and the likelihood answer; with ``factcheck``, count each explanation's claims about its
    example."""
    nan = float("nan")
    exam_ids = [list(t.exam_ids) for t in tasks]
    base = examiner.baseline([pid for ids in exam_ids for pid in ids])
    answers = examiner.examine(list(explanations), exam_ids)
    rows = []
    for task, text, ids, row in zip(tasks, explanations, exam_ids, answers, strict=True):
        for pid, answer in zip(ids, row, strict=True):
            record: dict[str, Any] = {
                "phase": phase,
                "task_id": task.task_id,
                "concept": task.concept,
                "puzzle_id": pid,
                "leaked": answer is None,
                "correct_without": float(base[pid].correct),
                "correct_with": 0.0 if answer is None else float(answer.correct),
                "p_without": nan,
                "p_with": nan,
                "lik_correct_without": nan,
                "lik_correct_with": nan,
            }
            if likelihood is not None:
                puzzle = examiner.puzzle(pid)
                alone = likelihood.choice(puzzle, None)
                record["p_without"], record["lik_correct_without"] = alone.p_solution, float(alone.correct)
                if answer is None:
                    record["p_with"], record["lik_correct_with"] = 0.0, 0.0
                else:
                    taught = likelihood.choice(puzzle, text or None)
                    record["p_with"], record["lik_correct_with"] = taught.p_solution, float(taught.correct)
            rows.append(record)
    claims = pd.DataFrame(
        [claim_counts(phase, task, text, examiner) for task, text in zip(tasks, explanations, strict=True)]
        if factcheck
        else []
    )
    by_task = {t.task_id: e for t, e in zip(tasks, explanations, strict=True)}
    return PhaseResult(phase, pd.DataFrame(rows), by_task, claims)


def claim_counts(phase: str, task: TeachingTask, text: str, examiner: StudentExaminer) -> dict[str, Any]:
    """One explanation's claims about its task's example, as the ``truthfulness`` reward counts them."""
    example = examiner.puzzle(task.example_id)
    check = check_text(text, example, line=ExampleLine.from_puzzle(example))
    return {
        "phase": phase,
        "task_id": task.task_id,
        "concept": task.concept,
        "verified": check.verified,
        "false": check.false,
        "uncheckable": check.uncheckable,
        "words": len(text.split()),
    }


def verdict(change: Interval) -> str:
    """``helped`` / ``hurt`` when the interval of the change excludes 0, else ``no clear change``."""
    if change.n == 0 or not change.excludes(0.0):
        return UNCLEAR
    return HELPED if change.mean > 0 else HURT


MEASURE_COLUMNS: dict[str, tuple[str, str, str]] = {
    "correct": ("accuracy_without", "accuracy_with", ""),
    "p": ("p_without", "p_with", "p_"),
    "lik_correct": ("lik_accuracy_without", "lik_accuracy_with", "lik_"),
}
"""Each exam measure of :attr:`PhaseResult.frame` (free answer, probability on the solution, likelihood answer)
and its table's columns: without, with, and the prefix of ``uplift``/``ci_low``/``ci_high``."""


def _claims_interval(before: pd.DataFrame, after: pd.DataFrame, column: str, *, seed: int) -> Interval:
    """The change in claims per explanation (after - before), paired over the tasks."""
    if before.empty or after.empty:
        nan = float("nan")
        return Interval(nan, nan, nan, n=0)
    merged = before.merge(after, on="task_id", suffixes=("_before", "_after"))
    return paired_bootstrap(merged[f"{column}_after"].tolist(), merged[f"{column}_before"].tolist(), seed=seed)


def compare(before: PhaseResult, after: PhaseResult, *, seed: int = 0) -> tuple[pd.DataFrame, str]:
    """The before/after table (one row per phase, then the change), and its verdict.

    Per phase: the free answer's accuracy without and with the explanation and the uplift (``uplift``,
    ``ci_low``, ``ci_high``), the same for the likelihood measure (``p_*`` the probability on the solution,
    ``lik_*`` the likelihood answer's accuracy; NaN where not scored), and the claims per explanation
    (``false_claims``, ``verified_claims``). The change row holds after minus before of the accuracy (and the
    probability) with the explanation, paired over (task, puzzle), and of the false claims, paired over tasks,
    each with its verdict (``verdict`` free answer, ``p_verdict`` likelihood, ``false_claims_verdict``: ``helped``
    there means fewer false claims). The verdict returned is the likelihood measure's when it was scored (the
    measure a small student can show), else the free answer's.
    """
    nan = float("nan")
    likelihood = before.has_likelihood and after.has_likelihood
    rows = []
    for result in (before, after):
        row: dict[str, Any] = {
            "phase": result.phase,
            "tasks": result.frame["task_id"].nunique(),
            "pairs": len(result.frame),
        }
        for stem, (without, with_, prefix) in MEASURE_COLUMNS.items():
            scored = stem == "correct" or likelihood
            interval = result.measure_uplift(stem, seed=seed) if scored else Interval(nan, nan, nan, n=0)
            row[without] = result.frame[f"{stem}_without"].mean() if scored else nan
            row[with_] = result.frame[f"{stem}_with"].mean() if scored else nan
            row[f"{prefix}uplift"] = interval.mean
            row[f"{prefix}ci_low"] = interval.low
            row[f"{prefix}ci_high"] = interval.high
        row["leaked"] = result.frame["leaked"].mean()
        claims = result.claims
        row["explanations"] = len(claims)
        row["false_claims"] = claims["false"].mean() if not claims.empty else nan
        row["verified_claims"] = claims["verified"].mean() if not claims.empty else nan
        row["words"] = claims["words"].mean() if not claims.empty else nan
        rows.append(row)
    merged = before.frame.merge(after.frame, on=["task_id", "puzzle_id"], suffixes=("_before", "_after"))

    def change(stem: str) -> Interval:
        return paired_bootstrap(
            merged[f"{stem}_with_after"].tolist(), merged[f"{stem}_with_before"].tolist(), seed=seed
        )

    free = change("correct")
    p_change = change("p") if likelihood else Interval(nan, nan, nan, n=0)
    lik_change = change("lik_correct") if likelihood else Interval(nan, nan, nan, n=0)
    false_change = _claims_interval(before.claims, after.claims, "false", seed=seed)
    verified_change = _claims_interval(before.claims, after.claims, "verified", seed=seed)
    words_change = _claims_interval(before.claims, after.claims, "words", seed=seed)
    false_verdict = {HELPED: HURT, HURT: HELPED}.get(verdict(false_change), UNCLEAR)
    rows.append(
        {
            "phase": "after - before",
            "tasks": merged["task_id"].nunique(),
            "pairs": len(merged),
            "accuracy_without": nan,
            "accuracy_with": free.mean,
            "uplift": free.mean,
            "ci_low": free.low,
            "ci_high": free.high,
            "p_without": nan,
            "p_with": p_change.mean,
            "p_uplift": p_change.mean,
            "p_ci_low": p_change.low,
            "p_ci_high": p_change.high,
            "lik_accuracy_without": nan,
            "lik_accuracy_with": lik_change.mean,
            "lik_uplift": lik_change.mean,
            "lik_ci_low": lik_change.low,
            "lik_ci_high": lik_change.high,
            "leaked": nan,
            "explanations": false_change.n,
            "false_claims": false_change.mean,
            "false_ci_low": false_change.low,
            "false_ci_high": false_change.high,
            "verified_claims": verified_change.mean,
            "verified_ci_low": verified_change.low,
            "verified_ci_high": verified_change.high,
            "words": words_change.mean,
            "verdict": verdict(free),
            "p_verdict": verdict(p_change) if likelihood else "",
            "false_claims_verdict": false_verdict if false_change.n else "",
        }
    )
    outcome = verdict(p_change) if likelihood else verdict(free)
    return pd.DataFrame(rows), outcome


def _num(value: Any, form: str = ".3f") -> str:
    return "" if value is None or value != value else format(value, form)


def _ci(mean: Any, low: Any, high: Any) -> str:
    if mean != mean:
        return ""
    return f"{mean:+.3f} [{low:+.3f}, {high:+.3f}]"


def table_markdown(table: pd.DataFrame, outcome: str) -> str:
    """The comparison as Markdown: the free answer's table, the likelihood measure's and the claims' (when
    scored), with the verdicts under them."""
    head = "| phase | tasks | pairs | accuracy without | accuracy with | uplift (95% CI) | leaked |"
    lines = [head, "|---|---:|---:|---:|---:|---|---:|"]
    for row in table.itertuples(index=False):
        lines.append(
            f"| {row.phase} | {row.tasks} | {row.pairs} | {_num(row.accuracy_without)} | {_num(row.accuracy_with)}"
            f" | {row.uplift:+.3f} [{row.ci_low:+.3f}, {row.ci_high:+.3f}] | {_num(row.leaked)} |"
        )
    rows = table.to_dict("records")
    first, second, change = rows[0], rows[1], rows[-1]
    lines += [
        "",
        "Free answer: accuracy; the uplift is with minus without the explanation, paired over (task, puzzle).",
    ]
    if "p_with" in table and table["p_with"].notna().any():
        lines += [
            "",
            f"| likelihood measure | {first['phase']} training | {second['phase']} training | after - before (95% CI) |",
            "|---|---:|---:|---|",
        ]
        for label, key, low, high in (
            ("probability on the solution, without explanation", "p_without", None, None),
            ("probability on the solution, with explanation", "p_with", "p_ci_low", "p_ci_high"),
            ("uplift of the probability (95% CI)", "p_uplift", None, None),
            ("likelihood accuracy, without explanation", "lik_accuracy_without", None, None),
            ("likelihood accuracy, with explanation", "lik_accuracy_with", "lik_ci_low", "lik_ci_high"),
            ("uplift of the likelihood accuracy (95% CI)", "lik_uplift", None, None),
        ):
            if key.endswith("uplift"):
                stem = key.removesuffix("uplift")
                cells = [_ci(r[key], r[f"{stem}ci_low"], r[f"{stem}ci_high"]) for r in (first, second)]
            else:
                cells = [_num(r[key]) for r in (first, second)]
            delta = _ci(change[key], change[low], change[high]) if low and high else ""
            lines.append(f"| {label} | {cells[0]} | {cells[1]} | {delta} |")
    if "false_claims" in table and table["false_claims"].notna().any():
        lines += [
            "",
            f"| claims per explanation | {first['phase']} training | {second['phase']} training | after - before (95% CI) |",
            "|---|---:|---:|---|",
            f"| false claims | {_num(first['false_claims'], '.2f')} | {_num(second['false_claims'], '.2f')}"
            f" | {_ci(change['false_claims'], change['false_ci_low'], change['false_ci_high'])} |",
            f"| verified claims | {_num(first['verified_claims'], '.2f')} | {_num(second['verified_claims'], '.2f')}"
            f" | {_ci(change['verified_claims'], change['verified_ci_low'], change['verified_ci_high'])} |",
            f"| words | {_num(first['words'], '.1f')} | {_num(second['words'], '.1f')} | {_num(change['words'], '+.1f')} |",
        ]
    lines += ["", f"Verdict: {outcome} (the change with the explanation, after minus before, 95% CI"]
    lines[-1] += (
        "; on the likelihood measure's probability on the solution)." if change.get("p_verdict") else "; free answer)."
    )
    lines.append(f"Free answer: {change['verdict']}.")
    if change.get("p_verdict"):
        lines.append(f"Likelihood measure (probability on the solution): {change['p_verdict']}.")
    if change.get("false_claims_verdict"):
        lines.append(f"False claims per explanation: {change['false_claims_verdict']} (helped: fewer).")
    return "\n".join(lines) + "\n"


__all__ = [
    "HELPED",
    "HURT",
    "UNCLEAR",
    "MEASURE_COLUMNS",
    "PhaseResult",
    "claim_counts",
    "compare",
    "score_phase",
    "table_markdown",
    "teacher_explanations",
    "verdict",
]
