"""The claim grammar: an explanation's checkable claims, read from its English without looking at a board.

:func:`read_claims` splits a text into its sections and sentences and returns every claim it makes, as a typed
dataclass that says what the words assert: a move or a numbered line of moves (:class:`MoveLine`), a bare
``Nf7`` that may be a move or a knight (:class:`PieceOrMove`), a piece on a square (:class:`PiecePlaced`), a
relation between pieces (:class:`Relation`: attacks, defends, pins, forks, skewers, checks), a piece's state
(:class:`PieceState`: undefended, pinned, checkmated ...), a piece's move to a square (:class:`PieceMove`), a
capture (:class:`Capture`), a check or a mate on a square (:class:`CheckOn`) and a mate in N (:class:`MateIn`).
Whether each holds is decided elsewhere, on the example's boards (:mod:`chessteach.teaching.factcheck`).

Code spans, HTML tags, URLs and FEN strings are blanked out first (:func:`mask`); a sentence in a general
section ("What it is", "How to spot it", "Common mistakes") is *strict* (held to the example) only when it
says it is about this position.

>>> [type(c).__name__ for c in read_claims("1. Ra8# mates: the rook on a1 goes to a8.")]
['MoveLine', 'PiecePlaced', 'PieceMove']
>>> relation = read_claims("The knight on f7 forks the king and the queen.")[1]
>>> relation.verb, relation.subjects[0].name(), [t.name() for t in relation.targets]
('fork', 'knight on f7', ['king', 'queen'])
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import chess

from chessteach.teaching.sections import GENERAL_SECTIONS, section_spans

# ------------------------------------------------------------------ the grammar's fragments
#
# Every pattern of the grammar is composed in this file, once, from these named fragments (plain strings, so
# that they nest); the compiled patterns of the next part are the only ones the readers use.

SQUARE = r"[a-h][1-8]"
"""A square in algebraic notation."""

PLACED = r"\s+(?:(?:is|sits|stands|remains|standing|sitting|placed|posted|still|now)\s+)*(?:on|from|at)\s+"
"""The words between a piece and its square: " on ", " is still on ", " from "."""

ARTICLES = r"(?:(?:the|a|an|its|his|her|their|your|our|my|enemy|opponent's|other|same|lone|own|both)\s+)*"
"""Determiners and adjectives a piece's name may follow."""

COLOUR = r"(?:(?P<color>white|black)(?:'s)?\s+)?"
"""An optional side before a piece: "white ", "Black's "."""

PIECE_TYPE = r"(?P<type>king|queen|rook|bishop|knight|pawn)(?P<plural>s)?"
"""A piece's name, singular or plural."""

SQUARE_LIST = r"(?P<squares>" + SQUARE + r"(?:(?:\s*,\s*and\s+|\s*,\s*|\s+and\s+)" + SQUARE + r")*)"
"""One square or several: "d5", "f7, g7 and h7"."""

SAN = (
    r"(?:O-O-O|O-O|0-0-0|0-0|[KQRBN][a-h]?[1-8]?x?[a-h][1-8]|[a-h]x[a-h][1-8](?:=?[QRBN])?|[a-h][1-8](?:=?[QRBN])?)"
    r"[+#]?"
)
"""A move in SAN, with its check or mate sign (castling also with zeros)."""

FILLER = r"[\s,]*(?:(?:now|also|then|still|both|which|that|immediately|simultaneously|at once|suddenly)[\s,]+)*"
"""Adverbs and relative pronouns between a subject and its verb."""

NEGATION = r"(?P<neg>(?:does|do|did|can|could|will|would)\s*(?:not|n't)\s+|cannot\s+|never\s+|no longer\s+)?"
"""An optional negation before a verb (a negated claim is never checked)."""

RELATION_VERB = (
    r"(?P<verb>attack(?:s|ing)?|hit(?:s|ting)?|threaten(?:s|ing)?|defend(?:s|ing)?|protect(?:s|ing)?|guard(?:s|ing)?"
    r"|pin(?:s|ning)?|fork(?:s|ing)?|skewer(?:s|ing)?|check(?:s|ing)?|gives? check to|giving check to)\b"
)
"""The verbs of a relation between pieces."""

STATE_WORD = (
    r"(?P<state>attacked|undefended|unprotected|unguarded|hanging|loose|defended|protected|guarded|pinned"
    r"|in check|checkmated|mated|trapped)\b"
)
"""The states a piece can be said to be in."""

_FEN_FIELDS = r"(?:\s+[wb](?:\s+(?:-|[KQkq]+))?(?:\s+(?:-|[a-h][36]))?(?:\s+\d+\s+\d+)?)?"
FEN = r"[1-8pnbrqkPNBRQK]+(?:/[1-8pnbrqkPNBRQK]+){7}" + _FEN_FIELDS
"""A FEN string (its placement, and any of its other fields)."""

# ------------------------------------------------------------------ the grammar's patterns, compiled once

CODE_PATTERN = re.compile(r"`[^`\n]*`|<[^>\n]*>|https?://\S+|" + FEN + r"|(?<=\S)\*+|\*+(?=\S)")
"""What :func:`mask` blanks out: code spans, HTML tags, URLs, FEN strings and emphasis marks."""

SENTENCE_END = re.compile(r"[.!?]+(?=\s+[\"'(*_]*[A-Z0-9])|\n\s*\n|\n(?=[ \t]*(?:[-*+#]|\d+[.)])\s)")
"""The end of a sentence: a stop before a capital or a digit, a blank line, or a list item's start."""

EXAMPLE_MARKERS = re.compile(
    r"\b(?:this|our)\s+(?:position|puzzle|example|diagram|game)\b|\bthe (?:example|diagram|puzzle)\b|\bhere\b",
    re.IGNORECASE,
)
"""Words by which a sentence of a general section says it is about the example."""

PIECE_PHRASE = re.compile(
    ARTICLES + COLOUR + r"(?:(?:own|lone|other)\s+)?" + PIECE_TYPE + PLACED + SQUARE_LIST + r"\b", re.IGNORECASE
)
"""A piece on one square or pieces on several: "the white knight on e5", "Black's pawns on d5 and f6"."""

TYPE_ONLY = re.compile(ARTICLES + COLOUR + PIECE_TYPE + r"\b(?!" + PLACED + SQUARE + r")", re.IGNORECASE)
"""A piece named without a square: "the king", "White's queen"."""

LETTER_PIECE = re.compile(r"(?<![\w/=-])(?P<letter>[KQRBN])(?:[a-h]?[1-8]?x?)(?P<square>" + SQUARE + r")[+#]?(?![\w-])")
"""A piece letter and a square (``Nf7``, ``Qxb2+``): a piece, or a move that brings it there."""

BARE_SQUARE = re.compile(r"(?:the\s+)?(?:square\s+)?(?P<square>" + SQUARE + r")\b(?![-/])")
"""A target given as a square alone: "e4", "the square e4"."""

TARGET_SEPARATOR = re.compile(r"\s*(?:,\s*)?(?:(?:and|as well as|or|plus)\s+)?(?:both\s+|also\s+)?")
"""Between two targets of a relation: ", and ", " as well as "."""

FIRST_TARGET = re.compile(r"\s*(?:both\s+)?")
"""Before the first target of a relation."""

BEHIND = re.compile(r"\s*,?\s*(?:to|against|onto|in front of)\s+(?:its\s+|the\s+)?")
"""Before the piece behind a pinned or skewered one: " to its ", " against the "."""

SUBJECT_CHAIN = re.compile(r"\s*,?\s*and\s+")
"""Between two subjects of one verb: "the rook and the queen attack ..."."""

DENIES_LEGALITY = re.compile(
    r"\b(?:illegal|not legal|impossible|not possible|not allowed|cannot be played|can't be played)\b", re.IGNORECASE
)
"""Words by which a sentence says a move cannot be played."""

NEGATED_BEFORE = re.compile(r"\b(?:no|without(?:\s+an?)?|not\s+an?|never\s+an?)\s+$", re.IGNORECASE)
"""A negation right before a piece: "no knight on e5"."""

MOVE_TOKEN = re.compile(
    r"(?P<number>(?<![\w.])\d{1,3}\s*(?:\.\.\.|\.|…)(?!\d))|"
    r"(?<![\w/=*-])(?:\.\.\.|…)?(?P<uci>[a-h][1-8][a-h][1-8][qrbn]?)(?![\w-])|"
    r"(?<![\w/=-])(?:\.\.\.|…)?(?P<san>" + SAN + r")[!?]*(?![\w-])"
)
"""A move number (``24.``, ``24...``), a move in UCI, or a move in SAN with any ``!``/``?`` after it."""

MOVE_GAP = re.compile(r"[\s()\[\]]*")
"""What may stand between the tokens of one line of moves."""

CHECK_WORDS = re.compile(
    r"\s*(?:,\s*)?(?:(?:is|gives|delivers|was|would be)\s+)?(?:(?:already|also|simply|immediately|then)\s+)?(?:a\s+)?"
    r"(?:(?P<mate>checkmate|mate)\b(?!\s+in\b)|(?P<with>with\s+)?(?P<check>check)\b)",
    re.IGNORECASE,
)
"""Words after a move that say it checks or mates: "is mate", "with check"."""

RELATION = re.compile(FILLER + NEGATION + RELATION_VERB, re.IGNORECASE)
"""A relation's verb after its subject: " now attacks", " does not pin"."""

STATE = re.compile(
    r"[\s,]*(?:(?:is|are|was|were|stands|remains|becomes|gets|stays)\s+)(?:(?:now|still|already|left|also)\s+)*"
    r"(?P<neg>not\s+|no longer\s+)?" + STATE_WORD + r"(?:\s+(?:by|from)\s+)?",
    re.IGNORECASE,
)
"""A state after its piece: " is now undefended", " is pinned by "."""

PIECE_MOVE = re.compile(
    FILLER + r"(?:(?:moves|goes|jumps|retreats|comes|steps|slides|lands|returns|escapes|runs|advances|heads)\s+)"
    r"(?:back\s+|forward\s+|over\s+)?(?:to|on|onto)\s+(?P<square>" + SQUARE + r")\b",
    re.IGNORECASE,
)
"""A piece's move after the piece: " goes to a8", " retreats back to e2"."""

CAPTURE = re.compile(
    r"(?:(?<=\s)|^)" + NEGATION + r"(?:(?:can|could|would|will|to)\s+)?"
    r"(?P<verb>takes|take|taking|captures|capture|capturing|recaptures|recapture|wins|win|winning|grabs|grab)\s+"
    r"(?:back\s+)?(?:(?:on|at)\s+(?P<on>" + SQUARE + r")\b)?",
    re.IGNORECASE,
)
"""A capture's verb, and its square if given: "takes on d5", "wins "."""

CHECK_ON = re.compile(
    r"\b"
    + NEGATION
    + r"(?P<what>checkmates|checkmate|mates|mate|mating|checks|check)\s+(?:on|at)\s+(?P<square>"
    + SQUARE
    + r")\b",
    re.IGNORECASE,
)
"""A check or a mate on a square: "mates on h7", "check on e8"."""

MATE_IN = re.compile(r"\bmate\s+in\s+(?P<n>\d|one|two|three|four|five|six)\b", re.IGNORECASE)
"""A mate in N: "mate in 2", "mate in two"."""

# ------------------------------------------------------------------ what the grammar's words mean

PIECE_TYPES: dict[str, chess.PieceType] = {chess.piece_name(t): t for t in chess.PIECE_TYPES}
"""Each piece's name and its type: ``"knight"`` -> ``chess.KNIGHT``."""
PIECE_LETTERS: dict[str, chess.PieceType] = {chess.piece_symbol(t).upper(): t for t in chess.PIECE_TYPES[1:]}
"""Each SAN piece letter (not the pawn's, which SAN does not write) and its type: ``"N"`` -> ``chess.KNIGHT``."""
NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
"""The numbers of a mate in N written as words."""

VERBS = {
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
"""Each relation verb's stem and the relation it names."""

UNDEFENDED_STATES = ("undefended", "unprotected", "unguarded", "hanging", "loose")
"""The state words that say a piece has no defender."""
DEFENDED_STATES = ("defended", "protected", "guarded")
"""The state words that say a piece has a defender ("not defended" reads as undefended)."""


# ------------------------------------------------------------------ what a claim is made of


@dataclass(frozen=True)
class Sentence:
    """A sentence of the text: where it lies, its words (whitespace normalised), its section, and whether its
    claims are held to the example (``strict``) or may be general statements about the concept."""

    start: int
    end: int
    text: str
    section: str | None
    strict: bool


@dataclass(frozen=True)
class PieceRef:
    """A piece named in the text: its type, colour (``None`` when not said) and squares (none for "the king").

    ``letter`` marks a piece letter and a square (``Nf7``), where the square may be a destination.
    """

    start: int
    end: int
    piece_type: chess.PieceType
    color: chess.Color | None
    squares: tuple[chess.Square, ...]
    words: str
    letter: bool = False

    def name(self) -> str:
        """The piece in words: ``white knight on e5``, ``king``."""
        color = "" if self.color is None else ("white " if self.color else "black ")
        where = f" on {'/'.join(chess.square_name(s) for s in self.squares)}" if self.squares else ""
        return f"{color}{chess.piece_name(self.piece_type)}{where}"


Target = PieceRef | chess.Square
"""What a relation is about: a named piece, or a bare square."""


def target_name(target: Target) -> str:
    """A target in words."""
    return target.name() if isinstance(target, PieceRef) else chess.square_name(target)


@dataclass(frozen=True)
class MoveToken:
    """One move as written (SAN or UCI), and whether its sign or the words after it say it checks or mates."""

    words: str
    uci: bool
    wants_check: bool
    wants_mate: bool


@dataclass(frozen=True)
class MoveLine:
    """Moves written one after the other (``1. Nf7+ Kg8 2. Nh6+``, or one move alone).

    ``number`` is the move number and side of the first move when the line is numbered; ``denied`` says the
    sentence calls a move impossible.
    """

    sentence: Sentence
    moves: tuple[MoveToken, ...]
    number: tuple[int, chess.Color] | None
    denied: bool

    @property
    def numbered(self) -> bool:
        return self.number is not None


@dataclass(frozen=True)
class PieceOrMove:
    """A piece letter and a square alone (``Nf7``): a move of the line, or a piece standing there."""

    sentence: Sentence
    move: MoveToken
    piece_type: chess.PieceType
    square: chess.Square


@dataclass(frozen=True)
class PiecePlaced:
    """A piece on a square ("the knight on e5"); ``negated`` for "no knight on e5"."""

    sentence: Sentence
    piece: PieceRef
    negated: bool = False


@dataclass(frozen=True)
class Relation:
    """``subjects`` attack / defend / pin / fork / skewer / check ``targets`` (``behind``: the piece a pin or a
    skewer is against, if named)."""

    sentence: Sentence
    words: str
    verb: str
    subjects: tuple[PieceRef, ...]
    targets: tuple[Target, ...]
    behind: Target | None
    negated: bool


@dataclass(frozen=True)
class PieceState:
    """A piece is attacked / undefended / defended / pinned / in check / checkmated / trapped (``by`` a piece)."""

    sentence: Sentence
    words: str
    piece: PieceRef
    state: str
    by: PieceRef | None
    negated: bool


@dataclass(frozen=True)
class PieceMove:
    """A piece on a square moves to another square ("the queen on b2 moves to b1")."""

    sentence: Sentence
    words: str
    piece: PieceRef
    square: chess.Square


@dataclass(frozen=True)
class Capture:
    """A capture on a square ("takes on d5"), of a named piece ("takes the rook on f7"), by a subject."""

    sentence: Sentence
    words: str
    square: chess.Square
    subject: PieceRef | None
    target: PieceRef | None
    negated: bool


@dataclass(frozen=True)
class CheckOn:
    """A check or a mate given on a square ("mates on h7"), by a subject if named."""

    sentence: Sentence
    words: str
    square: chess.Square
    subject: PieceRef | None
    mate: bool
    negated: bool


@dataclass(frozen=True)
class MateIn:
    """A mate in ``n`` moves."""

    sentence: Sentence
    words: str
    n: int


TextClaim = MoveLine | PieceOrMove | PiecePlaced | Relation | PieceState | PieceMove | Capture | CheckOn | MateIn
"""Any claim the grammar reads."""


# ------------------------------------------------------------------ masking, sentences


def mask(text: str) -> str:
    """The text with code spans, HTML tags, URLs and FEN strings blanked out (offsets kept).

    >>> mask("play `Nf7` now")
    'play       now'
    """
    return CODE_PATTERN.sub(lambda m: " " * len(m.group(0)), text)


def sentence_spans(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """The (start, end) offsets of the sentences in ``text[start:end]``; a period after a bare number (a move
    number such as ``24.``) does not end a sentence."""
    cursor = start
    for match in SENTENCE_END.finditer(text, start, end):
        before = text[cursor : match.start()].rstrip()
        if match.group(0).startswith((".", "!", "?")) and re.search(r"(?:^|\s)\d+$", before):
            continue
        stop = match.end() if match.group(0).startswith((".", "!", "?")) else match.start()
        if text[cursor:stop].strip():
            yield cursor, stop
        cursor = match.end()
    if text[cursor:end].strip():
        yield cursor, end


# ------------------------------------------------------------------ pieces


def _color_word(word: str | None) -> chess.Color | None:
    if word is None:
        return None
    return chess.WHITE if word.lower() == "white" else chess.BLACK


def _type_only(match: re.Match[str]) -> PieceRef:
    return PieceRef(
        match.start(),
        match.end(),
        PIECE_TYPES[match.group("type").lower()],
        _color_word(match.group("color")),
        (),
        match.group(0),
    )


def _letter_piece(match: re.Match[str]) -> PieceRef:
    """A piece-letter token (``Nf7``) as a piece phrase."""
    square = chess.parse_square(match.group("square"))
    return PieceRef(
        match.start(), match.end(), PIECE_LETTERS[match.group("letter")], None, (square,), match.group(0), letter=True
    )


def _piece_at(text: str, pos: int, *, type_only: bool = True) -> PieceRef | None:
    """A piece phrase starting exactly at ``pos`` ("the white knight on e5", "Nf7", or "the king")."""
    match = PIECE_PHRASE.match(text, pos)
    if match:
        names = re.findall(SQUARE, match.group("squares"), re.IGNORECASE)
        squares = tuple(chess.parse_square(s.lower()) for s in names)
        end = match.end()
        if not match.group("plural"):
            squares = squares[:1]
            end = match.start("squares") + 2
        return PieceRef(
            pos,
            end,
            PIECE_TYPES[match.group("type").lower()],
            _color_word(match.group("color")),
            squares,
            text[pos:end],
        )
    match = LETTER_PIECE.match(text, pos)
    if match:
        return _letter_piece(match)
    if type_only:
        match = TYPE_ONLY.match(text, pos)
        if match:
            return _type_only(match)
    return None


def _pieces_in(text: str, start: int, end: int) -> list[PieceRef]:
    """Every piece phrase with a square in ``text[start:end]``, and every piece-letter token (``Nf7``)."""
    found: list[PieceRef] = []
    for match in PIECE_PHRASE.finditer(text, start, end):
        piece = _piece_at(text, match.start(), type_only=False)
        if piece is not None:
            found.append(piece)
    found.extend(_letter_piece(match) for match in LETTER_PIECE.finditer(text, start, end))
    return sorted(found, key=lambda p: p.start)


def _unplaced_pieces(text: str, start: int, end: int, placed: list[PieceRef]) -> list[PieceRef]:
    """Pieces named without a square ("the knight", "White's queen"), outside the placed pieces' phrases."""
    return [
        _type_only(match)
        for match in TYPE_ONLY.finditer(text, start, end)
        if not any(p.start <= match.start() < p.end for p in placed)
    ]


def _subject_before(pieces: list[PieceRef], pos: int, text: str) -> list[PieceRef]:
    """The pieces ending right before ``pos`` (a chain joined by "and"), nearest last."""
    chain: list[PieceRef] = []
    cursor = pos
    for piece in reversed(pieces):
        if piece.end > cursor:
            continue
        gap = text[piece.end : cursor]
        if (not chain and gap.strip(" ,") == "") or (chain and SUBJECT_CHAIN.fullmatch(gap)):
            chain.insert(0, piece)
            cursor = piece.start
        else:
            break
    return chain


def _targets_after(text: str, pos: int, end: int) -> tuple[list[Target], int]:
    """The list of targets starting at ``pos`` (pieces, "the king", or bare squares), and where it ends."""
    targets: list[Target] = []
    cursor = pos
    while cursor < end:
        gap = (TARGET_SEPARATOR if targets else FIRST_TARGET).match(text, cursor)
        assert gap is not None  # both patterns match the empty string
        start = gap.end()
        piece = _piece_at(text, start)
        if piece is not None and piece.end <= end:
            targets.append(piece)
            cursor = piece.end
            continue
        square = BARE_SQUARE.match(text, start)
        if square and square.end() <= end:
            targets.append(chess.parse_square(square.group("square")))
            cursor = square.end()
            continue
        break
    return targets, cursor


def verb_root(word: str) -> str:
    """The relation a verb names: ``"forks"`` -> ``"fork"``, ``"gives check to"`` -> ``"check"``."""
    word = word.lower().split()[0]
    for stem, root in VERBS.items():
        if word.startswith(stem):
            return root
    raise ValueError(f"not a relation verb: {word!r}")


# ------------------------------------------------------------------ the readers, one per kind of claim


class _Reader:
    """Reads the claims of one sentence of a masked text."""

    def __init__(self, text: str, sentence: Sentence):
        self.text = text
        self.sentence = sentence
        self.pieces = _pieces_in(text, sentence.start, sentence.end)

    def claims(self) -> list[TextClaim]:
        """Every claim of the sentence, in a fixed order: moves, pieces, relations, states, piece moves,
        captures, checks and mates on a square, mates in N."""
        return [
            *self._moves(),
            *self._pieces(),
            *self._relations(),
            *self._states(),
            *self._piece_moves(),
            *self._captures(),
            *self._checks_on(),
            *self._mates_in(),
        ]

    def _words(self, start: int, end: int) -> str:
        return " ".join(self.text[start:end].split())

    # -------------------------------------------------------------- moves

    def _moves(self) -> list[TextClaim]:
        sentence, text = self.sentence, self.text
        runs: list[list[re.Match[str]]] = []
        for token in MOVE_TOKEN.finditer(text, sentence.start, sentence.end):
            if (
                runs
                and MOVE_GAP.fullmatch(text[runs[-1][-1].end() : token.start()])
                and not (token.group("number") and runs[-1][-1].group("number"))
            ):
                runs[-1].append(token)
            else:
                runs.append([token])
        claims: list[TextClaim] = []
        for run in runs:
            claim = self._run(run)
            if claim is not None:
                claims.append(claim)
        return claims

    def _run(self, run: list[re.Match[str]]) -> TextClaim | None:
        tokens = [t for t in run if not t.group("number")]
        if not tokens:
            return None
        number = run[0].group("number")
        if not number and all(bool(t.group("san")) and re.fullmatch(SQUARE, t.group("san")) for t in tokens):
            return None  # "e4" alone is a square, not a move
        moves = tuple(self._move(t) for t in tokens)
        if not number and len(tokens) == 1 and re.fullmatch(r"[KQRBN]" + SQUARE, tokens[0].group("san") or ""):
            san = tokens[0].group("san")
            return PieceOrMove(self.sentence, moves[0], PIECE_LETTERS[san[0]], chess.parse_square(san[1:]))
        numbered = None
        if number:
            black = "..." in number or "…" in number
            numbered = (int(re.sub(r"\D", "", number)), chess.BLACK if black else chess.WHITE)
        denied = bool(DENIES_LEGALITY.search(self.text, self.sentence.start, self.sentence.end))
        return MoveLine(self.sentence, moves, numbered, denied)

    def _move(self, token: re.Match[str]) -> MoveToken:
        words = token.group("uci") or token.group("san")
        after = CHECK_WORDS.match(self.text, token.end(), self.sentence.end)
        wants_mate = words.endswith("#") or bool(after and after.group("mate"))
        wants_check = words.endswith("+") or bool(
            after and after.group("check") and (after.group("with") or "gives" in after.group(0))
        )
        return MoveToken(words, bool(token.group("uci")), wants_check, wants_mate)

    # -------------------------------------------------------------- pieces on squares

    def _pieces(self) -> list[TextClaim]:
        claims: list[TextClaim] = []
        for piece in self.pieces:
            if piece.letter:
                continue  # piece letters are read as moves
            if NEGATED_BEFORE.search(self.text, self.sentence.start, piece.start):
                claims.append(PiecePlaced(self.sentence, piece, negated=True))
                continue
            for square in piece.squares:
                single = PieceRef(piece.start, piece.end, piece.piece_type, piece.color, (square,), piece.words)
                claims.append(PiecePlaced(self.sentence, single))
        return claims

    # -------------------------------------------------------------- relations

    def _relations(self) -> list[TextClaim]:
        claims: list[TextClaim] = []
        text, end = self.text, self.sentence.end
        for piece in self.pieces + _unplaced_pieces(text, self.sentence.start, end, self.pieces):
            match = RELATION.match(text, piece.end, end)
            if not match:
                continue
            subjects = _subject_before(self.pieces, piece.end, text) if piece.squares else [piece]
            verb = verb_root(match.group("verb"))
            targets, cursor = _targets_after(text, match.end(), end)
            behind: Target | None = None
            extra = BEHIND.match(text, cursor, end)
            if extra and verb in ("pin", "skewer"):
                more, after = _targets_after(text, extra.end(), end)
                if more:
                    behind, cursor = more[0], after
            if not targets and verb != "check":
                continue
            words = self._words(subjects[0].start if subjects else piece.start, cursor)
            if not targets:
                targets = [PieceRef(0, 0, chess.KING, None, (), "the king")]
            claims.append(
                Relation(
                    self.sentence,
                    words,
                    verb,
                    tuple(subjects or [piece]),
                    tuple(targets),
                    behind,
                    bool(match.group("neg")),
                )
            )
        return claims

    # -------------------------------------------------------------- states

    def _states(self) -> list[TextClaim]:
        claims: list[TextClaim] = []
        text = self.text
        for piece in self.pieces:
            match = STATE.match(text, piece.end, self.sentence.end)
            if not match:
                continue
            state = match.group("state").lower()
            negated = False
            if match.group("neg"):
                if state in DEFENDED_STATES:
                    state = "undefended"  # "not defended"
                else:
                    claims.append(
                        PieceState(
                            self.sentence, self._words(piece.start, match.end()), piece, state, None, negated=True
                        )
                    )
                    continue
            by = _piece_at(text, match.end()) if match.group(0).rstrip().endswith(("by", "from")) else None
            end = by.end if by is not None else match.end()
            claims.append(PieceState(self.sentence, self._words(piece.start, end), piece, state, by, negated))
        return claims

    # -------------------------------------------------------------- piece moves, captures, checks on a square

    def _piece_moves(self) -> list[TextClaim]:
        claims: list[TextClaim] = []
        for piece in self.pieces:
            match = PIECE_MOVE.match(self.text, piece.end, self.sentence.end)
            if match and piece.squares:
                claims.append(
                    PieceMove(
                        self.sentence,
                        self._words(piece.start, match.end()),
                        piece,
                        chess.parse_square(match.group("square")),
                    )
                )
        return claims

    def _captures(self) -> list[TextClaim]:
        claims: list[TextClaim] = []
        text = self.text
        for match in CAPTURE.finditer(text, self.sentence.start, self.sentence.end):
            target: PieceRef | None = None
            end = match.end()
            if match.group("on") is not None:
                square = chess.parse_square(match.group("on"))
            else:
                target = _piece_at(text, match.end(), type_only=False)
                if target is None or len(target.squares) != 1 or target.letter:
                    continue
                square, end = target.squares[0], target.end
            subjects = _subject_before(self.pieces, match.start(), text)
            subject = subjects[-1] if subjects else None
            words = self._words(subject.start if subject else match.start(), end)
            claims.append(Capture(self.sentence, words, square, subject, target, bool(match.group("neg"))))
        return claims

    def _checks_on(self) -> list[TextClaim]:
        claims: list[TextClaim] = []
        for match in CHECK_ON.finditer(self.text, self.sentence.start, self.sentence.end):
            subjects = _subject_before(self.pieces, match.start(), self.text)
            subject = subjects[-1] if subjects else None
            claims.append(
                CheckOn(
                    self.sentence,
                    self._words(subject.start if subject else match.start(), match.end()),
                    chess.parse_square(match.group("square")),
                    subject,
                    mate="mat" in match.group("what").lower(),
                    negated=bool(match.group("neg")),
                )
            )
        return claims

    def _mates_in(self) -> list[TextClaim]:
        claims: list[TextClaim] = []
        for match in MATE_IN.finditer(self.text, self.sentence.start, self.sentence.end):
            n = match.group("n").lower()
            claims.append(MateIn(self.sentence, match.group(0), int(n) if n.isdigit() else NUMBERS[n]))
        return claims


# ------------------------------------------------------------------ entry point


def read_claims(text: str) -> list[TextClaim]:
    """Every checkable claim of a text, sentence by sentence, in the order of the text.

    The text may be structured in the four sections (see :mod:`chessteach.teaching.sections`); a sentence of a
    general section is strict only when it says it is about the example ("this position", "here").
    """
    masked = mask(text)
    claims: list[TextClaim] = []
    for span in section_spans(text):
        general = span.name in GENERAL_SECTIONS
        for start, end in sentence_spans(masked, span.start, span.end):
            strict = not general or bool(EXAMPLE_MARKERS.search(masked, start, end))
            sentence = Sentence(start, end, " ".join(text[start:end].split()), span.name, strict)
            claims += _Reader(masked, sentence).claims()
    return claims


__all__ = [
    "Capture",
    "CheckOn",
    "MateIn",
    "MoveLine",
    "MoveToken",
    "PieceMove",
    "PieceOrMove",
    "PiecePlaced",
    "PieceRef",
    "PieceState",
    "Relation",
    "Sentence",
    "Target",
    "TextClaim",
    "mask",
    "read_claims",
    "sentence_spans",
    "target_name",
    "verb_root",
]
