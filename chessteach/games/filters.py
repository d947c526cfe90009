"""Filters on a game's PGN headers only (time control, ratings, players, result), cheap checks made before any
engine work: ``GameFilter(...).matches(headers)``, or ``read_games(path, only=GameFilter(...))``, which passes over
the games it drops before their moves are parsed. Lichess's speed categories come from the estimated duration
``base + 40 * increment`` seconds of the ``TimeControl`` header (:func:`speed`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from chessteach.errors import UsageError

SPEEDS: dict[str, tuple[int, int | None]] = {
    "ultrabullet": (0, 29),
    "bullet": (30, 179),
    "blitz": (180, 479),
    "rapid": (480, 1499),
    "classical": (1500, None),
}
"""Lichess's speed categories by estimated duration in seconds (ends included; classical has no upper end)."""

RESULTS = ("1-0", "0-1", "1/2-1/2", "*")
"""The results of the PGN standard."""


class GameFilterError(UsageError, ValueError):
    """A game filter's value cannot be used (an unknown time control, result, ...)."""


def time_control(header: str) -> tuple[int, int] | None:
    """The base seconds and increment of a ``TimeControl`` header such as ``300+3`` (``600`` has no increment);
    None for ``-`` (correspondence), ``?`` or anything else.

    >>> time_control("300+3"), time_control("600"), time_control("-"), time_control("40/7200:3600")
    ((300, 3), (600, 0), None, None)
    """
    base, plus, increment = header.strip().partition("+")
    if not base.isdigit() or (plus and not increment.isdigit()):
        return None
    return int(base), int(increment) if plus else 0


def speed(header: str) -> str | None:
    """Lichess's speed category of a ``TimeControl`` header, by its estimated duration base + 40 * increment.

    >>> speed("60+0"), speed("180+2"), speed("300+3"), speed("900+10"), speed("1800+0"), speed("-")
    ('bullet', 'blitz', 'blitz', 'rapid', 'classical', None)
    """
    parsed = time_control(header)
    if parsed is None:
        return None
    duration = parsed[0] + 40 * parsed[1]
    for name, (low, high) in SPEEDS.items():
        if duration >= low and (high is None or duration <= high):
            return name
    return None  # pragma: no cover - the categories cover every duration


def _elo(headers: Mapping[str, str], side: str) -> int | None:
    value = headers.get(f"{side}Elo", "").strip()
    return int(value) if value.isdigit() else None


@dataclass(frozen=True)
class GameFilter:
    """Which games to keep, by their headers: Lichess speed categories (any of ``speeds``), a range of base
    seconds (ends included), a minimum rating both players must have (``WhiteElo``/``BlackElo``), players (any
    part of either name, case-insensitive, any of ``players``) and results (any of ``results``). A game without
    the header a filter asks about does not match it. The empty filter keeps every game.

    >>> blitz = GameFilter(speeds=("blitz",), min_elo=2000)
    >>> blitz.matches({"TimeControl": "180+2", "WhiteElo": "2100", "BlackElo": "2050"})
    True
    >>> blitz.matches({"TimeControl": "180+2", "WhiteElo": "2100", "BlackElo": "1950"})
    False
    >>> GameFilter(players=("carls",)).matches({"White": "Carlsen, Magnus", "Black": "Nepo"})
    True
    """

    speeds: tuple[str, ...] = ()
    min_base: int | None = None
    max_base: int | None = None
    min_elo: int | None = None
    players: tuple[str, ...] = ()
    results: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        """Whether the filter drops anything at all."""
        return self != GameFilter()

    def matches(self, headers: Mapping[str, str]) -> bool:
        """Whether a game with these headers passes every filter set."""
        if self.speeds or self.min_base is not None or self.max_base is not None:
            header = headers.get("TimeControl", "")
            if self.speeds and speed(header) not in self.speeds:
                return False
            parsed = time_control(header)
            if self.min_base is not None and (parsed is None or parsed[0] < self.min_base):
                return False
            if self.max_base is not None and (parsed is None or parsed[0] > self.max_base):
                return False
        if self.min_elo is not None:
            for side in ("White", "Black"):
                elo = _elo(headers, side)
                if elo is None or elo < self.min_elo:
                    return False
        if self.players:
            names = (headers.get("White", "").casefold(), headers.get("Black", "").casefold())
            if not any(player.casefold() in name for player in self.players for name in names):
                return False
        return not self.results or headers.get("Result", "").strip() in self.results


def game_filter(
    time_controls: Sequence[str] = (),
    min_elo: int | None = None,
    players: Sequence[str] = (),
    results: Sequence[str] = (),
) -> GameFilter:
    """A :class:`GameFilter` from a command line's values; a bad value raises :class:`GameFilterError`.

    A time control is a speed category (``bullet``, ``blitz``, ...) or a range of base seconds ``LOW-HIGH``
    (either end open: ``300-``, ``-600``).

    >>> game_filter(time_controls=["blitz"], results=["1-0"])
    GameFilter(speeds=('blitz',), min_base=None, max_base=None, min_elo=None, players=(), results=('1-0',))
    >>> game_filter(time_controls=["300-900"]).min_base, game_filter(time_controls=["300-900"]).max_base
    (300, 900)
    >>> game_filter(results=["1:0"])
    Traceback (most recent call last):
    ...
    chessteach.games.filters.GameFilterError: '1:0' is not a result (1-0, 0-1, 1/2-1/2 or *)
    """
    speeds: list[str] = []
    min_base: int | None = None
    max_base: int | None = None
    for value in time_controls:
        name = value.strip().casefold()
        if name in SPEEDS:
            speeds.append(name)
            continue
        low, dash, high = name.partition("-")
        try:
            if not dash or not (low or high):
                raise ValueError(value)
            min_base = int(low) if low else None
            max_base = int(high) if high else None
        except ValueError:
            raise GameFilterError(
                f"{value!r} is not a time control ({', '.join(SPEEDS)}, or base seconds LOW-HIGH such as 180-600)"
            ) from None
        if min_base is not None and max_base is not None and min_base > max_base:
            raise GameFilterError(f"{value!r} is not a range of base seconds with LOW <= HIGH")
    for result in results:
        if result.strip() not in RESULTS:
            raise GameFilterError(f"{result!r} is not a result ({', '.join(RESULTS[:-1])} or *)")
    if min_elo is not None and min_elo < 0:
        raise GameFilterError(f"--min-elo {min_elo} is negative")
    return GameFilter(tuple(speeds), min_base, max_base, min_elo, tuple(p for p in players if p.strip()),
                      tuple(r.strip() for r in results))
