"""Reading PGN files game by game; a damaged game is reported with its number, line and headers, the rest go on.

The file is cut into games at their tag sections (a block of lines after a blank line with a ``[Tag "..."]``
line in it, or a tag line right after a result), so one damaged game cannot take the games around it with it.
Each game is decoded on its own (UTF-8; else cp1252, else latin-1, as older chess databases write, with a
warning naming the file) and parsed by python-chess. A game comes with ``error`` set when:

- python-chess records an error on it (an illegal or ambiguous move, a bad FEN set-up) or raises on it;
- a tag line is broken (python-chess would drop it, or end the tags there and read the rest as a second game),
  or a tag is repeated (two games' tags with no moves between);
- its movetext holds text python-chess would skip without a word (a move cut in half: ``Nf``), a comment
  that is never closed, or a blank line with more moves after it, or it lacks the result its Result tag
  names (the file was cut off);
- it has no moves, or is binary data.

>>> import tempfile, pathlib
>>> folder = tempfile.TemporaryDirectory()
>>> path = pathlib.Path(folder.name) / "two.pgn"
>>> _ = path.write_text('[White "A"]\\n\\n1. e4 e5 2. Nf3 1-0\\n\\n[White "B"]\\n\\n1. d4 d5 2. Nf\\n')
>>> [(r.number, r.line, r.error is None) for r in read_games(path)]
[(1, 1, True), (2, 5, False)]
>>> folder.cleanup()
"""

from __future__ import annotations

import functools
import io
import logging
import os
import re
from collections.abc import Callable, Container, Iterator, Mapping
from dataclasses import dataclass, field
from typing import BinaryIO, Protocol

import chess
import chess.pgn

from chessteach.engine import EngineInput, line_inputs
from chessteach.inputs import input_name, open_input

logger = logging.getLogger(__name__)

ENCODINGS = ("utf-8", "cp1252", "latin-1")
"""The encodings a game is tried in, in order (latin-1 decodes any byte, so it is the last resort)."""

_BOM = b"\xef\xbb\xbf"
_TAG_START = re.compile(rb'^\[([A-Za-z0-9][A-Za-z0-9_+#=:-]*)\s+"')
_ENDS_IN_RESULT = re.compile(rb"(?:^|\s)(?:1-0|0-1|1/2-1/2|\*)\s*$")
_RESULTS = ("1-0", "0-1", "1/2-1/2", "*")
_MOVE_NUMBER = re.compile(r"\d+\s*\.+|\.+")
_WORDLIKE = re.compile(r"[A-Za-z0-9]")
"""Text between python-chess's tokens with a letter or digit in it was meant as a move, a result or a NAG."""


@dataclass
class GameRecord:
    """One game of a PGN file: its 1-based number, the line it starts on, and the game or the error.

    ``game`` is None only when python-chess could not parse the game at all; ``tags`` then holds the tags read
    from its tag lines. ``encoding`` is the one its text was decoded with.
    """

    number: int
    line: int
    game: chess.pgn.Game | None
    error: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    encoding: str = "utf-8"

    @property
    def headers(self) -> dict[str, str]:
        return dict(self.game.headers) if self.game is not None else dict(self.tags)

    @property
    def title(self) -> str:
        h = self.headers
        return f"{h.get('White', '?')} - {h.get('Black', '?')} ({h.get('Event', '?')}, {h.get('Date', '?')})"


class HeaderFilter(Protocol):
    """What :func:`read_games` asks of ``only``: whether a game's headers pass
    (:class:`~chessteach.games.filters.GameFilter` is one)."""

    def matches(self, headers: Mapping[str, str]) -> bool: ...


def read_games(
    path: str | os.PathLike[str], *, only: HeaderFilter | None = None, numbers: Container[int] | None = None
) -> Iterator[GameRecord]:
    """Yield every game of a PGN file, the damaged ones with ``error`` set (see the module doc).

    Each error names the file, the line the game starts on, the game's number and its headers, and says what
    is wrong. Reading never raises on a game's content; only opening the file can (``OSError``), or damaged
    zstd data (:class:`~chessteach.errors.InputError`, after the games before it). ``path`` may be ``-``
    (standard input) or zstd-compressed (:func:`~chessteach.inputs.open_input`); the file is read a game at a
    time.

    ``only`` and ``numbers`` choose games at their headers: a game whose number is not in ``numbers`` or whose
    headers ``only`` does not match (the headers python-chess gives the game: its tags over the Seven Tag
    Roster's defaults) is passed over before its moves are parsed or checked, keeping its number; the games that
    come out are those of ``only.matches(record.headers)`` on every record. (A game without a Result tag, or
    with ``*``, is parsed first: python-chess takes its result from the movetext.)
    """
    source = input_name(path)
    number = 0
    legacy = 0
    with open_input(path) as fh:
        for first_line, lines in _chunks(fh):
            text, encoding = _decode(b"".join(lines))
            for pending in _parse_chunk(text, first_line):
                number += 1
                if encoding != "utf-8":
                    legacy += 1
                    log = logger.warning if legacy == 1 else logger.debug
                    log("%s:%d: game %d is not UTF-8: read as %s", source, pending.line, number, encoding)
                if numbers is not None and number not in numbers:
                    continue
                # python-chess fills a Result tag that is missing or "*" from the movetext: then the moves decide
                settled = pending.tags.get("Result", "*") != "*"
                if only is not None and settled and not only.matches(pending.headers):
                    continue
                game, problems = pending.parse()
                record = GameRecord(number, pending.line, game, None, pending.tags, encoding)
                if only is not None and (game is None or not settled) and not only.matches(record.headers):
                    continue  # its result came from its moves, or python-chess gave up (the headers: its tags alone)
                if problems:
                    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
                    record.error = f"{source}:{pending.line}: game {number} ({_describe(game, pending.tags)}): {problems[0]}{more}"
                    logger.debug("%s", record.error)  # the record carries it: each caller reports it once
                yield record
    if legacy > 1:
        logger.warning("%s: %d games are not UTF-8: read as cp1252/latin-1", source, legacy)


def _describe(game: chess.pgn.Game | None, tags: dict[str, str]) -> str:
    h: dict[str, str] = dict(game.headers) if game is not None else tags
    return f"{h.get('White', '?')} - {h.get('Black', '?')}, {h.get('Event', '?')} {h.get('Date', '?')}"


def _chunks(handle: BinaryIO) -> Iterator[tuple[int, list[bytes]]]:
    """The lines of each game with the number of its first line. A game starts at a block of lines (see
    :func:`_blocks`) with a tag line in it, once the game before has more than tags (or when it holds an Event
    tag or repeats a tag of the game before), or at any block after one that ends in a result: so a damaged first tag line still starts its own game,
    and a game cut off after its tags does not take the next game's moves."""
    chunk: list[bytes] = []
    start = 1
    has_text = ended = False
    names: set[bytes] = set()
    for first, block in _blocks(handle):
        tags = {match.group(1).lower() for line in block if (match := _TAG_START.match(line))}
        if chunk and ((tags and (has_text or b"event" in tags or tags & names)) or ended):
            yield start, chunk
            chunk, has_text, names = [], False, set()
        if not chunk:
            start = first
        chunk += block
        names |= tags
        has_text = has_text or any(
            line.strip() and not _TAG_START.match(line) and not line.startswith((b"%", b";")) for line in block
        )
        last = next((line for line in reversed(block) if line.strip()), b"")
        ended = not _TAG_START.match(last) and _ENDS_IN_RESULT.search(last) is not None
    if chunk:
        yield start, chunk


def _blocks(handle: BinaryIO) -> Iterator[tuple[int, list[bytes]]]:
    """Runs of non-blank lines with the blank lines after them, and the number of their first line. A tag line
    right after a line that ends in a result starts a new run too (games with no blank line between them)."""
    block: list[bytes] = []
    start = 1
    blank_seen = False
    previous = b""
    for number, line in enumerate(handle, 1):
        if number == 1:
            line = line.removeprefix(_BOM)
        blank = not line.strip()
        result_then_tag = (
            _TAG_START.match(line) is not None
            and _ENDS_IN_RESULT.search(previous) is not None
            and _TAG_START.match(previous) is None
        )
        if block and ((blank_seen and not blank) or result_then_tag):
            yield start, block
            block, start, blank_seen = [], number, False
        block.append(line)
        blank_seen = blank_seen or blank
        previous = line
    if block:
        yield start, block


def _decode(data: bytes) -> tuple[str, str]:
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


@dataclass
class _Pending:
    """One game of a chunk, its tags read and its moves not yet: ``parse()`` gives the game and its problems."""

    line: int
    tags: dict[str, str]
    parse: Callable[[], tuple[chess.pgn.Game | None, list[str]]]

    @property
    def headers(self) -> chess.pgn.Headers:
        """The headers python-chess gives the game: its tags over the Seven Tag Roster's defaults."""
        headers = chess.pgn.Headers()
        headers.update(self.tags)
        return headers


def _parse_chunk(text: str, first: int) -> Iterator[_Pending]:
    """Each game of one chunk, its moves parsed on demand. A chunk without tags may hold several games
    (separated by blank lines, as python-chess reads them); one with tags is one game."""
    lines = text.replace("\r\n", "\n").split("\n")
    start = next((i for i, line in enumerate(lines) if line.strip()), None)
    if start is None:
        return
    if "\x00" in text:
        yield _Pending(first + start, {}, lambda: (None, ["binary data, not PGN"]))
        return
    tag_rows = [i for i, line in enumerate(lines) if line.startswith("[") and not line.startswith("[%")]
    if tag_rows:
        yield _parse_game(lines, tag_rows[-1] + 1, first)
        return
    while start is not None:  # headerless games
        scan = _scan_movetext(lines, first, stop_at_cut=True)
        end = len(lines) if scan.cut is None else scan.cut - first
        if scan.seen:
            yield _parse_game(lines[:end], 0, first)
        lines, first = lines[end:], first + end
        start = next((i for i, line in enumerate(lines) if line.strip()), None)


def _parse_game(lines: list[str], header_end: int, first: int) -> _Pending:
    """One game whose tag section is ``lines[:header_end]``: its tags now, its moves when asked."""
    problems: list[str] = []
    tag_lines: list[str] = []
    tags: dict[str, str] = {}
    for i, line in enumerate(lines[:header_end]):
        if not line.strip() or line.startswith(("%", ";")):
            continue
        match = chess.pgn.TAG_REGEX.match(line)
        if match and match.group(1) in tags:
            problems.append(f"tag {match.group(1)} repeated at line {first + i}")
        elif match:
            tag_lines.append(line)
            tags[match.group(1)] = match.group(2)
        else:
            problems.append(f"broken tag line {first + i}: {line.strip()[:60]!r}")
    start = first + next((i for i, text in enumerate(lines) if text.strip()), 0)
    return _Pending(start, tags, functools.partial(_parse_moves, lines, header_end, first, tag_lines, tags, problems))


def _parse_moves(
    lines: list[str], header_end: int, first: int, tag_lines: list[str], tags: dict[str, str], problems: list[str]
) -> tuple[chess.pgn.Game | None, list[str]]:
    """The moves of a game after its tags (see :func:`_parse_game`): the game python-chess reads, and every
    problem found in it."""
    problems = list(problems)
    body = header_end
    while header_end and body < len(lines) and lines[body].rstrip().endswith('"]'):  # a tag line lost its '['
        problems.append(f"broken tag line {first + body}: {lines[body].strip()[:60]!r}")
        body += 1
    movetext = lines[body:]
    scan = _scan_movetext(movetext, first + body)
    try:
        game = chess.pgn.read_game(io.StringIO("\n".join(tag_lines) + "\n\n" + "\n".join(movetext).lstrip("\n")))
    except Exception as exc:  # noqa: BLE001 - python-chess raises more than ValueError on damaged movetext
        return None, [f"unreadable ({type(exc).__name__}: {exc})", *problems, *scan.problems()]
    if game is None:
        game = chess.pgn.Game()
    problems += [str(e) for e in game.errors]
    problems += scan.problems()
    result = tags.get("Result")
    if result in ("1-0", "0-1", "1/2-1/2") and scan.seen and scan.result is None and not (
        scan.open_comment or scan.ends_in_junk
    ):
        problems.append(f"movetext ends without its result {result!r} (cut off at line {scan.last_line}?)")
    if game.next() is None and not problems:
        problems.append("no moves")
    return game, problems


@dataclass
class _Movetext:
    """What python-chess would pass over without a word in one game's movetext."""

    junk: list[tuple[int, str]] = field(default_factory=list)
    ends_in_junk: bool = False
    open_comment: int | None = None
    cut: int | None = None
    seen: bool = False
    result: str | None = None
    last_line: int | None = None

    def problems(self) -> list[str]:
        out = []
        if self.junk and self.ends_in_junk:
            line, text = self.junk[-1]
            out.append(f"movetext ends in a broken move {text!r} at line {line}")
        out += [f"{text!r} at line {line} is not a move" for line, text in self.junk[: -1 if self.ends_in_junk else None]]
        if self.open_comment is not None:
            out.append(f"the comment opened at line {self.open_comment} is never closed")
        if self.cut is not None:
            out.append(f"a blank line at line {self.cut} cuts the movetext")
        return out


def _scan_movetext(lines: list[str], first: int, *, stop_at_cut: bool = False) -> _Movetext:
    """Walk the movetext with python-chess's own token pattern, as its reader does, noting what it would skip."""
    scan = _Movetext()
    comment_from: int | None = None
    blank: int | None = None
    depth = 0
    for offset, line in enumerate(lines):
        number = first + offset
        pos = 0
        if comment_from is None:
            if not line.strip():
                if scan.seen and blank is None:
                    blank = number
                continue
            if line.startswith(("%", ";")):
                continue
            if blank is not None and scan.cut is None:
                scan.cut = blank
                if stop_at_cut:
                    return scan
            scan.seen = True
        while True:
            if comment_from is not None:
                close = line.find("}", pos)
                if close < 0:
                    break
                comment_from, pos = None, close + 1
                continue
            match = chess.pgn.MOVETEXT_REGEX.search(line, pos)
            gap = _MOVE_NUMBER.sub(" ", line[pos : match.start() if match else len(line)])
            if _WORDLIKE.search(gap):
                scan.junk.append((number, " ".join(gap.split())[:40]))
                scan.ends_in_junk = True
            if match is None:
                break
            token = match.group()
            if token.startswith("{"):
                comment_from, pos = number, match.start() + 1
                continue
            if token.startswith(";"):
                break
            depth += (token == "(") - (token == ")")
            if depth <= 0 and token in _RESULTS:
                scan.result = token
            scan.ends_in_junk = False
            scan.last_line = number
            pos = match.end()
    scan.open_comment = comment_from
    return scan


def game_positions(game: chess.pgn.Game) -> tuple[list[chess.Board], list[chess.Move]]:
    """The boards before each mainline move plus the final board (without move stacks), and the moves."""
    board = game.board()
    boards = [board.copy(stack=False)]
    moves = []
    for move in game.mainline_moves():
        moves.append(move)
        board.push(move)
        boards.append(board.copy(stack=False))
    return boards, moves


def game_inputs(game: chess.pgn.Game) -> list[EngineInput]:
    """What the engine is sent for each position of :func:`game_positions`: with the moves since the last capture
    or pawn move when they hold a repeated position (:class:`~chessteach.engine.EngineInput`), so that a review
    judges the moves of the game as played, as Lichess does (puzzles and exercises stand alone and go without
    history). Linear in the game's length."""
    return list(line_inputs(game.board(), game.mainline_moves()))
