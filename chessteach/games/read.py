"""Reading PGN files game by game; a broken game is reported with its number and headers, the rest go on."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TextIO

import chess
import chess.pgn

logger = logging.getLogger(__name__)


@dataclass
class GameRecord:
    """One game of a PGN file: its 1-based number, the line it starts on, and the game or the error."""

    number: int
    line: int
    game: chess.pgn.Game | None
    error: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        return dict(self.game.headers) if self.game is not None else {}

    @property
    def title(self) -> str:
        h = self.headers
        return f"{h.get('White', '?')} - {h.get('Black', '?')} ({h.get('Event', '?')}, {h.get('Date', '?')})"


def read_games(path: str | os.PathLike[str]) -> Iterator[GameRecord]:
    """Yield every game of a PGN file. A game with an illegal move or a broken tag comes with ``error`` set.

    The errors python-chess records while parsing (illegal or ambiguous moves, bad FEN set-ups) make the
    game's record an error naming the game's number, its line and its headers.
    """
    source = os.fspath(path)
    with open(source, encoding="utf-8-sig", errors="replace") as raw:
        fh = _CountingReader(raw)
        number = 0
        while True:
            line = fh.next_game_line()
            try:
                game = chess.pgn.read_game(fh)  # type: ignore[call-overload]
            except (ValueError, UnicodeDecodeError) as exc:  # damaged beyond what the reader tolerates
                number += 1
                record = GameRecord(number, line, None, f"{source}:{line}: game {number}: unreadable: {exc}")
                logger.warning("%s", record.error)
                yield record
                continue
            if game is None:
                return
            number += 1
            if game.errors:
                first = game.errors[0]
                error = (
                    f"{source}:{line}: game {number} ({_describe(game)}): {first}"
                    + (f" (and {len(game.errors) - 1} more errors)" if len(game.errors) > 1 else "")
                )
                logger.warning("%s", error)
                yield GameRecord(number, line, game, error)
            else:
                yield GameRecord(number, line, game)


def _describe(game: chess.pgn.Game) -> str:
    h = game.headers
    return f"{h.get('White', '?')} - {h.get('Black', '?')}, {h.get('Event', '?')} {h.get('Date', '?')}"


class _CountingReader:
    """A text handle that counts the lines python-chess's reader takes from it (it reads with readline)."""

    def __init__(self, handle: TextIO) -> None:
        self._handle = handle
        self.lines_read = 0
        self._peeked: str | None = None

    def readline(self) -> str:
        line = self._handle.readline()
        if line:
            self.lines_read += 1
        return line

    def next_game_line(self) -> int:
        """The 1-based line where the next game starts (blank lines skipped lazily: approximate by +1)."""
        return self.lines_read + 1
