"""The concept catalog and the detectors that find concepts on a board, as checkable facts."""

from chessteach.concepts import mates, motifs, registry, tactics
from chessteach.concepts.catalog import (
    CONCEPTS,
    LICHESS_THEMES,
    Concept,
    UnknownConceptError,
    concepts,
    get_concept,
)
from chessteach.concepts.facts import Fact, check_fact, fact_check, fact_kinds
from chessteach.concepts.line import Line
from chessteach.concepts.phase import game_phase
from chessteach.concepts.registry import DETECTORS, Detector, detector, positional_facts, verified_positional_facts

__all__ = [
    "CONCEPTS",
    "DETECTORS",
    "LICHESS_THEMES",
    "Concept",
    "Detector",
    "Fact",
    "Line",
    "UnknownConceptError",
    "check_fact",
    "concepts",
    "detector",
    "fact_check",
    "fact_kinds",
    "game_phase",
    "get_concept",
    "mates",
    "motifs",
    "positional_facts",
    "registry",
    "tactics",
    "verified_positional_facts",
]
