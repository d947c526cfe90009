"""Statistics of exams: the uplift of paired scores with a bootstrap confidence interval.

Each exam puzzle is answered twice, without and with the explanation, so the two scores are paired; the
bootstrap resamples puzzles (both scores of a puzzle together) and takes the percentile interval of the mean
difference.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

BOOTSTRAP_RESAMPLES = 2000
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Interval:
    """A mean difference (``with - without``) and its confidence interval."""

    mean: float
    low: float
    high: float
    confidence: float = CONFIDENCE
    n: int = 0

    def excludes(self, value: float = 0.0) -> bool:
        """Whether ``value`` lies outside the interval."""
        return value < self.low or value > self.high

    def __str__(self) -> str:
        return f"{self.mean:+.3f} [{self.low:+.3f}, {self.high:+.3f}]"


def paired_bootstrap(
    with_scores: Sequence[float],
    without_scores: Sequence[float],
    *,
    resamples: int = BOOTSTRAP_RESAMPLES,
    confidence: float = CONFIDENCE,
    seed: int = 0,
) -> Interval:
    """The mean of ``with - without`` over the pairs, with a paired percentile bootstrap interval.

    NaN pairs (a score the model could not give) are dropped. No pairs give a NaN interval.

    >>> print(paired_bootstrap([1, 1, 1, 1], [0, 0, 0, 0]))
    +1.000 [+1.000, +1.000]
    """
    if len(with_scores) != len(without_scores):
        raise ValueError(f"{len(with_scores)} scores with the explanation but {len(without_scores)} without")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence!r}")
    diffs = np.asarray(with_scores, dtype=float) - np.asarray(without_scores, dtype=float)
    diffs = diffs[~np.isnan(diffs)]
    n = len(diffs)
    if n == 0:
        nan = float("nan")
        return Interval(nan, nan, nan, confidence, 0)
    rng = np.random.default_rng(seed)
    means = np.empty(resamples)
    chunk = max(1, 2_000_000 // n)  # bounded memory for long exams
    for start in range(0, resamples, chunk):
        stop = min(resamples, start + chunk)
        means[start:stop] = diffs[rng.integers(0, n, size=(stop - start, n))].mean(axis=1)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    return Interval(float(diffs.mean()), float(low), float(high), confidence, n)
