"""The study guide of one player: their games reviewed by the engine, the concepts they keep missing, write-ups
with their own positions, and drills (``chessteach study``).

:mod:`~chessteach.study.player` picks the player's games out of a PGN file, :mod:`~chessteach.study.profile`
finds their errors and the concept profile, :mod:`~chessteach.study.drills` makes the drills (their own
critical positions and puzzles of the same concepts) and writes them as a PGN study and a Lichess CSV, and
:mod:`~chessteach.study.page` writes the guide as one self-contained HTML page.
"""
