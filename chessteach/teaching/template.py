"""The grounded template explainer: write-ups built only from engine facts and checked board facts.

It is the default wherever no teacher model is configured. Anything it says is either an engine number
(evaluation, win%, the best line) or the sentence of a :class:`~chessteach.concepts.facts.Fact` that was
checked against the board.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import chess

from chessteach.concepts.facts import Fact
from chessteach.concepts.notation import move_label, move_number, numbered_sans, ply_label
from chessteach.games.moments import Refutation
from chessteach.games.review import MoveReview
from chessteach.puzzles.puzzle import Puzzle
from chessteach.teaching.explain import explain_concept
from chessteach.teaching.sections import Explanation


class MomentExplainer(Protocol):
    """Anything that writes a short explanation of a critical moment of a game (the seam for LLM teachers)."""

    def explain_moment(self, moment: MoveReview) -> str: ...


def _sentences(texts: list[str]) -> str:
    return " ".join(t[:1].upper() + t[1:] for t in texts)


class TemplateExplainer:
    """Fills a fixed structure from the facts: for a game's moment, what happened, the opponent's best reply
    and what it wins (the refutation), what was better, and why (the concepts); for a concept, the four sections of :func:`chessteach.teaching.explain.explain_concept`."""

    max_facts = 3

    def explain_concept(self, concept_id: str, example: Puzzle, *, facts: Sequence[Fact] | None = None) -> Explanation:
        """The template explanation of a concept with an example puzzle (see
        :func:`chessteach.teaching.explain.explain_concept`, which holds the concept logic)."""
        return explain_concept(concept_id, example, facts=facts)

    def explain_moment(self, moment: MoveReview) -> str:
        played = move_label(move_number(moment.move_number, moment.color), moment.san)
        verdict = str(moment.judgment) if moment.judgment else "A turning point"
        parts = [
            f"{played}: {verdict.lower() if moment.judgment else verdict}; the mover's winning chances go from "
            f"{moment.win_before:.0f}% to {moment.win_after:.0f}%."
        ]
        facts = moment.played_facts
        if facts is not None:
            own = [f.text for f in facts.after_move[: self.max_facts]]
            if own:
                parts.append("After it: " + _sentences(own))
            if moment.refutation is not None:
                parts.append(self._refutation(moment, played, moment.refutation))
            elif facts.reply_san and facts.after_reply:
                parts.append(
                    f"The engine's answer {facts.reply_san} punishes it: "
                    + _sentences([f.text for f in facts.after_reply[: self.max_facts]])
                )
        if moment.best_san and moment.best_san != moment.san:
            line = " ".join(moment.best_pv_san[:5])
            better = move_label(move_number(moment.move_number, moment.color), moment.best_san)
            text = f"Better was {better} (line: {line})."
            best = moment.best_facts
            if best is not None and best.all:
                text += " " + _sentences([f.text for f in best.all[: self.max_facts]])
            parts.append(text)
        return " ".join(parts)

    def _refutation(self, moment: MoveReview, played: str, refutation: Refutation) -> str:
        """``After 23. Qd2, Black's best reply is 23... Nxe4 (line: 23... Nxe4 24. Qe2 Nc3), winning a pawn: ...``:
        the engine's line after the move, what it wins and the checked facts along it."""
        side = "Black" if moment.color == chess.WHITE else "White"
        reply = ply_label(moment.ply + 1, refutation.reply_san)
        text = f"After {played}, {side}'s best reply is {reply}"
        if len(refutation.san) > 1:
            text += f" (line: {numbered_sans(moment.ply + 1, refutation.san)})"
        if refutation.wins is not None:
            text += f", {refutation.wins}"
        facts = [f.text for f in refutation.facts[: self.max_facts]]
        return text + (": " + _sentences(facts) if facts else ".")
