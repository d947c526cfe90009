"""Fact-checking explanations: find the checkable claims in a text and test each on the example's boards.

An explanation of a concept talks about one example puzzle. Its checkable claims are:

* **moves**, in SAN (``Nf7+``, ``24... Qxb2``, ``O-O``) or UCI (``g5f7``): legal where the text places them. A
  numbered move must be legal at that move of the line (a move sequence like ``1. Nf7+ Kg8 2. Nh6+`` is
  played out, so a variation after a different reply is fair); an unnumbered move must be legal in one of
  the line's positions. A ``+`` or ``#`` must give check or mate, and so must "``Qh7`` is mate".
* **pieces on squares** ("the knight on e5", "Black's pawns on d5 and f6", or a bare ``Nf3`` that is not a
  legal move): such a piece stands there in one of the line's positions.
* **relations** ("X attacks / defends / pins / forks / skewers / checks Y"): they hold on a board where the
  pieces stand as said.
* **states** ("the rook on d8 is undefended / attacked / pinned / checkmated by ..."), **captures**
  ("takes on d5", "the knight takes the rook on f7"), **piece moves** ("the queen on b2 moves to b1"),
  **checks and mates on a square** ("mates on h7", "check on e8") and **mate in N**.

The line's positions are the puzzle's FEN (before the opponent's setup move), the position the solver faces,
and every position after each move of the solution: a claim about the position after the solution's first
move counts as true if it holds there. Each claim is ``verified``, ``false`` (with the reason) or
``uncheckable`` (negated claims, claims that need an engine, and claims in the general sections "What it
is", "How to spot it" and "Common mistakes" that do not hold on the example: those sections describe the
concept in general, so a square named there is only checked when it holds, or when the sentence says it is
about this position).

>>> from chessteach.puzzles import Puzzle
>>> puzzle = Puzzle.from_solution("6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1", ["a1a8"])
>>> check = check_text("1. Ra8# mates: the rook on a1 goes to a8 and the king on g8 is checkmated.", puzzle)
>>> check.verified, check.false
(5, 0)
>>> [c.kind for c in check.claims]
['move', 'piece', 'piece', 'state', 'piece_move']
>>> check_text("The knight on f7 attacks the king on g8.", puzzle).false_claims[0].reason
'no white or black knight on f7 in any position of the line'
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import chess

from chessteach.concepts.notation import board_move_number
from chessteach.concepts.pieces import LINE_PIECES, PIECE_VALUES
from chessteach.concepts.tactics import is_defended, is_trapped
from chessteach.puzzles.puzzle import Puzzle
from chessteach.teaching.sections import GENERAL_SECTIONS, section_spans

if TYPE_CHECKING:
    from chessteach.teaching.explain import Explanation

logger = logging.getLogger(__name__)

VERIFIED = "verified"
FALSE = "false"
UNCHECKABLE = "uncheckable"
STATUSES: tuple[str, ...] = (VERIFIED, FALSE, UNCHECKABLE)

_TYPES: dict[str, chess.PieceType] = {
    "king": chess.KING,
    "queen": chess.QUEEN,
    "rook": chess.ROOK,
    "bishop": chess.BISHOP,
    "knight": chess.KNIGHT,
    "pawn": chess.PAWN,
}
_LETTERS: dict[str, chess.PieceType] = {
    "K": chess.KING,
    "Q": chess.QUEEN,
    "R": chess.ROOK,
    "B": chess.BISHOP,
    "N": chess.KNIGHT,
}
_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}


# ------------------------------------------------------------------ results


@dataclass(frozen=True)
class Claim:
    """One checkable claim: its kind, the words it was read from, the sentence, the section, and the verdict.

    ``kind`` is one of ``move``, ``piece``, ``relation``, ``state``, ``capture``, ``piece_move``, ``check``,
    ``mate`` and ``mate_in``; ``status`` is ``verified``, ``false`` or ``uncheckable``; ``reason`` says why
    (for a false claim, what is wrong with it).
    """

    kind: str
    text: str
    sentence: str
    status: str
    reason: str = ""
    section: str | None = None


@dataclass(frozen=True)
class FactCheck:
    """The verdict on every claim of a text, with the counts.

    >>> FactCheck.of([]).summary()
    'no checkable claims'
    """

    verified: int
    false: int
    uncheckable: int
    claims: list[Claim] = field(default_factory=list)

    @classmethod
    def of(cls, claims: Sequence[Claim]) -> FactCheck:
        counts = {status: sum(c.status == status for c in claims) for status in STATUSES}
        return cls(counts[VERIFIED], counts[FALSE], counts[UNCHECKABLE], list(claims))

    @property
    def false_claims(self) -> list[Claim]:
        return [c for c in self.claims if c.status == FALSE]

    @property
    def total(self) -> int:
        return len(self.claims)

    @property
    def truth_rate(self) -> float:
        """Verified claims over checked ones (verified + false); 1.0 when nothing could be checked."""
        checked = self.verified + self.false
        return self.verified / checked if checked else 1.0

    def summary(self) -> str:
        """One line: ``12 claims: 11 verified, 1 false, 0 uncheckable (92% true)``."""
        if not self.claims:
            return "no checkable claims"
        return (
            f"{self.total} claims: {self.verified} verified, {self.false} false, {self.uncheckable} uncheckable"
            f" ({self.truth_rate:.0%} true)"
        )


# ------------------------------------------------------------------ the example's positions


@dataclass(frozen=True)
class ExampleLine:
    """Every position of an example puzzle's line, and which one each move number points to.

    ``boards[0]`` is the puzzle's FEN (before the setup move, if it has one), ``boards[-1]`` the final
    position; ``numbered[(n, color)]`` is the index of the board where ``color`` plays its move ``n``.
    """

    boards: tuple[chess.Board, ...]
    moves: tuple[chess.Move, ...]
    solver_moves: int
    numbered: dict[tuple[int, chess.Color], int]

    @classmethod
    def from_puzzle(cls, puzzle: Puzzle) -> ExampleLine:
        board = chess.Board(puzzle.fen)
        boards = [board.copy(stack=False)]
        for move in puzzle.moves:
            board.push(move)
            boards.append(board.copy(stack=False))
        numbered = {(b.fullmove_number, b.turn): i for i, b in enumerate(boards)}
        return cls(tuple(boards), tuple(puzzle.moves), len(puzzle.solver_moves), numbered)

    @property
    def final(self) -> chess.Board:
        return self.boards[-1]

    def where(self, index: int) -> str:
        """Words for a position: ``"at 24... (Black to move)"``."""
        board = self.boards[index]
        return f"at {board_move_number(board)} ({'White' if board.turn else 'Black'} to move)"


# ------------------------------------------------------------------ text: masking, sentences

_CODE = re.compile(
    r"`[^`\n]*`|<[^>\n]*>|https?://\S+|[1-8pnbrqkPNBRQK]+(?:/[1-8pnbrqkPNBRQK]+){7}(?:\s+[wb](?:\s+(?:-|[KQkq]+))?(?:\s+(?:-|[a-h][36]))?(?:\s+\d+\s+\d+)?)?|(?<=\S)\*+|\*+(?=\S)"
)
_SENTENCE_END = re.compile(r"[.!?]+(?=\s+[\"'(*_]*[A-Z0-9])|\n\s*\n|\n(?=[ \t]*(?:[-*+#]|\d+[.)])\s)")
_EXAMPLE_MARKERS = re.compile(
    r"\b(?:this|our)\s+(?:position|puzzle|example|diagram|game)\b|\bthe (?:example|diagram|puzzle)\b|\bhere\b",
    re.IGNORECASE,
)


def _mask(text: str) -> str:
    """The text with code spans, HTML tags, URLs and FEN strings blanked out (offsets kept)."""
    return _CODE.sub(lambda m: " " * len(m.group(0)), text)


def _sentences(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """The (start, end) offsets of the sentences in ``text[start:end]``; a period after a bare number (a move
    number such as ``24.``) does not end a sentence."""
    cursor = start
    for match in _SENTENCE_END.finditer(text, start, end):
        before = text[cursor : match.start()].rstrip()
        if match.group(0).startswith((".", "!", "?")) and re.search(r"(?:^|\s)\d+$", before):
            continue
        stop = match.end() if match.group(0).startswith((".", "!", "?")) else match.start()
        if text[cursor:stop].strip():
            yield cursor, stop
        cursor = match.end()
    if text[cursor:end].strip():
        yield cursor, end


# ------------------------------------------------------------------ phrases

_SQ = r"[a-h][1-8]"
_PLACED = r"\s+(?:(?:is|sits|stands|remains|standing|sitting|placed|posted|still|now)\s+)*(?:on|from|at)\s+"
_ARTICLES = r"(?:(?:the|a|an|its|his|her|their|your|our|my|enemy|opponent's|other|same|lone|own|both)\s+)*"
_PIECE_PHRASE = re.compile(
    _ARTICLES
    + r"(?:(?P<color>white|black)(?:'s)?\s+)?(?:(?:own|lone|other)\s+)?"
    + r"(?P<type>king|queen|rook|bishop|knight|pawn)(?P<plural>s)?"
    + _PLACED
    + r"(?P<squares>"
    + _SQ
    + r"(?:(?:\s*,\s*and\s+|\s*,\s*|\s+and\s+)"
    + _SQ
    + r")*)\b",
    re.IGNORECASE,
)
_TYPE_ONLY = re.compile(
    _ARTICLES + r"(?:(?P<color>white|black)(?:'s)?\s+)?(?P<type>king|queen|rook|bishop|knight|pawn)(?P<plural>s)?\b"
    r"(?!" + _PLACED + _SQ + r")",
    re.IGNORECASE,
)
_BARE_SQUARE = re.compile(r"(?:the\s+)?(?:square\s+)?(?P<square>" + _SQ + r")\b(?![-/])")
_DENIES_LEGALITY = re.compile(
    r"\b(?:illegal|not legal|impossible|not possible|not allowed|cannot be played|can't be played)\b", re.IGNORECASE
)
_NEGATED_BEFORE = re.compile(r"\b(?:no|without(?:\s+an?)?|not\s+an?|never\s+an?)\s+$", re.IGNORECASE)
_TARGET_SEP = re.compile(r"\s*(?:,\s*)?(?:(?:and|as well as|or|plus)\s+)?(?:both\s+|also\s+)?")
_FIRST_TARGET = re.compile(r"\s*(?:both\s+)?")
_LETTER_PIECE = re.compile(r"(?<![\w/=-])(?P<letter>[KQRBN])(?:[a-h]?[1-8]?x?)(?P<square>" + _SQ + r")[+#]?(?![\w-])")

_SAN = r"(?:O-O-O|O-O|0-0-0|0-0|[KQRBN][a-h]?[1-8]?x?[a-h][1-8]|[a-h]x[a-h][1-8](?:=?[QRBN])?|[a-h][1-8](?:=?[QRBN])?)[+#]?"
_TOKEN = re.compile(
    r"(?P<number>(?<![\w.])\d{1,3}\s*(?:\.\.\.|\.|…)(?!\d))|"
    r"(?<![\w/=*-])(?:\.\.\.|…)?(?P<uci>[a-h][1-8][a-h][1-8][qrbn]?)(?![\w-])|"
    r"(?<![\w/=-])(?:\.\.\.|…)?(?P<san>" + _SAN + r")[!?]*(?![\w-])"
)
_CHECK_WORDS = re.compile(
    r"\s*(?:,\s*)?(?:(?:is|gives|delivers|was|would be)\s+)?(?:(?:already|also|simply|immediately|then)\s+)?(?:a\s+)?(?:(?P<mate>checkmate|mate)\b(?!\s+in\b)|(?P<with>with\s+)?(?P<check>check)\b)",
    re.IGNORECASE,
)

_FILLER = r"[\s,]*(?:(?:now|also|then|still|both|which|that|immediately|simultaneously|at once|suddenly)[\s,]+)*"
_NEGATION = r"(?P<neg>(?:does|do|did|can|could|will|would)\s*(?:not|n't)\s+|cannot\s+|never\s+|no longer\s+)?"
_RELATION = re.compile(
    _FILLER
    + _NEGATION
    + r"(?P<verb>attack(?:s|ing)?|hit(?:s|ting)?|threaten(?:s|ing)?|defend(?:s|ing)?|protect(?:s|ing)?|guard(?:s|ing)?"
    r"|pin(?:s|ning)?|fork(?:s|ing)?|skewer(?:s|ing)?|check(?:s|ing)?|gives? check to|giving check to)\b",
    re.IGNORECASE,
)
_STATE = re.compile(
    r"[\s,]*(?:(?:is|are|was|were|stands|remains|becomes|gets|stays)\s+)(?:(?:now|still|already|left|also)\s+)*"
    r"(?P<neg>not\s+|no longer\s+)?"
    r"(?P<state>attacked|undefended|unprotected|unguarded|hanging|loose|defended|protected|guarded|pinned"
    r"|in check|checkmated|mated|trapped)\b"
    r"(?:\s+(?:by|from)\s+)?",
    re.IGNORECASE,
)
_PIECE_MOVE = re.compile(
    _FILLER + r"(?:(?:moves|goes|jumps|retreats|comes|steps|slides|lands|returns|escapes|runs|advances|heads)\s+)"
    r"(?:back\s+|forward\s+|over\s+)?(?:to|on|onto)\s+(?P<square>" + _SQ + r")\b",
    re.IGNORECASE,
)
_CAPTURE = re.compile(
    r"(?:(?<=\s)|^)" + _NEGATION + r"(?:(?:can|could|would|will|to)\s+)?"
    r"(?P<verb>takes|take|taking|captures|capture|capturing|recaptures|recapture|wins|win|winning|grabs|grab)\s+"
    r"(?:back\s+)?(?:(?:on|at)\s+(?P<on>" + _SQ + r")\b)?",
    re.IGNORECASE,
)
_CHECK_ON = re.compile(
    r"\b"
    + _NEGATION
    + r"(?P<what>checkmates|checkmate|mates|mate|mating|checks|check)\s+(?:on|at)\s+(?P<square>"
    + _SQ
    + r")\b",
    re.IGNORECASE,
)
_MATE_IN = re.compile(r"\bmate\s+in\s+(?P<n>\d|one|two|three|four|five|six)\b", re.IGNORECASE)


@dataclass(frozen=True)
class _Piece:
    """A piece named in the text: its type, colour (``None`` when not said) and squares (none for "the king")."""

    start: int
    end: int
    piece_type: chess.PieceType
    color: chess.Color | None
    squares: tuple[chess.Square, ...]
    words: str
    letter: bool = False  # written as a piece letter and a square (``Nf7``): the square may be a destination

    def name(self) -> str:
        color = "" if self.color is None else ("white " if self.color else "black ")
        where = f" on {'/'.join(chess.square_name(s) for s in self.squares)}" if self.squares else ""
        return f"{color}{chess.piece_name(self.piece_type)}{where}"

    def matches(self, board: chess.Board, square: chess.Square) -> bool:
        piece = board.piece_at(square)
        return (
            piece is not None
            and piece.piece_type == self.piece_type
            and (self.color is None or piece.color == self.color)
        )

    def placements(self, board: chess.Board) -> list[chess.Square]:
        """The squares where this piece stands on ``board`` (its named squares, or any square if none named)."""
        candidates = self.squares or tuple(chess.SQUARES)
        return [s for s in candidates if self.matches(board, s)]


def _color_word(word: str | None) -> chess.Color | None:
    if word is None:
        return None
    return chess.WHITE if word.lower() == "white" else chess.BLACK


def _piece_at(text: str, pos: int, *, type_only: bool = True) -> _Piece | None:
    """A piece phrase starting exactly at ``pos`` ("the white knight on e5", "Nf7", or "the king")."""
    match = _PIECE_PHRASE.match(text, pos)
    if match:
        squares = tuple(chess.parse_square(s.lower()) for s in re.findall(_SQ, match.group("squares"), re.IGNORECASE))
        end = match.end()
        if not match.group("plural"):
            squares = squares[:1]
            end = match.start("squares") + 2
        return _Piece(
            pos, end, _TYPES[match.group("type").lower()], _color_word(match.group("color")), squares, text[pos:end]
        )
    match = _LETTER_PIECE.match(text, pos)
    if match:
        return _letter_piece(match)
    if type_only:
        match = _TYPE_ONLY.match(text, pos)
        if match:
            return _Piece(
                pos,
                match.end(),
                _TYPES[match.group("type").lower()],
                _color_word(match.group("color")),
                (),
                match.group(0),
            )
    return None


def _letter_piece(match: re.Match[str]) -> _Piece:
    """A piece-letter token (``Nf7``) as a piece phrase."""
    square = chess.parse_square(match.group("square"))
    return _Piece(match.start(), match.end(), _LETTERS[match.group("letter")], None, (square,), match.group(0),
                  letter=True)


def _pieces_in(text: str, start: int, end: int) -> list[_Piece]:
    """Every piece phrase with a square in ``text[start:end]``, and every piece-letter token (``Nf7``)."""
    found: list[_Piece] = []
    for match in _PIECE_PHRASE.finditer(text, start, end):
        piece = _piece_at(text, match.start(), type_only=False)
        if piece is not None:
            found.append(piece)
    found.extend(_letter_piece(match) for match in _LETTER_PIECE.finditer(text, start, end))
    return sorted(found, key=lambda p: p.start)


def _unplaced_pieces(text: str, start: int, end: int, placed: list[_Piece]) -> list[_Piece]:
    """Pieces named without a square ("the knight", "White's queen"), outside the placed pieces' phrases."""
    found = []
    for match in _TYPE_ONLY.finditer(text, start, end):
        if any(p.start <= match.start() < p.end for p in placed):
            continue
        found.append(
            _Piece(
                match.start(),
                match.end(),
                _TYPES[match.group("type").lower()],
                _color_word(match.group("color")),
                (),
                match.group(0),
            )
        )
    return found


def _subject_before(pieces: list[_Piece], pos: int, text: str) -> list[_Piece]:
    """The pieces ending right before ``pos`` (a chain joined by "and"), nearest last."""
    chain: list[_Piece] = []
    cursor = pos
    for piece in reversed(pieces):
        if piece.end > cursor:
            continue
        gap = text[piece.end : cursor]
        if (not chain and gap.strip(" ,") == "") or (chain and re.fullmatch(r"\s*,?\s*and\s+", gap)):
            chain.insert(0, piece)
            cursor = piece.start
        else:
            break
    return chain


def _targets_after(text: str, pos: int, end: int) -> tuple[list[_Piece | chess.Square], int]:
    """The list of targets starting at ``pos`` (pieces, "the king", or bare squares), and where it ends."""
    targets: list[_Piece | chess.Square] = []
    cursor = pos
    while cursor < end:
        start = (_TARGET_SEP if targets else _FIRST_TARGET).match(text, cursor).end()  # type: ignore[union-attr]
        piece = _piece_at(text, start)
        if piece is not None and piece.end <= end:
            targets.append(piece)
            cursor = piece.end
            continue
        square = _BARE_SQUARE.match(text, start)
        if square and square.end() <= end:
            targets.append(chess.parse_square(square.group("square")))
            cursor = square.end()
            continue
        break
    return targets, cursor


# ------------------------------------------------------------------ checking helpers


def _attacks(board: chess.Board, square: chess.Square, target: chess.Square) -> bool:
    return target in board.attacks(square)


def _behind(board: chess.Board, origin: chess.Square, front: chess.Square) -> chess.Square | None:
    """The first piece beyond ``front`` on the line from ``origin`` through it."""
    ray = chess.ray(origin, front)
    if not ray:
        return None
    beyond = [
        s
        for s in chess.SquareSet(ray)
        if chess.square_distance(origin, s) > chess.square_distance(origin, front)
        and front in chess.SquareSet(chess.between(origin, s))
    ]
    for square in sorted(beyond, key=lambda s: chess.square_distance(front, s)):
        if board.piece_at(square):
            return square
    return None


def _target_squares(board: chess.Board, target: _Piece | chess.Square, mover: chess.Color) -> list[chess.Square]:
    """The squares a target can mean on ``board``: a bare square, or where the named piece stands (for a
    piece named without colour, one of the other side's when it has one there)."""
    if isinstance(target, int):
        return [target]
    squares = target.placements(board)
    if target.color is None and not target.squares:
        squares = [s for s in squares if board.color_at(s) != mover]
    return squares


def _relation_holds(
    board: chess.Board,
    verb: str,
    subject: chess.Square,
    targets: list[_Piece | chess.Square],
    behind: _Piece | chess.Square | None,
) -> bool:
    """Whether the piece on ``subject`` stands in the relation ``verb`` to every target on ``board``."""
    piece = board.piece_at(subject)
    assert piece is not None
    options = [_target_squares(board, t, piece.color) for t in targets]
    if any(not o for o in options):
        return False
    if verb == "fork":
        if len(targets) < 2 and not any(isinstance(t, _Piece) and len(t.squares) > 1 for t in targets):
            return False
        hit = [s for o in options for s in o if _attacks(board, subject, s) and board.color_at(s) == (not piece.color)]
        return len(set(hit)) >= 2 and all(any(s in hit for s in o) for o in options)
    return all(any(_relation_one(board, verb, subject, s, piece.color, behind) for s in option) for option in options)


def _relation_one(
    board: chess.Board,
    verb: str,
    subject: chess.Square,
    target: chess.Square,
    color: chess.Color,
    behind: _Piece | chess.Square | None,
) -> bool:
    if not _attacks(board, subject, target):
        return False
    target_color = board.color_at(target)
    if verb == "attack":
        return target_color != color
    if verb == "defend":
        return target_color in (color, None)
    if verb == "check":
        return board.piece_type_at(target) == chess.KING and target_color == (not color)
    if verb in ("pin", "skewer"):
        if board.piece_type_at(subject) not in LINE_PIECES or target_color != (not color):
            return False
        back = _behind(board, subject, target)
        if back is None or board.color_at(back) != target_color:
            return False
        if behind is not None and back not in _target_squares(board, behind, color):
            return False
        front_value = PIECE_VALUES[board.piece_type_at(target)]  # type: ignore[index]
        back_value = PIECE_VALUES[board.piece_type_at(back)]  # type: ignore[index]
        if verb == "pin":
            return back_value > front_value
        return front_value > back_value
    return False


_VERBS = {
    "attack": "attack",
    "hit": "attack",
    "threaten": "attack",
    "defend": "defend",
    "protect": "defend",
    "guard": "defend",
    "pin": "pin",
    "fork": "fork",
    "skewer": "skewer",
    "check": "check",
    "give": "check",
    "giving": "check",
}


def _verb_root(word: str) -> str:
    word = word.lower().split()[0]
    for stem, root in _VERBS.items():
        if word.startswith(stem):
            return root
    raise ValueError(word)


# ------------------------------------------------------------------ the checker


@dataclass
class _Sentence:
    text: str  # the masked text of the whole document
    start: int
    end: int
    original: str
    section: str | None
    strict: bool


class _Checker:
    """Finds and checks the claims of one text against one example line."""

    def __init__(self, line: ExampleLine):
        self.line = line

    # -------------------------------------------------------------- entry

    def check(self, sentence: _Sentence) -> list[Claim]:
        claims: list[Claim] = []
        claims += self._moves(sentence)
        pieces = _pieces_in(sentence.text, sentence.start, sentence.end)
        claims += self._pieces(sentence, pieces)
        claims += self._relations(sentence, pieces)
        claims += self._states(sentence, pieces)
        claims += self._piece_moves(sentence, pieces)
        claims += self._captures(sentence, pieces)
        claims += self._checks_on(sentence, pieces)
        claims += self._mate_in(sentence)
        return claims

    def _claim(
        self, sentence: _Sentence, kind: str, words: str, ok: bool | None, reason: str, *, strict: bool | None = None
    ) -> Claim:
        """A claim with its verdict; a failed claim outside the strict scope is uncheckable, not false."""
        if ok is None:
            status = UNCHECKABLE
        elif ok:
            status = VERIFIED
        elif strict if strict is not None else sentence.strict:
            status = FALSE
        else:
            status = UNCHECKABLE
            reason = f"general statement in '{sentence.section}', not about the example ({reason})"
        return Claim(
            kind,
            " ".join(words.split()),
            sentence.original,
            status,
            reason if status != VERIFIED else "",
            sentence.section,
        )

    def _boards(self, test: Callable[[chess.Board], bool]) -> list[int]:
        return [i for i, board in enumerate(self.line.boards) if test(board)]

    # -------------------------------------------------------------- moves

    def _moves(self, sentence: _Sentence) -> list[Claim]:
        tokens = list(_TOKEN.finditer(sentence.text, sentence.start, sentence.end))
        runs: list[list[re.Match[str]]] = []
        for token in tokens:
            if (
                runs
                and re.fullmatch(r"[\s()\[\]]*", sentence.text[runs[-1][-1].end() : token.start()])
                and not (token.group("number") and runs[-1][-1].group("number"))
            ):
                runs[-1].append(token)
            else:
                runs.append([token])
        claims: list[Claim] = []
        for run in runs:
            claims += self._run(sentence, run)
        return claims

    def _run(self, sentence: _Sentence, run: list[re.Match[str]]) -> list[Claim]:
        moves = [t for t in run if not t.group("number")]
        if not moves:
            return []
        numbered = bool(run[0].group("number"))
        if not numbered and all(_bare_square(t) for t in moves):
            return []  # "e4" alone is a square, not a move
        if not numbered and len(moves) == 1 and _plain_piece_token(moves[0]):
            return [self._piece_or_move(sentence, moves[0])]
        starts: list[int]
        if numbered:
            number = run[0].group("number")
            black = "..." in number or "…" in number
            key = (int(re.sub(r"\D", "", number)), chess.BLACK if black else chess.WHITE)
            index = self.line.numbered.get(key)
            starts = [index] if index is not None else list(range(len(self.line.boards)))
            placed = index is not None
        else:
            starts = list(range(len(self.line.boards)))
            placed = False
        best: tuple[tuple[int, int, int], list[Claim]] | None = None
        for start in starts:
            attempt, legal = self._play(sentence, moves, start, placed=placed, numbered=numbered)
            score = (*_score(attempt), legal)
            if best is None or score > best[0]:
                best = (score, attempt)
            if all(c.status == VERIFIED for c in attempt):
                break
        assert best is not None
        return best[1]

    def _play(
        self, sentence: _Sentence, moves: list[re.Match[str]], start: int, *, placed: bool, numbered: bool
    ) -> tuple[list[Claim], int]:
        """The claims of a move sequence played from board ``start``, and how many of its moves were legal."""
        board = self.line.boards[start].copy(stack=False)
        claims: list[Claim] = []
        failed = False
        legal = 0
        for token in moves:
            words = token.group("uci") or token.group("san")
            if failed:
                claims.append(self._claim(sentence, "move", words, None, "follows an illegal move"))
                continue
            where = self.line.where(start) if placed and not claims else "in any position of the line"
            move = _parse(board, token)
            if move is None:
                failed = True
                reason = (
                    f"{words} is not a legal move {where}"
                    if not claims
                    else f"{words} is not legal after {claims[-1].text}"
                )
                if _DENIES_LEGALITY.search(sentence.text, sentence.start, sentence.end):
                    claims.append(
                        self._claim(sentence, "move", words, None, f"the text calls it impossible ({reason})")
                    )
                else:
                    claims.append(
                        self._claim(sentence, "move", words, False, reason, strict=True if numbered else None)
                    )
                continue
            board.push(move)
            legal += 1
            problem = self._suffix_problem(sentence, token, board, words)
            claims.append(
                self._claim(sentence, "move", words, problem is None, problem or "", strict=True if numbered else None)
            )
            failed = problem is not None
        return claims, legal

    def _suffix_problem(self, sentence: _Sentence, token: re.Match[str], board: chess.Board, words: str) -> str | None:
        """What is wrong with the check or mate the move claims (by its ``+``/``#`` or the words after it)."""
        after = _CHECK_WORDS.match(sentence.text, token.end(), sentence.end)
        wants_mate = words.endswith("#") or bool(after and after.group("mate"))
        wants_check = words.endswith("+") or bool(
            after and after.group("check") and (after.group("with") or "gives" in after.group(0))
        )
        if wants_mate and not board.is_checkmate():
            return f"{words.rstrip('+#')} is legal but not checkmate"
        if wants_check and not board.is_check():
            return f"{words.rstrip('+#')} is legal but gives no check"
        return None

    def _piece_or_move(self, sentence: _Sentence, token: re.Match[str]) -> Claim:
        """``Nf7`` alone: a legal move of the line's positions, or a knight standing on f7 in one of them."""
        words = token.group("san")
        for board in self.line.boards:
            move = _parse(board, token)
            if move is not None:
                after = board.copy(stack=False)
                after.push(move)
                problem = self._suffix_problem(sentence, token, after, words)
                if problem is None:
                    return self._claim(sentence, "move", words, True, "")
        piece_type = _LETTERS[words[0]]
        square = chess.parse_square(re.findall(_SQ, words)[-1])
        if any(board.piece_type_at(square) == piece_type for board in self.line.boards):
            return self._claim(sentence, "piece", words, True, "")
        return self._claim(
            sentence,
            "move",
            words,
            False,
            f"{words} is neither a legal move nor a {chess.piece_name(piece_type)} on "
            f"{chess.square_name(square)} in any position of the line",
        )

    # -------------------------------------------------------------- pieces on squares

    def _pieces(self, sentence: _Sentence, pieces: list[_Piece]) -> list[Claim]:
        claims = []
        for piece in pieces:
            if piece.letter:
                continue  # piece letters are read as moves
            if _NEGATED_BEFORE.search(sentence.text, sentence.start, piece.start):
                claims.append(self._claim(sentence, "piece", piece.words, None, "negated claims are not checked"))
                continue
            for square in piece.squares:
                single = _Piece(piece.start, piece.end, piece.piece_type, piece.color, (square,), piece.words)
                ok = any(single.matches(board, square) for board in self.line.boards)
                claims.append(
                    self._claim(
                        sentence,
                        "piece",
                        single.name(),
                        ok,
                        f"no {_colors(single.color)} {chess.piece_name(single.piece_type)} on "
                        f"{chess.square_name(square)} in any position of the line",
                    )
                )
        return claims

    # -------------------------------------------------------------- relations

    def _relations(self, sentence: _Sentence, pieces: list[_Piece]) -> list[Claim]:
        claims = []
        text = sentence.text
        for piece in pieces + _unplaced_pieces(text, sentence.start, sentence.end, pieces):
            match = _RELATION.match(text, piece.end, sentence.end)
            if not match:
                continue
            subjects = _subject_before(pieces, piece.end, text) if piece.squares else [piece]
            verb = _verb_root(match.group("verb"))
            targets, cursor = _targets_after(text, match.end(), sentence.end)
            behind: _Piece | chess.Square | None = None
            extra = re.compile(r"\s*,?\s*(?:to|against|onto|in front of)\s+(?:its\s+|the\s+)?").match(
                text, cursor, sentence.end
            )
            if extra and verb in ("pin", "skewer"):
                more, after = _targets_after(text, extra.end(), sentence.end)
                if more:
                    behind, cursor = more[0], after
            if not targets and verb != "check":
                continue
            words = text[subjects[0].start if subjects else piece.start : cursor]
            if match.group("neg"):
                claims.append(self._claim(sentence, "relation", words, None, "negated claims are not checked"))
                continue
            if not targets:
                targets = [_Piece(0, 0, chess.KING, None, (), "the king")]
            ok, reason = self._relation_verdict(verb, subjects or [piece], targets, behind)
            claims.append(self._claim(sentence, "relation", words, ok, reason))
        return claims

    def _relation_verdict(
        self,
        verb: str,
        subjects: list[_Piece],
        targets: list[_Piece | chess.Square],
        behind: _Piece | chess.Square | None,
    ) -> tuple[bool, str]:
        for subject in subjects:
            found = False
            for board in self.line.boards:
                for square in subject.placements(board):
                    if _relation_holds(board, verb, square, targets, behind):
                        found = True
                        break
                if found:
                    break
            if not found:
                named = ", ".join(t.name() if isinstance(t, _Piece) else chess.square_name(t) for t in targets)
                return False, f"in no position of the line does the {subject.name()} {verb} {named}" + (
                    f" (with {behind.name() if isinstance(behind, _Piece) else chess.square_name(behind)} behind)"
                    if behind is not None
                    else ""
                )
        return True, ""

    # -------------------------------------------------------------- states

    def _states(self, sentence: _Sentence, pieces: list[_Piece]) -> list[Claim]:
        claims = []
        text = sentence.text
        for piece in pieces:
            match = _STATE.match(text, piece.end, sentence.end)
            if not match:
                continue
            state = match.group("state").lower()
            if match.group("neg"):
                if state in ("defended", "protected", "guarded"):
                    state = "undefended"
                else:
                    claims.append(
                        self._claim(
                            sentence, "state", text[piece.start : match.end()], None, "negated claims are not checked"
                        )
                    )
                    continue
            by = _piece_at(text, match.end()) if match.group(0).rstrip().endswith(("by", "from")) else None
            end = by.end if by is not None else match.end()
            words = text[piece.start : end]
            ok = any(
                self._state_holds(board, square, state, by)
                for board in self.line.boards
                for square in piece.placements(board)
            )
            claims.append(
                self._claim(
                    sentence,
                    "state",
                    words,
                    ok,
                    f"the {piece.name()} is never {state}"
                    + (f" by the {by.name()}" if by is not None else "")
                    + " in the line's positions",
                )
            )
        return claims

    @staticmethod
    def _state_holds(board: chess.Board, square: chess.Square, state: str, by: _Piece | None) -> bool:
        piece = board.piece_at(square)
        assert piece is not None
        enemies = board.attackers(not piece.color, square)
        friends = board.attackers(piece.color, square)
        if state == "attacked":
            return bool(enemies) and (by is None or any(by.matches(board, s) for s in enemies))
        if state in ("undefended", "unprotected", "unguarded", "hanging", "loose"):
            return not is_defended(board, square)
        if state in ("defended", "protected", "guarded"):
            if by is not None:
                return any(by.matches(board, s) for s in friends)
            return is_defended(board, square)
        if state == "pinned":
            pinned = board.is_pinned(piece.color, square)
            if by is None:
                return pinned or any(_relation_one(board, "pin", s, square, not piece.color, None) for s in enemies)
            return any(
                by.matches(board, s) and _relation_one(board, "pin", s, square, not piece.color, None) for s in enemies
            )
        if state == "in check":
            return (
                piece.piece_type == chess.KING
                and bool(enemies)
                and (by is None or any(by.matches(board, s) for s in enemies))
            )
        if state in ("checkmated", "mated"):
            return (
                piece.piece_type == chess.KING
                and board.turn == piece.color
                and board.is_checkmate()
                and (by is None or any(by.matches(board, s) for s in board.checkers()))
            )
        if state == "trapped":
            return board.turn == piece.color and is_trapped(board, square)
        return False

    # -------------------------------------------------------------- piece moves, captures, checks on a square

    def _piece_moves(self, sentence: _Sentence, pieces: list[_Piece]) -> list[Claim]:
        claims = []
        for piece in pieces:
            match = _PIECE_MOVE.match(sentence.text, piece.end, sentence.end)
            if not match or not piece.squares:
                continue
            target = chess.parse_square(match.group("square"))
            ok = any(
                any(m.from_square in piece.placements(board) and m.to_square == target for m in board.legal_moves)
                for board in self.line.boards
            )
            claims.append(
                self._claim(
                    sentence,
                    "piece_move",
                    sentence.text[piece.start : match.end()],
                    ok,
                    f"the {piece.name()} has no legal move to {match.group('square')} in any position of the line",
                )
            )
        return claims

    def _captures(self, sentence: _Sentence, pieces: list[_Piece]) -> list[Claim]:
        claims = []
        text = sentence.text
        for match in _CAPTURE.finditer(text, sentence.start, sentence.end):
            target: _Piece | None = None
            square_name = match.group("on")
            end = match.end()
            if square_name is None:
                target = _piece_at(text, match.end(), type_only=False)
                if target is None or len(target.squares) != 1 or target.letter:
                    continue
                square_name = chess.square_name(target.squares[0])
                end = target.end
            square = chess.parse_square(square_name)
            subjects = _subject_before(pieces, match.start(), text)
            subject = subjects[-1] if subjects else None
            words = text[subject.start if subject else match.start() : end]
            if match.group("neg"):
                claims.append(self._claim(sentence, "capture", words, None, "negated claims are not checked"))
                continue
            ok = any(self._capture_on(board, square, subject, target) for board in self.line.boards)
            claims.append(
                self._claim(
                    sentence,
                    "capture",
                    words,
                    ok,
                    f"no legal capture on {square_name}"
                    + (f" by the {subject.name()}" if subject else "")
                    + (f" of the {target.name()}" if target else "")
                    + " in any position of the line",
                )
            )
        return claims

    @staticmethod
    def _capture_on(board: chess.Board, square: chess.Square, subject: _Piece | None, target: _Piece | None) -> bool:
        if target is not None and not target.matches(board, square):
            return False
        return any(
            m.to_square == square
            and board.is_capture(m)
            and (
                subject is None
                or (subject.matches(board, m.from_square) and (subject.letter or m.from_square in subject.squares))
            )
            for m in board.legal_moves
        )

    def _checks_on(self, sentence: _Sentence, pieces: list[_Piece]) -> list[Claim]:
        claims = []
        for match in _CHECK_ON.finditer(sentence.text, sentence.start, sentence.end):
            mate = "mat" in match.group("what").lower()
            square = chess.parse_square(match.group("square"))
            subjects = _subject_before(pieces, match.start(), sentence.text)
            subject = subjects[-1] if subjects else None
            words = sentence.text[subject.start if subject else match.start() : match.end()]
            kind = "mate" if mate else "check"
            if match.group("neg"):
                claims.append(self._claim(sentence, kind, words, None, "negated claims are not checked"))
                continue
            ok = any(self._check_to(board, square, subject, mate=mate) for board in self.line.boards)
            claims.append(
                self._claim(
                    sentence,
                    kind,
                    words,
                    ok,
                    f"no legal move{' of the ' + subject.name() if subject else ''} to "
                    f"{match.group('square')} gives {'checkmate' if mate else 'check'} in any "
                    "position of the line",
                )
            )
        return claims

    @staticmethod
    def _check_to(board: chess.Board, square: chess.Square, subject: _Piece | None, *, mate: bool) -> bool:
        for move in board.legal_moves:
            if move.to_square != square:
                continue
            if subject is not None and not (
                board.piece_type_at(move.from_square) == subject.piece_type
                and (subject.color is None or board.turn == subject.color)
            ):
                continue
            board.push(move)
            try:
                if board.is_checkmate() if mate else board.is_check():
                    return True
            finally:
                board.pop()
        return False

    def _mate_in(self, sentence: _Sentence) -> list[Claim]:
        claims = []
        for match in _MATE_IN.finditer(sentence.text, sentence.start, sentence.end):
            n_text = match.group("n").lower()
            n = int(n_text) if n_text.isdigit() else _NUMBERS[n_text]
            if self.line.final.is_checkmate() and n == self.line.solver_moves:
                claims.append(self._claim(sentence, "mate_in", match.group(0), True, ""))
            else:
                claims.append(
                    self._claim(
                        sentence,
                        "mate_in",
                        match.group(0),
                        None,
                        "mate in N is only checked against a solution line that mates in N",
                    )
                )
        return claims


def _colors(color: chess.Color | None) -> str:
    return "white or black" if color is None else ("white" if color else "black")


def _bare_square(token: re.Match[str]) -> bool:
    return bool(token.group("san")) and re.fullmatch(_SQ, token.group("san")) is not None


def _plain_piece_token(token: re.Match[str]) -> bool:
    """``Nf7`` (a piece letter and a square, no capture, check or mate), which may name a piece, not a move."""
    san = token.group("san")
    return bool(san) and re.fullmatch(r"[KQRBN]" + _SQ, san) is not None


def _parse(board: chess.Board, token: re.Match[str]) -> chess.Move | None:
    try:
        if token.group("uci"):
            return board.parse_uci(token.group("uci"))
        return board.parse_san(token.group("san").replace("0", "O"))
    except ValueError:
        return None


def _score(claims: list[Claim]) -> tuple[int, int]:
    return sum(c.status == VERIFIED for c in claims), -sum(c.status == FALSE for c in claims)


# ------------------------------------------------------------------ entry points


def check_text(text: str, example: Puzzle, *, line: ExampleLine | None = None) -> FactCheck:
    """Check every claim of a text about an example puzzle.

    The text may be structured in the four sections (see :mod:`chessteach.teaching.sections`); claims in the
    general sections are judged leniently (see the module docstring), everything else strictly.
    """
    line = line or ExampleLine.from_puzzle(example)
    masked = _mask(text)
    checker = _Checker(line)
    claims: list[Claim] = []
    for span in section_spans(text):
        general = span.name in GENERAL_SECTIONS
        for start, end in _sentences(masked, span.start, span.end):
            original = " ".join(text[start:end].split())
            strict = not general or bool(_EXAMPLE_MARKERS.search(masked, start, end))
            claims += checker.check(_Sentence(masked, start, end, original, span.name, strict))
    result = FactCheck.of(claims)
    logger.debug("fact-check of a %d-character text on %s: %s", len(text), example.id, result.summary())
    return result


def check_explanation(explanation: Explanation, example: Puzzle) -> FactCheck:
    """Check an explanation's text against its example puzzle.

    >>> from chessteach.puzzles import Puzzle
    >>> from chessteach.teaching.explain import explain_concept
    >>> puzzle = Puzzle.from_solution("6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1", ["a1a8"], themes=["backRankMate"])
    >>> check_explanation(explain_concept("backRankMate", puzzle), puzzle).false
    0
    """
    if explanation.example_id is not None and explanation.example_id != example.id:
        logger.warning(
            "explanation of %s is about puzzle %s, checked against %s",
            explanation.concept,
            explanation.example_id,
            example.id,
        )
    return check_text(explanation.text, example)


__all__ = [
    "FALSE",
    "STATUSES",
    "UNCHECKABLE",
    "VERIFIED",
    "Claim",
    "ExampleLine",
    "FactCheck",
    "check_explanation",
    "check_text",
]
