"""The concept catalog and the detectors that find concepts on a board, as checkable facts."""

from chessteach.concepts.facts import Fact, check_fact, fact_check, fact_kinds

__all__ = ["Fact", "check_fact", "fact_check", "fact_kinds"]
