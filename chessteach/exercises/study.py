"""How the exercise set depends on its margins: one mining run at the loosest margins, studied at stricter ones.

A run of :func:`~chessteach.exercises.mine.mine_exercises` keeps every position searched at the full node count
as a :class:`~chessteach.exercises.mine.Trial`, and re-verifies those selected at its own margin. Any stricter
pair (margin, selection buffer) picks a subset of those trials, so its count, stability and concepts follow
without another search. (Distractors are left out: they are searched for the exercises of the run's margin.)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from chessteach.exercises.mine import Trial


@dataclass(frozen=True)
class MarginRow:
    """The exercise set one (margin, selection buffer) pair gives."""

    margin: float
    buffer: float
    selected: int
    stable: int
    concepts: Counter[str]

    @property
    def stability(self) -> float:
        return self.stable / self.selected if self.selected else 1.0

    def concepts_with(self, at_least: int) -> int:
        """How many concepts tag at least ``at_least`` stable exercises."""
        return sum(1 for count in self.concepts.values() if count >= at_least)


def margin_study(
    trials: Sequence[Trial], margins: Iterable[float], buffers: Iterable[float], *, run_margin: float,
    run_buffer: float,
) -> list[MarginRow]:
    """One row per (margin, buffer) pair that the run can answer: ``margin + buffer`` at least the run's
    selection margin (``run_margin + run_buffer``) and ``margin`` at least ``run_margin``."""
    rows = []
    floor = run_margin + run_buffer - 1e-9
    for margin in margins:
        for buffer in buffers:
            if margin + buffer < floor or margin < run_margin - 1e-9:
                continue
            selected = [t for t in trials if t.margin >= margin + buffer]
            stable = [t for t in selected if t.stable(margin)]
            concepts = Counter(c for t in stable for c in t.concepts)
            rows.append(MarginRow(margin, buffer, len(selected), len(stable), concepts))
    return rows


__all__ = ["MarginRow", "margin_study"]
