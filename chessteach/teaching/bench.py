"""How fast a likelihood exam runs, against the matmul bound measured in the same run.

A question costs the forward passes of its prompt, its candidates and its free answer. :class:`FlopModel` turns
the tokens the ``hf:`` backend computed into floating-point operations (``2 x`` the non-embedding parameters per
token, attention per (token, key) pair, the logits where they are computed); divided by the machine's measured
matmul rate (:func:`matmul_throughput`, the model's own matrix shapes, dtype and threads) they give the time no
implementation can beat on this machine. :func:`run_likelihood_bench` runs the same exam twice, side by side:

- **kept prefixes**: each question computes only what its prompt does not share with a recent one (the
  explanation before another question), and the free answer decodes from the scored prompt's cache;
- **every prompt whole**: no kept caches, and the free answer asks the prompt a second time (what the exam did
  before), the baseline.

Each row's ratio is its bound over its measured time; the rows' times compare the two paths.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from chessteach.llm.base import GenerationConfig, Prompt
from chessteach.puzzles.puzzle import Puzzle
from chessteach.teaching.exam import ExamConfig, ExamError
from chessteach.teaching.likelihood import TEMPLATE, run_likelihood_exam

logger = logging.getLogger(__name__)

KEPT, WHOLE = "kept prefixes", "every prompt whole"


def matmul_throughput(
    rows: int, inner: int, columns: int, *, dtype: Any = None, device: str = "cpu", seconds: float = 1.0
) -> float:
    """The best rate (FLOP/s) of ``(rows x inner) @ (inner x columns)`` products over about ``seconds`` of trials,
    at torch's current thread count."""
    import torch

    a = torch.randn(rows, inner, dtype=dtype or torch.float32, device=device)
    b = torch.randn(inner, columns, dtype=dtype or torch.float32, device=device)
    flops = 2.0 * rows * inner * columns
    best = 0.0
    began = time.perf_counter()
    with torch.inference_mode():
        for _ in range(3):
            a @ b  # warm up
        while time.perf_counter() - began < seconds:
            start = time.perf_counter()
            for _ in range(8):
                a @ b
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            best = max(best, 8 * flops / (time.perf_counter() - start))
    return best


class TwoPasses:
    """A model seen without its ``score_and_generate``: scoring and the free answer are two requests (the
    baseline path)."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.spec: str = model.spec

    def generate(self, prompts: Sequence[Prompt], config: GenerationConfig | None = None) -> list[str]:
        return list(self.model.generate(prompts, config))

    def score(self, prompts: Sequence[Prompt], continuations: Sequence[str]) -> list[float]:
        return list(self.model.score(prompts, continuations))

    def score_continuations(self, prompt: Prompt, continuations: Sequence[str]) -> list[float]:
        return list(self.model.score_continuations(prompt, continuations))

    def close(self) -> None:
        """The wrapped model stays open: its owner closes it."""


@dataclass(frozen=True)
class SpeedRow:
    """One way of running the exam: its items, time, tokens and the FLOPs they need."""

    path: str
    items: int
    seconds: float
    cpu_seconds: float
    stats: Any
    """The backend's :class:`~chessteach.llm.transformers_backend.TokenStats` of the run."""
    throughput: float

    @property
    def items_per_s(self) -> float:
        return self.items / self.seconds if self.seconds > 0 else 0.0

    @property
    def flops_per_item(self) -> float:
        return float(self.stats.flops) / max(1, self.items)

    @property
    def bound_seconds(self) -> float:
        """The run's FLOPs at the measured matmul rate."""
        return float(self.stats.flops) / self.throughput

    @property
    def ratio(self) -> float:
        """The bound's share of the measured time (1 would be the machine's matmul rate all along)."""
        return self.bound_seconds / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class LikelihoodBench:
    student: str
    threads: int
    throughput: float
    """The measured matmul rate (FLOP/s)."""
    rows: list[SpeedRow]


def run_likelihood_bench(
    student: Any,
    puzzles: Sequence[Puzzle],
    explanation: str,
    placebo: str,
    *,
    config: ExamConfig | None = None,
    free_answer: bool = True,
) -> LikelihoodBench:
    """Time a likelihood exam (none, the explanation, the placebo) on ``puzzles`` twice, kept prefixes then every
    prompt whole, and measure the matmul rate at the model's shapes in between; ``student`` is an ``hf:`` model
    (:class:`~chessteach.llm.transformers_backend.TransformersModel`: it counts its tokens and FLOPs)."""
    import torch

    if not hasattr(student, "stats") or not hasattr(student, "flop_model"):
        raise ExamError(f"{student.spec}: the likelihood bench needs an hf: model (it counts tokens and FLOPs)")
    config = config or ExamConfig()
    hidden = student.flop_model.hidden
    inner = getattr(student.model.config, "intermediate_size", 4 * hidden)
    device = str(student.device)
    dtype = student.model.dtype
    throughput = max(
        matmul_throughput(256, hidden, inner, dtype=dtype, device=device),
        matmul_throughput(256, hidden, hidden, dtype=dtype, device=device),
    )
    rows = []
    kept = student.keep_prefixes
    try:
        for path in (KEPT, WHOLE):
            student.keep_prefixes = kept if path == KEPT else 0
            student._prefills.clear()
            before = replace(student.stats)
            asked = student if path == KEPT else TwoPasses(student)
            wall, cpu = time.perf_counter(), time.process_time()
            report = run_likelihood_exam(
                asked, puzzles, {TEMPLATE: explanation}, placebo, config=config, free_answer=free_answer
            )
            seconds, cpu_seconds = time.perf_counter() - wall, time.process_time() - cpu
            rows.append(
                SpeedRow(path, len(report.results), seconds, cpu_seconds, student.stats.minus(before), throughput)
            )
            logger.info("%s: %d items in %.1f s", path, len(report.results), seconds)
    finally:
        student.keep_prefixes = kept
        student._prefills.clear()
    return LikelihoodBench(student.spec, torch.get_num_threads(), throughput, rows)
