"""How fast exams run, each against a bound measured in the same run.

**Free answers** (:func:`run_exam_bench`): puzzles/s per batch size, without and with an explanation, against
the memory-bandwidth bound of decoding (each decoding step reads the weights once; :func:`memory_bandwidth`).

**Likelihood questions** (:func:`run_likelihood_bench`): a question costs the forward passes of its prompt, its
candidates and its free answer. :class:`FlopModel` turns the tokens the ``hf:`` backend computed into
floating-point operations (``2 x`` the non-embedding parameters per token, attention per (token, key) pair, the
logits where they are computed); divided by the machine's measured matmul rate (:func:`matmul_throughput`, the
model's own matrix shapes, dtype and threads) they give the time no implementation can beat on this machine.
:func:`run_likelihood_bench` runs the same exam twice, side by side:

- **kept prefixes**: each question computes only what its prompt does not share with a recent one (the
  explanation before another question), and the free answer decodes from the scored prompt's cache;
- **every prompt whole**: no kept caches, and the free answer asks the prompt a second time (what the exam did
  before), the baseline.

Each row's ratio is its bound over its measured time; the rows' times compare the two paths.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from chessteach.llm.base import GenerationConfig, LanguageModel, Prompt
from chessteach.puzzles.puzzle import Puzzle
from chessteach.teaching.examiner import ExamConfig, Progress
from chessteach.teaching.likelihood import TEMPLATE, run_likelihood_exam
from chessteach.teaching.prompts import ExamError, exam_prompt, solution_continuation

logger = logging.getLogger(__name__)

# --- free answers: exam throughput against the memory-bandwidth bound of decoding ---------------------------

BENCH_BATCH_SIZES: tuple[int, ...] = (1, 8, 32)
BENCH_EXPLANATION = (
    "A fork is one move that attacks two or more enemy pieces at once; the opponent can save only one. "
    "Look for checks and captures that also hit an undefended piece, and for knight jumps onto squares "
    "that attack the king and the queen together."
)


def memory_bandwidth(*, device: str = "cpu", megabytes: int = 256, repeats: int = 5) -> float:
    """Bytes per second of a large copy (read + write), best of ``repeats``: numpy on the CPU, torch on CUDA."""
    count = megabytes * 2**20 // 4
    best = float("inf")
    if device.startswith("cuda"):
        import torch

        src = torch.ones(count, dtype=torch.float32, device=device)
        dst = torch.empty_like(src)
        for _ in range(repeats + 1):
            torch.cuda.synchronize(device)
            start = time.perf_counter()
            dst.copy_(src)
            torch.cuda.synchronize(device)
            best = min(best, time.perf_counter() - start)
        nbytes = src.numel() * src.element_size()
    else:
        import numpy as np

        src_np = np.ones(count, dtype=np.float32)
        dst_np = np.empty_like(src_np)
        for _ in range(repeats + 1):
            start = time.perf_counter()
            np.copyto(dst_np, src_np)
            best = min(best, time.perf_counter() - start)
        nbytes = src_np.nbytes
    return 2 * nbytes / best


def model_bytes(student: LanguageModel, path: str | os.PathLike[str] | None = None) -> int:
    """The bytes of the student's weights: its torch module's parameters, else its safetensors files."""
    module = getattr(student, "model", None)
    parameters = getattr(module, "parameters", None)
    if callable(parameters):
        return int(sum(p.numel() * p.element_size() for p in parameters()))
    if path is None:
        raise ExamError(f"{student.spec}: cannot tell the size of its weights")
    return sum(f.stat().st_size for f in Path(path).glob("*.safetensors"))


@dataclass(frozen=True)
class ExamBenchRow:
    """Exam throughput at one batch size, with or without the explanation, and its decode bound."""

    batch_size: int
    with_explanation: bool
    puzzles: int
    prompt_tokens: float
    seconds: float
    bound_seconds: float

    @property
    def puzzles_per_s(self) -> float:
        return self.puzzles / self.seconds

    @property
    def bound_puzzles_per_s(self) -> float:
        return self.puzzles / self.bound_seconds

    @property
    def ratio(self) -> float:
        """Measured throughput over the bound (1.0 would read the weights at full memory bandwidth)."""
        return self.bound_seconds / self.seconds


@dataclass
class ExamBench:
    """The benchmark's setting and its rows."""

    student: str
    device: str
    model_bytes: int
    bandwidth: float
    decode_steps: int
    rows: list[ExamBenchRow]

    @property
    def step_seconds(self) -> float:
        """The decode bound of one step: the weights read once at the measured bandwidth."""
        return self.model_bytes / self.bandwidth


def run_exam_bench(
    student: LanguageModel,
    puzzles: Sequence[Puzzle],
    *,
    batch_sizes: Sequence[int] = BENCH_BATCH_SIZES,
    explanation: str = BENCH_EXPLANATION,
    max_new_tokens: int = 8,
    device: str = "cpu",
    checkpoint: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
) -> ExamBench:
    """Time the student's exam work (greedy answers plus the solution's log-probability) per batch size,
    without and with the explanation, against the decode bound.

    The bound: each batch reads the weights at least ``max_new_tokens + 2`` times (every decoding step, the
    prefill and the scoring pass), so ``ceil(puzzles / batch) * (max_new_tokens + 2) * model_bytes /
    bandwidth`` seconds, with the bandwidth measured in the same run (:func:`memory_bandwidth`). It ignores
    compute (prefill of long prompts is compute-bound), so it is optimistic; the ratio is at most 1.
    Answers always run to ``max_new_tokens`` (no stop string), as a random model would anyway. The student's
    batch size is set on the backend when it has a ``batch_size`` attribute (the ``hf:`` backend).
    """
    import math

    weights = model_bytes(student, checkpoint)
    bandwidth = memory_bandwidth(device=device)
    steps = max_new_tokens + 2
    generation = GenerationConfig(max_new_tokens=max_new_tokens, temperature=0.0)
    tokenizer = getattr(student, "tokenizer", None)
    rows = []
    total = 2 * len(batch_sizes)
    warm = [exam_prompt(p, explanation) for p in puzzles[:2]]
    student.generate(warm, generation)
    student.score(warm, [solution_continuation(p) for p in puzzles[:2]])
    for batch in batch_sizes:
        if hasattr(student, "batch_size"):
            student.batch_size = batch
        for with_explanation in (False, True):
            prompts = [exam_prompt(p, explanation if with_explanation else None) for p in puzzles]
            tokens = (
                sum(len(tokenizer(str(p))["input_ids"]) for p in prompts) / len(prompts) if tokenizer else float("nan")
            )
            start = time.perf_counter()
            student.generate(prompts, generation)
            student.score(prompts, [solution_continuation(p) for p in puzzles])
            seconds = time.perf_counter() - start
            bound = math.ceil(len(puzzles) / batch) * steps * weights / bandwidth
            rows.append(ExamBenchRow(batch, with_explanation, len(puzzles), tokens, seconds, bound))
            logger.info(
                "batch %d, %s explanation: %.2f puzzles/s",
                batch,
                "with" if with_explanation else "without",
                len(puzzles) / seconds,
            )
            if progress is not None:
                progress(len(rows), total)
    return ExamBench(student.spec, device, weights, bandwidth, steps, rows)


# --- likelihood questions against the matmul bound ----------------------------------------------------------

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


__all__ = [
    "BENCH_BATCH_SIZES",
    "BENCH_EXPLANATION",
    "ExamBench",
    "ExamBenchRow",
    "LikelihoodBench",
    "SpeedRow",
    "TwoPasses",
    "matmul_throughput",
    "memory_bandwidth",
    "model_bytes",
    "run_exam_bench",
    "run_likelihood_bench",
]
