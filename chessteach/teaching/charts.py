"""Charts of exam results (matplotlib, drawn off screen and saved as PNG)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from chessteach.teaching.stats import CONFIDENCE


def plot_profile(profile: pd.DataFrame, path: str | os.PathLike[str], *, by: str = "concept", title: str = "") -> Path:
    """A bar chart of a profile (:func:`~chessteach.teaching.results.concept_profile`): accuracy without and with the explanation per row,
    and the uplift with its interval; saved as PNG."""
    from matplotlib.figure import Figure

    labels = [str(x) for x in profile[by]]
    xs = list(range(len(labels)))
    width = 0.38
    fig = Figure(figsize=(max(5.0, 1.2 * len(labels) + 2), 6.5), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    top.bar([x - width / 2 for x in xs], profile["accuracy_without"], width, label="without", color="#9aa5b1")
    top.bar([x + width / 2 for x in xs], profile["accuracy_with"], width, label="with explanation", color="#3b8fd4")
    top.set_ylim(0, 1)
    top.set_ylabel("accuracy")
    top.legend(loc="upper right", fontsize="small")
    top.set_title(title or f"student accuracy by {by.replace('_', ' ')}")
    uplift = profile["uplift"].astype(float)
    errors = [(uplift - profile["ci_low"]).clip(lower=0), (profile["ci_high"] - uplift).clip(lower=0)]
    colors = [
        "#2e8b57" if low > 0 else "#c0392b" if high < 0 else "#b0b0b0"
        for low, high in zip(profile["ci_low"], profile["ci_high"], strict=True)
    ]
    bottom.bar(xs, uplift, 0.6, yerr=errors, capsize=4, color=colors)
    bottom.axhline(0, color="black", linewidth=0.8)
    bottom.set_ylabel(f"uplift ({int(CONFIDENCE * 100)}% CI)")
    bottom.set_xticks(xs, labels, rotation=30 if len(labels) > 4 else 0, ha="right" if len(labels) > 4 else "center")
    for x, n in zip(xs, profile["n"], strict=True):
        bottom.annotate(f"n={n}", (x, 0), textcoords="offset points", xytext=(0, -26), ha="center", fontsize="x-small")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png", dpi=110)
    return out


__all__ = ["plot_profile"]
