"""The concept registry: one detector per concept, every fact kind checkable, and the detectors that tagging,
explaining and reviewing ask about agree."""

from __future__ import annotations

import chess
import pytest

from chessteach.concepts import CONCEPTS, fact_kinds
from chessteach.concepts.catalog import POSITIONAL, UnknownConceptError
from chessteach.concepts.line import Line
from chessteach.concepts.registry import DETECTORS, POSITIONAL_DETECTORS, detector, move_facts
from chessteach.puzzles.tag import MATE_THEMES, MOTIF_THEMES


def test_every_detector_is_a_catalog_concept_and_every_kind_has_a_checker() -> None:
    assert set(DETECTORS) <= set(CONCEPTS)
    known = set(fact_kinds())
    for concept_id, entry in DETECTORS.items():
        assert entry.concept == concept_id
        assert set(entry.kinds) <= known, concept_id
        assert entry.line or entry.board or entry.facts, concept_id


def test_the_tagger_asks_the_registry_for_every_mate_and_motif_theme() -> None:
    assert all(DETECTORS[theme].line is not None for theme in (*MATE_THEMES, *MOTIF_THEMES))


def test_positional_concepts_have_board_detectors_in_catalog_order() -> None:
    assert list(POSITIONAL_DETECTORS) == [c.id for c in CONCEPTS.values() if c.family == POSITIONAL]


def test_a_concept_without_detector_gets_an_empty_one_and_an_unknown_id_raises() -> None:
    line = Line.from_moves(chess.Board(), [chess.Move.from_uci("e2e4")], setup=False)
    assert detector("short").line_facts(line) == [] and not detector("short").finds(line)
    with pytest.raises(UnknownConceptError):
        detector("forkk")


def test_discovered_attack_shows_the_discovered_check_its_tag_rests_on() -> None:
    # Bishop moves off the e-file and uncovers the rook's check on the king.
    board = chess.Board("4k3/8/8/8/8/8/4B3/4R1K1 w - - 0 1")
    line = Line.from_moves(board, [chess.Move.from_uci("e2a6")], setup=False)
    facts = detector("discoveredAttack").line_facts(line)
    assert detector("discoveredAttack").finds(line) and [f.kind for f in facts] == ["discovered_check"]
    assert facts == detector("discoveredCheck").line_facts(line)


def test_move_facts_name_the_concepts_without_move_detector() -> None:
    board = chess.Board()
    with pytest.raises(ValueError, match="sacrifice"):
        move_facts(board, chess.Move.from_uci("e2e4"), ["sacrifice"])
