"""Write-ups of a game's critical moments, composed above the game review.

A :class:`~chessteach.games.review.GameReview` is data only (the engine's verdicts and the checked facts of
each critical moment); this module has a :class:`~chessteach.teaching.template.MomentExplainer` (the grounded
template explainer by default, or a teacher) write each moment up, and returns the write-ups by ply, as plain
data for the report (:func:`chessteach.games.report.write_report`'s ``writeups``).
"""

from __future__ import annotations

from collections.abc import Sequence

from chessteach.games.review import GameReview
from chessteach.teaching.template import MomentExplainer, TemplateExplainer


def moment_writeups(review: GameReview, explainer: MomentExplainer | None = None) -> dict[int, str]:
    """The write-up of each critical moment of a reviewed game, by the ply of its move (``explainer``: the
    grounded template explainer by default)."""
    explainer = explainer or TemplateExplainer()
    return {moment.ply: explainer.explain_moment(moment) for moment in review.moments}


def games_writeups(reviews: Sequence[GameReview], explainer: MomentExplainer | None = None) -> list[dict[int, str]]:
    """The write-ups of every reviewed game's critical moments, one mapping (ply -> text) per review, in order."""
    explainer = explainer or TemplateExplainer()
    return [moment_writeups(review, explainer) for review in reviews]


__all__ = ["games_writeups", "moment_writeups"]
