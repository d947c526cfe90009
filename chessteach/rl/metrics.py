"""Training metrics of a GRPO run: one CSV row per logged step and a training-curve PNG, both in the output dir.

:class:`MetricsCallback` (a transformers ``TrainerCallback``) writes ``metrics.csv`` and ``training_curve.png``
each time the trainer logs: TRL's own metrics (``reward``, ``rewards/<name>/mean`` for each reward part,
``completions/mean_length``, ``kl``, ...), the reward functions' extra metrics (``exam/accuracy_with``,
``exam/accuracy_without``, ``exam/leaked``, ``exam/p_with``, ``exam/p_without``, ``exam/degraded``,
``truthfulness/false_claims``) and the timings: TRL's ``step_time``; :class:`~chessteach.rl.timing.StepClock`'s
``timing/generation_s``, ``timing/reward_s``, ``timing/generation_tokens_per_s``, their CPU seconds
``timing/generation_cpu_s`` and ``timing/reward_cpu_s``, and their bounds (``timing/*_bound_s``,
``timing/matmul_gflops``); and ``timing/cpu_s``, this process's CPU seconds since the previous log, all threads.
A resumed run keeps the rows up to its checkpoint and replaces any later ones.
"""

from __future__ import annotations

import logging
import math
import os
import time
from pathlib import Path
from typing import Any

import pandas as pd
from transformers import TrainerCallback

logger = logging.getLogger(__name__)

METRICS_CSV = "metrics.csv"
CURVE_PNG = "training_curve.png"

CURVE_PANELS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "reward",
        (
            "reward",
            "reward_std",
            "rewards/teachability/mean",
            "rewards/solution_logprob/mean",
            "rewards/solution_probability/mean",
        ),
    ),
    (
        "exam",
        (
            "exam/accuracy_with",
            "exam/accuracy_without",
            "exam/leaked",
            "exam/p_with",
            "exam/p_without",
            "exam/degraded",
        ),
    ),
    ("text", ("rewards/truthfulness/mean", "rewards/format/mean", "rewards/length/mean")),
    ("completion length (tokens)", ("completions/mean_length", "completions/max_length")),
)
"""The panels of the training curve: a title and the columns drawn in it (missing columns are skipped)."""


def read_metrics(path: str | os.PathLike[str]) -> pd.DataFrame:
    """A run's ``metrics.csv`` (a directory is read as its ``metrics.csv``)."""
    path = Path(path)
    if path.is_dir():
        path = path / METRICS_CSV
    return pd.read_csv(path)


def plot_curve(frame: pd.DataFrame, path: str | os.PathLike[str], *, title: str = "GRPO on the teacher") -> Path:
    """The training curve: one panel per :data:`CURVE_PANELS` entry against the step; saved as PNG."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 7.5), layout="constrained")
    axes = fig.subplots(2, 2, sharex=True).ravel()
    steps = frame["step"] if "step" in frame else pd.Series(range(1, len(frame) + 1))
    for ax, (name, columns) in zip(axes, CURVE_PANELS, strict=True):
        drawn = False
        for column in columns:
            if column in frame and frame[column].notna().any():
                ax.plot(steps, frame[column], marker="o", markersize=3, linewidth=1.2, label=column)
                drawn = True
        ax.set_title(name, fontsize="medium")
        ax.grid(alpha=0.3)
        if drawn:
            ax.legend(fontsize="x-small", loc="best")
    for ax in axes[2:]:
        ax.set_xlabel("step")
    fig.suptitle(title)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png", dpi=100)
    return out


class MetricsCallback(TrainerCallback):
    """Writes ``metrics.csv`` and ``training_curve.png`` into ``output_dir`` at every log (main process only)."""

    def __init__(self, output_dir: str | os.PathLike[str], *, plot: bool = True) -> None:
        self.output_dir = Path(output_dir)
        self.plot = plot
        self.rows: list[dict[str, Any]] = []
        self._cpu = time.process_time()
        csv = self.output_dir / METRICS_CSV
        if csv.is_file():
            try:
                self.rows = read_metrics(csv).to_dict("records")
            except (OSError, ValueError, pd.errors.ParserError) as exc:
                logger.warning("cannot read the metrics of the earlier run in %s: %s", csv, exc)

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._cpu = time.process_time()

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        if not state.is_world_process_zero or not logs:
            return
        if "train_runtime" in logs:  # the summary at the end of training, not a step
            return
        cpu, self._cpu = time.process_time() - self._cpu, time.process_time()
        row: dict[str, Any] = {"step": state.global_step, "epoch": state.epoch, "timing/cpu_s": cpu}
        # a metric with no value this step (a reward that returned None for every completion) is kept as NaN
        row.update(
            {k: math.nan if v is None else v for k, v in logs.items() if v is None or isinstance(v, int | float)}
        )
        self.rows = [r for r in self.rows if r.get("step", math.inf) < row["step"]] + [row]
        self.write()

    def write(self) -> None:
        """Write the CSV (and the PNG) of the rows so far."""
        if not self.rows:
            return
        frame = pd.DataFrame(self.rows).sort_values("step")
        self.output_dir.mkdir(parents=True, exist_ok=True)
        frame.to_csv(self.output_dir / METRICS_CSV, index=False)
        if self.plot:
            plot_curve(frame, self.output_dir / CURVE_PNG)


__all__ = ["CURVE_PANELS", "CURVE_PNG", "METRICS_CSV", "MetricsCallback", "plot_curve", "read_metrics"]
