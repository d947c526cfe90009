"""The study guide of a player, end to end: their games reviewed through an engine pool, the study and its
drills, and the three files of the guide (``index.html``, ``study.pgn``, ``drills.csv``)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from chessteach.engine import EnginePool
from chessteach.engine.pool import Progress
from chessteach.games.review import review_games
from chessteach.puzzles.puzzle import Puzzle
from chessteach.study.drills import Drill, study_drills, write_drills_csv, write_study_pgn
from chessteach.study.page import write_page
from chessteach.study.player import PlayerGame
from chessteach.study.profile import ConceptRow, PlayerStudy, study_player, weakest
from chessteach.teaching.template import MomentExplainer

logger = logging.getLogger(__name__)

WEAK_CONCEPTS = 5
"""Concepts written up and drilled."""

INDEX, STUDY_PGN, DRILLS_CSV = "index.html", "study.pgn", "drills.csv"


@dataclass
class Guide:
    """A player's study, their weakest concepts and the drills."""

    study: PlayerStudy
    weak: list[ConceptRow]
    drills: list[Drill]


def make_guide(
    player: str,
    games: Sequence[PlayerGame],
    pool: EnginePool,
    puzzles: Sequence[Puzzle],
    *,
    weak_concepts: int = WEAK_CONCEPTS,
    progress: Progress | None = None,
    on_game_done: Callable[[int], None] | None = None,
) -> Guide:
    """Review the player's games (the analysis cache answers for games reviewed before), then profile the player
    and make the drills from their own positions and ``puzzles``."""
    reviews = review_games(
        [g.game for g in games], pool, progress=progress, on_game_done=on_game_done, numbers=[g.number for g in games]
    )
    study = study_player(player, reviews, [g.color for g in games])
    weak = weakest(study.profile, weak_concepts)
    return Guide(study, weak, study_drills(study, weak, puzzles))


def write_guide(
    directory: Path, guide: Guide, *, source: str = "", explainer: MomentExplainer | None = None
) -> dict[str, Path]:
    """Write ``index.html``, ``study.pgn`` and ``drills.csv`` into ``directory``; returns their paths by name."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {name: directory / name for name in (INDEX, STUDY_PGN, DRILLS_CSV)}
    write_page(paths[INDEX], guide.study, guide.weak, guide.drills, source=source, explainer=explainer)
    chapters = write_study_pgn(paths[STUDY_PGN], guide.drills, study_name=f"Study guide: {guide.study.player}")
    if chapters < len(guide.drills):
        logger.info("study.pgn: the first %d of %d drills (a Lichess study's chapters)", chapters, len(guide.drills))
    write_drills_csv(paths[DRILLS_CSV], guide.drills)
    return paths


__all__ = ["DRILLS_CSV", "INDEX", "STUDY_PGN", "Guide", "make_guide", "write_guide"]
