"""The games of one player in a PGN file: names matched case-insensitively on any part, aliases, duplicates
dropped, and a name that matches nothing answered with the close names in the file.

>>> from chessteach.data import bundled
>>> games = player_games(bundled("games", "candidates-2022-sample.pgn"), "nepo")
>>> [(g.number, chess.COLOR_NAMES[g.color]) for g in games]
[(1, 'black'), (2, 'white')]
>>> games[0].name
'Nepomniachtchi, Ian'
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import chess
import chess.pgn

from chessteach.errors import BadRecordError, UsageError
from chessteach.games.read import GameRecord, read_games

CLOSE_NAMES = 5
"""How many close names an unknown player's error lists at most."""


class UnknownPlayerError(UsageError):
    """No game of the file has a White or Black name containing the player's name (or an alias). The message
    lists the close names the file has."""


@dataclass(frozen=True)
class PlayerGame:
    """A game of the player: its record number in the file, the game, and the colour the player had."""

    number: int
    game: chess.pgn.Game
    color: chess.Color

    @property
    def name(self) -> str:
        """The player's name as this game spells it."""
        return self.game.headers.get("White" if self.color == chess.WHITE else "Black", "?")

    @property
    def opponent(self) -> str:
        return self.game.headers.get("Black" if self.color == chess.WHITE else "White", "?")


def plays(headers: dict[str, str] | chess.pgn.Headers, names: Sequence[str]) -> chess.Color | None:
    """The colour of the player in a game, matching each of ``names`` case-insensitively on any part of the
    White then the Black name; None when neither matches.

    >>> plays({"White": "Carlsen, Magnus", "Black": "Nakamura, Hikaru"}, ["hikaru"])
    False
    """
    needles = [n.casefold() for n in names if n.strip()]
    for color, tag in ((chess.WHITE, "White"), (chess.BLACK, "Black")):
        name = headers.get(tag, "").casefold()
        if any(needle in name for needle in needles):
            return color
    return None


def _identity(game: chess.pgn.Game) -> tuple[str, ...]:
    """What makes two games the same game: the players, the date, the start position and the moves."""
    h = game.headers
    moves = " ".join(m.uci() for m in game.mainline_moves())
    return (h.get("White", "").casefold(), h.get("Black", "").casefold(), h.get("Date", ""),
            game.board().fen(), moves)


def select_games(records: Iterable[GameRecord], names: Sequence[str], *, source: str = "") -> list[PlayerGame]:
    """The readable games in which one of ``names`` plays, a duplicate of an earlier one dropped; raises
    :class:`UnknownPlayerError` listing the close names of the file when there is none."""
    found: list[PlayerGame] = []
    seen: set[tuple[str, ...]] = set()
    everyone: list[str] = []
    for record in records:
        if record.game is None or record.error is not None:
            continue
        headers = record.game.headers
        everyone += [headers.get("White", ""), headers.get("Black", "")]
        color = plays(headers, names)
        if color is None:
            continue
        identity = _identity(record.game)
        if identity in seen:
            continue
        seen.add(identity)
        found.append(PlayerGame(record.number, record.game, color))
    if not found:
        raise UnknownPlayerError(_unknown_message(names, everyone, source))
    return found


def _unknown_message(names: Sequence[str], everyone: Sequence[str], source: str) -> str:
    asked = " or ".join(repr(n) for n in names)
    where = f"{source}: " if source else ""
    players = list(dict.fromkeys(n for n in everyone if n.strip()))
    if not players:
        return f"{where}no player matches {asked}: the file has no readable game"
    # compare with each name and with each of its words ("Nepomniachtchi, Ian": also "nepomniachtchi" and "ian")
    keys: dict[str, str] = {}
    for player in players:
        for key in [player, *player.replace(",", " ").split()]:
            keys.setdefault(key.casefold(), player)
    close: list[str] = []
    for name in names:
        for key in difflib.get_close_matches(name.casefold(), list(keys), n=CLOSE_NAMES * 2, cutoff=0.5):
            if keys[key] not in close:
                close.append(keys[key])
    hint = f"close names: {'; '.join(close[:CLOSE_NAMES])}" if close else f"{len(players)} players, e.g. " + (
        "; ".join(players[:CLOSE_NAMES]))
    return f"{where}no player matches {asked}; {hint}"


def player_games(path: str | os.PathLike[str], player: str, aliases: Sequence[str] = ()) -> list[PlayerGame]:
    """The games of ``player`` (or one of ``aliases``) in a PGN file (see :func:`select_games`); a file that
    cannot be read raises :class:`UsageError` naming it."""
    try:
        records = list(read_games(path))
    except (OSError, BadRecordError) as exc:
        raise UsageError(f"{path}: cannot read: {exc}") from None
    return select_games(records, [player, *aliases], source=str(path))


__all__ = ["PlayerGame", "UnknownPlayerError", "plays", "player_games", "select_games"]
