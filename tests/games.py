"""Helpers for tests on real games: one game of a PGN file as its own file."""

from __future__ import annotations

from pathlib import Path

import chess.pgn


def extract_game(pgn: Path, number: int, out_dir: Path) -> Path:
    """Game ``number`` (1-based) of ``pgn`` as its own PGN file in ``out_dir``."""
    with open(pgn, encoding="utf-8") as fh:
        for _ in range(number):
            game = chess.pgn.read_game(fh)
    assert game is not None
    path = out_dir / f"{pgn.stem}-{number}.pgn"
    path.write_text(str(game) + "\n\n", encoding="utf-8")
    return path
