"""The concept catalog: Lichess themes spelled as Lichess spells them, positional concepts, lookups."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from chessteach.concepts import fact_kinds
from chessteach.concepts.catalog import (
    CONCEPTS,
    LICHESS_THEMES,
    POSITIONAL,
    THEME,
    Concept,
    UnknownConceptError,
    close_matches,
    concepts,
    get_concept,
)
from chessteach.concepts.registry import DETECTORS, POSITIONAL_DETECTORS

# The puzzle themes as Lichess spells them (the list of the task brief; the real data is checked below).
LICHESS_THEME_NAMES = [
    "mate",
    "mateIn1",
    "mateIn2",
    "mateIn3",
    "mateIn4",
    "mateIn5",
    "backRankMate",
    "smotheredMate",
    "anastasiaMate",
    "hookMate",
    "arabianMate",
    "bodenMate",
    "doubleBishopMate",
    "dovetailMate",
    "cornerMate",
    "epauletteMate",
    "operaMate",
    "pillsburysMate",
    "morphysMate",
    "swallowstailMate",
    "vukovicMate",
    "killBoxMate",
    "triangleMate",
    "balestraMate",
    "blindSwineMate",
    "fork",
    "pin",
    "skewer",
    "discoveredAttack",
    "discoveredCheck",
    "doubleCheck",
    "xRayAttack",
    "hangingPiece",
    "trappedPiece",
    "sacrifice",
    "deflection",
    "attraction",
    "clearance",
    "interference",
    "intermezzo",
    "capturingDefender",
    "exposedKing",
    "attackingF2F7",
    "kingsideAttack",
    "queensideAttack",
    "quietMove",
    "defensiveMove",
    "advancedPawn",
    "promotion",
    "underPromotion",
    "enPassant",
    "castling",
    "zugzwang",
    "oneMove",
    "short",
    "long",
    "veryLong",
    "advantage",
    "crushing",
    "equality",
    "opening",
    "middlegame",
    "endgame",
    "pawnEndgame",
    "rookEndgame",
    "bishopEndgame",
    "knightEndgame",
    "queenEndgame",
    "queenRookEndgame",
    "master",
    "masterVsMaster",
    "superGM",
]

POSITIONAL_IDS = [
    "isolatedPawn",
    "doubledPawns",
    "backwardPawn",
    "passedPawn",
    "pawnIslands",
    "openFile",
    "halfOpenFile",
    "outpost",
    "bishopPair",
    "kingSafety",
    "pieceActivity",
    "space",
    "weakSquares",
    "overloadedDefender",
]


@pytest.mark.parametrize("theme", LICHESS_THEME_NAMES)
def test_every_lichess_theme_is_in_the_catalog_with_a_definition(theme: str) -> None:
    concept = get_concept(theme)
    assert concept.id == theme
    assert concept.family == THEME
    assert concept.name.strip()
    assert len(concept.definition.split()) >= 6, concept.definition
    assert concept.how_to_spot.strip() and concept.common_mistakes.strip()


def test_the_theme_family_is_exactly_the_lichess_themes() -> None:
    assert sorted(LICHESS_THEMES) == sorted(LICHESS_THEME_NAMES)
    assert [c.id for c in concepts(THEME)] == list(LICHESS_THEMES)


def test_every_theme_of_the_real_lichess_data_is_in_the_catalog(lichess_csv: Path) -> None:
    with open(lichess_csv, newline="") as fh:
        seen = {theme for row in csv.DictReader(fh) for theme in row["Themes"].split()}
    assert len(seen) > 40
    assert seen <= set(CONCEPTS), sorted(seen - set(CONCEPTS))


def test_positional_concepts_have_detectors_and_checkable_fact_kinds() -> None:
    positional = concepts(POSITIONAL)
    assert [c.id for c in positional] == POSITIONAL_IDS
    assert list(POSITIONAL_DETECTORS) == POSITIONAL_IDS
    known_kinds = set(fact_kinds())
    for concept in positional:
        assert DETECTORS[concept.id].kinds, concept.id
        assert set(DETECTORS[concept.id].kinds) <= known_kinds, concept.id
        assert not concept.needs_engine and not concept.from_titles


def test_ids_and_names_are_unique_and_keys_match() -> None:
    assert all(key == concept.id for key, concept in CONCEPTS.items())
    names = [c.name for c in CONCEPTS.values()]
    assert len(names) == len(set(names))
    assert len(CONCEPTS) == len(LICHESS_THEME_NAMES) + len(POSITIONAL_IDS)
    definitions = [c.definition for c in CONCEPTS.values()]
    assert len(definitions) == len(set(definitions))


def test_family_counts_and_subfamilies() -> None:
    assert len(concepts(THEME)) == 72
    assert len(concepts(POSITIONAL)) == 14
    assert [c.id for c in concepts(THEME, subfamily="length")] == ["oneMove", "short", "long", "veryLong"]
    assert {c.id for c in concepts(subfamily="title")} == {"master", "masterVsMaster", "superGM"}
    assert all(c.from_titles for c in concepts(subfamily="title"))
    assert sum(c.from_titles for c in CONCEPTS.values()) == 3
    assert len(concepts(THEME, subfamily="mate")) == 25
    assert len(concepts()) == len(CONCEPTS)


def test_engine_only_themes_are_marked() -> None:
    assert {c.id for c in CONCEPTS.values() if c.needs_engine} == {
        "advantage",
        "crushing",
        "equality",
        "defensiveMove",
        "zugzwang",
    }


@pytest.mark.parametrize(
    ("unknown", "suggestion"),
    [("forks", "fork"), ("backrankmate", "backRankMate"), ("mateIn6", "mateIn1"), ("isolatedPawns", "isolatedPawn")],
)
def test_unknown_ids_raise_with_suggestions(unknown: str, suggestion: str) -> None:
    with pytest.raises(UnknownConceptError) as info:
        get_concept(unknown)
    assert suggestion in info.value.suggestions
    assert suggestion in str(info.value) and repr(unknown) in str(info.value)


def test_unknown_concept_error_is_a_key_error_and_a_value_error() -> None:
    with pytest.raises(KeyError):
        get_concept("zwischenzug")
    with pytest.raises(ValueError, match="unknown concept 'zwischenzug'"):
        get_concept("zwischenzug")


def test_close_matches_is_case_insensitive() -> None:
    assert close_matches("MATEIN2")[0] == "mateIn2"
    assert close_matches("xrayattack")[0] == "xRayAttack"


def test_unknown_family_or_subfamily_raises() -> None:
    with pytest.raises(ValueError, match="families: theme, positional"):
        concepts("tactics")
    with pytest.raises(ValueError, match="subfamilies"):
        concepts(THEME, subfamily="pawns")


def test_concept_is_frozen_and_validated() -> None:
    concept = get_concept("pin")
    with pytest.raises(AttributeError):
        concept.name = "Pinned"  # type: ignore[misc]
    with pytest.raises(ValueError, match="unknown family"):
        Concept("x", "X", "tactic", "motif", "A definition.")
    with pytest.raises(ValueError, match="no definition"):
        Concept("x", "X", THEME, "motif", "  ")
