"""The data the package ships: the engine's default settings, sample games, tournament games and puzzle sets.

Every default path of the CLI resolves through :func:`bundled`, so an installed wheel finds its data wherever it
is installed (never the source tree).

>>> bundled("games", "candidates-madrid-2022.pgn").is_file()
True
>>> sorted(p.name for p in tournament_games())
['candidates-madrid-2022.pgn', 'candidates-zurich-1953.pgn', 'norway-chess-2022-classical.pgn']
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

TOURNAMENTS = ("candidates-zurich-1953.pgn", "candidates-madrid-2022.pgn", "norway-chess-2022-classical.pgn")
"""The three tournaments bundled in full (311 games): see ``chessteach/data/games/README.md``."""


def bundled(*parts: str) -> Path:
    """The path of a file shipped in ``chessteach/data`` (``bundled("games", "x.pgn")``)."""
    return Path(str(resources.files("chessteach.data").joinpath(*parts)))


def tournament_games() -> list[Path]:
    """The bundled tournament PGNs, in a fixed order (Zurich 1953, Madrid 2022, Norway 2022)."""
    return [bundled("games", name) for name in TOURNAMENTS]
