"""Fact-checking explanations: decide each checkable claim of a text on the example's boards.

An explanation of a concept talks about one example puzzle. The claim grammar
(:mod:`chessteach.teaching.claims`) reads its checkable claims from the English, without a board; this module
decides them on the example's positions, by :mod:`chessteach.concepts` wherever it names the motif (a skewer is
one that :func:`chessteach.concepts.tactics.skewers` finds, so never against a pawn; a pin to the king is
checked as a ``pin`` fact; defended and trapped pieces by :mod:`chessteach.concepts.tactics`). Two relations
stay plain geometry, as concepts has no checker for them: a fork claim needs two enemy pieces attacked at once
(looser than :func:`~chessteach.concepts.tactics.find_fork`), and a relative pin a more valuable piece of the
pinned side right behind it on the line. The claims:

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import chess

from chessteach.concepts.facts import Fact, check_fact
from chessteach.concepts.notation import board_move_number
from chessteach.concepts.pieces import LINE_PIECES, PIECE_VALUES
from chessteach.concepts.tactics import is_defended, is_trapped, skewers
from chessteach.puzzles.puzzle import Puzzle
from chessteach.teaching.claims import (
    DEFENDED_STATES,
    UNDEFENDED_STATES,
    Capture,
    CheckOn,
    MateIn,
    MoveLine,
    MoveToken,
    PieceMove,
    PieceOrMove,
    PiecePlaced,
    PieceRef,
    PieceState,
    Relation,
    Sentence,
    Target,
    TextClaim,
    read_claims,
    target_name,
)
from chessteach.teaching.sections import Explanation, example_spans

logger = logging.getLogger(__name__)

VERIFIED = "verified"
FALSE = "false"
UNCHECKABLE = "uncheckable"
STATUSES: tuple[str, ...] = (VERIFIED, FALSE, UNCHECKABLE)

NEGATED = "negated claims are not checked"


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

    ``boards[0]`` is the puzzle's FEN (before the setup move, if it has one), then the position after each move
    of the solution and of its ``continuation`` (the engine's line on from the solution's end, for an exercise
    that stores only its best move); ``numbered[(n, color)]`` is the index of the board where ``color`` plays its
    move ``n``. :attr:`final` is the solution's final position.

    >>> from chessteach.puzzles import Puzzle
    >>> p = Puzzle.from_solution("6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1", ["a1b1"])
    >>> line = ExampleLine.from_puzzle(p, [chess.Move.from_uci("g8f8")])
    >>> len(line.boards), line.final.fen() == line.boards[1].fen()
    (3, True)
    """

    boards: tuple[chess.Board, ...]
    moves: tuple[chess.Move, ...]
    solver_moves: int
    numbered: dict[tuple[int, chess.Color], int]
    continuation: tuple[chess.Move, ...] = ()

    @classmethod
    def from_puzzle(cls, puzzle: Puzzle, continuation: Sequence[chess.Move] = ()) -> ExampleLine:
        """The puzzle's line, and ``continuation`` played on from its final position (up to a move that is not
        legal there, which is logged)."""
        board = chess.Board(puzzle.fen)
        boards = [board.copy(stack=False)]
        for move in puzzle.moves:
            board.push(move)
            boards.append(board.copy(stack=False))
        played: list[chess.Move] = []
        for move in continuation:
            if move not in board.legal_moves:
                logger.warning("puzzle %s: the continuation's %s is not legal in %s", puzzle.id, move, board.fen())
                break
            board.push(move)
            boards.append(board.copy(stack=False))
            played.append(move)
        numbered = {(b.fullmove_number, b.turn): i for i, b in enumerate(boards)}
        return cls(tuple(boards), tuple(puzzle.moves), len(puzzle.solver_moves), numbered, tuple(played))

    @property
    def final(self) -> chess.Board:
        """The solution's final position (before any continuation)."""
        return self.boards[len(self.moves)]

    def where(self, index: int) -> str:
        """Words for a position: ``"at 24... (Black to move)"``."""
        board = self.boards[index]
        return f"at {board_move_number(board)} ({'White' if board.turn else 'Black'} to move)"


# ------------------------------------------------------------------ the named pieces on a board


def _matches(piece: PieceRef, board: chess.Board, square: chess.Square) -> bool:
    """Whether the piece on ``square`` is of the named type (and colour, if named)."""
    found = board.piece_at(square)
    return found is not None and found.piece_type == piece.piece_type and piece.color in (None, found.color)


def _placements(piece: PieceRef, board: chess.Board) -> list[chess.Square]:
    """The squares where a named piece stands on ``board`` (its named squares, or any square if none named)."""
    return [s for s in piece.squares or chess.SQUARES if _matches(piece, board, s)]


def _target_squares(board: chess.Board, target: Target, mover: chess.Color) -> list[chess.Square]:
    """The squares a target can mean on ``board``: a bare square, or where the named piece stands (for a
    piece named without colour, one of the other side's when it has one there)."""
    if isinstance(target, int):
        return [target]
    squares = _placements(target, board)
    if target.color is None and not target.squares:
        squares = [s for s in squares if board.color_at(s) != mover]
    return squares


def _colors(color: chess.Color | None) -> str:
    return "white or black" if color is None else ("white" if color else "black")


def _parse(board: chess.Board, move: MoveToken) -> chess.Move | None:
    try:
        if move.uci:
            return board.parse_uci(move.words)
        return board.parse_san(move.words.replace("0", "O"))
    except ValueError:
        return None


# ------------------------------------------------------------------ relations, by chessteach.concepts


def _first_behind(board: chess.Board, origin: chess.Square, front: chess.Square) -> chess.Square | None:
    """The first piece beyond ``front`` on the line from ``origin`` through it."""
    beyond = [
        s
        for s in chess.SquareSet(chess.ray(origin, front))
        if chess.square_distance(origin, s) > chess.square_distance(origin, front)
        and front in chess.SquareSet(chess.between(origin, s))
    ]
    return next((s for s in sorted(beyond, key=lambda s: chess.square_distance(front, s)) if board.piece_at(s)), None)


def _pins(board: chess.Board, subject: chess.Square, target: chess.Square, behind: list[chess.Square] | None) -> bool:
    """Whether the piece on ``subject`` pins the enemy piece on ``target`` (to a piece on one of ``behind``'s
    squares, if given): to its king by :mod:`chessteach.concepts.tactics`' pin, or to a more valuable piece
    of its own behind it on the line (a relative pin, which concepts does not name)."""
    color = board.color_at(target)
    if (
        board.piece_type_at(subject) not in LINE_PIECES
        or color is None
        or color == board.color_at(subject)
        or target not in board.attacks(subject)
    ):
        return False
    back = _first_behind(board, subject, target)
    if back is None or board.color_at(back) != color or (behind is not None and back not in behind):
        return False
    if board.piece_type_at(back) == chess.KING:
        squares = (subject, target, back)
        pieces = tuple(board.piece_at(s).symbol() for s in squares)  # type: ignore[union-attr]
        return check_fact(board, Fact(kind="pin", squares=squares, pieces=pieces, text="pin"))
    return PIECE_VALUES[board.piece_type_at(back)] > PIECE_VALUES[board.piece_type_at(target)]  # type: ignore[index]


def _skewers(
    board: chess.Board, subject: chess.Square, target: chess.Square, behind: list[chess.Square] | None
) -> bool:
    """Whether the piece on ``subject`` skewers the piece on ``target`` (against one on ``behind``'s squares, if
    given), as :func:`chessteach.concepts.tactics.skewers` finds it: never against a pawn."""
    return any(
        fact.squares[1] == target and (behind is None or fact.squares[2] in behind) for fact in skewers(board, subject)
    )


def _relation_one(
    board: chess.Board, verb: str, subject: chess.Square, target: chess.Square, behind: list[chess.Square] | None
) -> bool:
    """Whether the piece on ``subject`` stands in the relation ``verb`` to the square ``target``."""
    if target not in board.attacks(subject):
        return False
    color = board.color_at(subject)
    target_color = board.color_at(target)
    if verb == "attack":
        return target_color != color
    if verb == "defend":
        return target_color in (color, None)
    if verb == "check":
        return board.piece_type_at(target) == chess.KING and target_color == (not color)
    if verb == "pin":
        return _pins(board, subject, target, behind)
    if verb == "skewer":
        return _skewers(board, subject, target, behind)
    return False


def _relation_holds(
    board: chess.Board, verb: str, subject: chess.Square, targets: Sequence[Target], behind: Target | None
) -> bool:
    """Whether the piece on ``subject`` stands in the relation ``verb`` to every target on ``board``; a fork is
    an attack on two enemy pieces at once."""
    piece = board.piece_at(subject)
    assert piece is not None
    options = [_target_squares(board, t, piece.color) for t in targets]
    if any(not o for o in options):
        return False
    if verb == "fork":
        if len(targets) < 2 and not any(isinstance(t, PieceRef) and len(t.squares) > 1 for t in targets):
            return False
        hit = [s for o in options for s in o if s in board.attacks(subject) and board.color_at(s) == (not piece.color)]
        return len(set(hit)) >= 2 and all(any(s in hit for s in o) for o in options)
    behind_squares = None if behind is None else _target_squares(board, behind, piece.color)
    return all(any(_relation_one(board, verb, subject, s, behind_squares) for s in option) for option in options)


def _state_holds(board: chess.Board, square: chess.Square, state: str, by: PieceRef | None) -> bool:
    """Whether the piece on ``square`` is in ``state`` (by the piece ``by``, if named) on ``board``."""
    piece = board.piece_at(square)
    assert piece is not None
    enemies = board.attackers(not piece.color, square)
    friends = board.attackers(piece.color, square)
    if state == "attacked":
        return bool(enemies) and (by is None or any(_matches(by, board, s) for s in enemies))
    if state in UNDEFENDED_STATES:
        return not is_defended(board, square)
    if state in DEFENDED_STATES:
        if by is not None:
            return any(_matches(by, board, s) for s in friends)
        return is_defended(board, square)
    if state == "pinned":
        pinners = [s for s in enemies if by is None or _matches(by, board, s)]
        pinned = by is None and board.is_pinned(piece.color, square)
        return pinned or any(_pins(board, s, square, None) for s in pinners)
    if state == "in check":
        return (
            piece.piece_type == chess.KING
            and bool(enemies)
            and (by is None or any(_matches(by, board, s) for s in enemies))
        )
    if state in ("checkmated", "mated"):
        return (
            piece.piece_type == chess.KING
            and board.turn == piece.color
            and board.is_checkmate()
            and (by is None or any(_matches(by, board, s) for s in board.checkers()))
        )
    if state == "trapped":
        return board.turn == piece.color and is_trapped(board, square)
    return False


def _capture_on(board: chess.Board, claim: Capture) -> bool:
    subject, target = claim.subject, claim.target
    if target is not None and not _matches(target, board, claim.square):
        return False
    return any(
        m.to_square == claim.square
        and board.is_capture(m)
        and (
            subject is None
            or (_matches(subject, board, m.from_square) and (subject.letter or m.from_square in subject.squares))
        )
        for m in board.legal_moves
    )


def _check_to(board: chess.Board, claim: CheckOn) -> bool:
    subject = claim.subject
    for move in board.legal_moves:
        if move.to_square != claim.square:
            continue
        if subject is not None and not (
            board.piece_type_at(move.from_square) == subject.piece_type
            and (subject.color is None or board.turn == subject.color)
        ):
            continue
        board.push(move)
        try:
            if board.is_checkmate() if claim.mate else board.is_check():
                return True
        finally:
            board.pop()
    return False


# ------------------------------------------------------------------ the checker


def _verdict(
    sentence: Sentence, kind: str, words: str, ok: bool | None, reason: str, *, strict: bool | None = None
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
        kind, " ".join(words.split()), sentence.text, status, reason if status != VERIFIED else "", sentence.section
    )


def _score(claims: Sequence[Claim]) -> tuple[int, int]:
    return sum(c.status == VERIFIED for c in claims), -sum(c.status == FALSE for c in claims)


class _Checker:
    """Decides the claims of one text on one example line."""

    def __init__(self, line: ExampleLine):
        self.line = line

    def check(self, claim: TextClaim) -> list[Claim]:
        """The verdicts on one claim of the text (a line of moves gives one per move)."""
        match claim:
            case MoveLine():
                return self._moves(claim)
            case PieceOrMove():
                return self._piece_or_move(claim)
            case PiecePlaced():
                return self._piece(claim)
            case Relation():
                return self._relation(claim)
            case PieceState():
                return self._state(claim)
            case PieceMove():
                return self._piece_move(claim)
            case Capture():
                return self._capture(claim)
            case CheckOn():
                return self._check_on(claim)
            case MateIn():
                return self._mate_in(claim)

    def _anywhere(self, test: Callable[[chess.Board], bool]) -> bool:
        return any(test(board) for board in self.line.boards)

    # -------------------------------------------------------------- moves

    def _moves(self, claim: MoveLine) -> list[Claim]:
        if claim.number is not None:
            index = self.line.numbered.get(claim.number)
            starts = [index] if index is not None else list(range(len(self.line.boards)))
            placed = index is not None
        else:
            starts = list(range(len(self.line.boards)))
            placed = False
        best: tuple[tuple[int, int, int], list[Claim]] | None = None
        for start in starts:
            attempt, legal = self._play(claim, start, placed=placed)
            score = (*_score(attempt), legal)
            if best is None or score > best[0]:
                best = (score, attempt)
            if all(c.status == VERIFIED for c in attempt):
                break
        assert best is not None
        return best[1]

    def _play(self, claim: MoveLine, start: int, *, placed: bool) -> tuple[list[Claim], int]:
        """The verdicts on a line of moves played from board ``start``, and how many of its moves were legal."""
        sentence = claim.sentence
        strict = True if claim.numbered else None
        board = self.line.boards[start].copy(stack=False)
        claims: list[Claim] = []
        failed = False
        legal = 0
        for token in claim.moves:
            words = token.words
            if failed:
                claims.append(_verdict(sentence, "move", words, None, "follows an illegal move"))
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
                if claim.denied:
                    claims.append(_verdict(sentence, "move", words, None, f"the text calls it impossible ({reason})"))
                else:
                    claims.append(_verdict(sentence, "move", words, False, reason, strict=strict))
                continue
            board.push(move)
            legal += 1
            problem = _sign_problem(token, board)
            claims.append(_verdict(sentence, "move", words, problem is None, problem or "", strict=strict))
            failed = problem is not None
        return claims, legal

    def _piece_or_move(self, claim: PieceOrMove) -> list[Claim]:
        """``Nf7`` alone: a legal move of the line's positions, or a knight standing on f7 in one of them."""
        words = claim.move.words
        for board in self.line.boards:
            move = _parse(board, claim.move)
            if move is not None:
                after = board.copy(stack=False)
                after.push(move)
                if _sign_problem(claim.move, after) is None:
                    return [_verdict(claim.sentence, "move", words, True, "")]
        if self._anywhere(lambda board: board.piece_type_at(claim.square) == claim.piece_type):
            return [_verdict(claim.sentence, "piece", words, True, "")]
        return [
            _verdict(
                claim.sentence,
                "move",
                words,
                False,
                f"{words} is neither a legal move nor a {chess.piece_name(claim.piece_type)} on "
                f"{chess.square_name(claim.square)} in any position of the line",
            )
        ]

    # -------------------------------------------------------------- pieces, relations, states

    def _piece(self, claim: PiecePlaced) -> list[Claim]:
        piece = claim.piece
        if claim.negated:
            return [_verdict(claim.sentence, "piece", piece.words, None, NEGATED)]
        (square,) = piece.squares
        ok = self._anywhere(lambda board: _matches(piece, board, square))
        reason = (
            f"no {_colors(piece.color)} {chess.piece_name(piece.piece_type)} on {chess.square_name(square)}"
            " in any position of the line"
        )
        return [_verdict(claim.sentence, "piece", piece.name(), ok, reason)]

    def _relation(self, claim: Relation) -> list[Claim]:
        if claim.negated:
            return [_verdict(claim.sentence, "relation", claim.words, None, NEGATED)]
        for subject in claim.subjects:
            if not any(
                _relation_holds(board, claim.verb, square, claim.targets, claim.behind)
                for board in self.line.boards
                for square in _placements(subject, board)
            ):
                named = ", ".join(target_name(t) for t in claim.targets)
                against = f" (with {target_name(claim.behind)} behind)" if claim.behind is not None else ""
                reason = f"in no position of the line does the {subject.name()} {claim.verb} {named}{against}"
                return [_verdict(claim.sentence, "relation", claim.words, False, reason)]
        return [_verdict(claim.sentence, "relation", claim.words, True, "")]

    def _state(self, claim: PieceState) -> list[Claim]:
        if claim.negated:
            return [_verdict(claim.sentence, "state", claim.words, None, NEGATED)]
        ok = self._anywhere(
            lambda board: any(
                _state_holds(board, square, claim.state, claim.by) for square in _placements(claim.piece, board)
            )
        )
        by = f" by the {claim.by.name()}" if claim.by is not None else ""
        reason = f"the {claim.piece.name()} is never {claim.state}{by} in the line's positions"
        return [_verdict(claim.sentence, "state", claim.words, ok, reason)]

    # -------------------------------------------------------------- piece moves, captures, checks on a square

    def _piece_move(self, claim: PieceMove) -> list[Claim]:
        ok = self._anywhere(
            lambda board: any(
                m.from_square in _placements(claim.piece, board) and m.to_square == claim.square
                for m in board.legal_moves
            )
        )
        reason = (
            f"the {claim.piece.name()} has no legal move to {chess.square_name(claim.square)} in any position of"
            " the line"
        )
        return [_verdict(claim.sentence, "piece_move", claim.words, ok, reason)]

    def _capture(self, claim: Capture) -> list[Claim]:
        if claim.negated:
            return [_verdict(claim.sentence, "capture", claim.words, None, NEGATED)]
        ok = self._anywhere(lambda board: _capture_on(board, claim))
        reason = (
            f"no legal capture on {chess.square_name(claim.square)}"
            + (f" by the {claim.subject.name()}" if claim.subject else "")
            + (f" of the {claim.target.name()}" if claim.target else "")
            + " in any position of the line"
        )
        return [_verdict(claim.sentence, "capture", claim.words, ok, reason)]

    def _check_on(self, claim: CheckOn) -> list[Claim]:
        kind = "mate" if claim.mate else "check"
        if claim.negated:
            return [_verdict(claim.sentence, kind, claim.words, None, NEGATED)]
        ok = self._anywhere(lambda board: _check_to(board, claim))
        reason = (
            f"no legal move{' of the ' + claim.subject.name() if claim.subject else ''} to "
            f"{chess.square_name(claim.square)} gives {'checkmate' if claim.mate else 'check'} in any position of"
            " the line"
        )
        return [_verdict(claim.sentence, kind, claim.words, ok, reason)]

    def _mate_in(self, claim: MateIn) -> list[Claim]:
        if self.line.final.is_checkmate() and claim.n == self.line.solver_moves:
            return [_verdict(claim.sentence, "mate_in", claim.words, True, "")]
        reason = "mate in N is only checked against a solution line that mates in N"
        return [_verdict(claim.sentence, "mate_in", claim.words, None, reason)]


def _sign_problem(move: MoveToken, board: chess.Board) -> str | None:
    """What is wrong with the check or mate a move claims (by its ``+``/``#`` or the words after it), on the
    board after it."""
    if move.wants_mate and not board.is_checkmate():
        return f"{move.words.rstrip('+#')} is legal but not checkmate"
    if move.wants_check and not board.is_check():
        return f"{move.words.rstrip('+#')} is legal but gives no check"
    return None


# ------------------------------------------------------------------ entry points


def check_claims(claims: Sequence[TextClaim], line: ExampleLine) -> FactCheck:
    """Decide claims read by :func:`~chessteach.teaching.claims.read_claims` on an example line."""
    checker = _Checker(line)
    return FactCheck.of([verdict for claim in claims for verdict in checker.check(claim)])


def check_text(text: str, example: Puzzle, *, line: ExampleLine | None = None) -> FactCheck:
    """Check every claim of a text about an example puzzle.

    The text may be structured in the four sections (see :mod:`chessteach.teaching.sections`); claims in the
    general sections are judged leniently (see the module docstring), everything else strictly.
    """
    result = check_claims(read_claims(text), line or ExampleLine.from_puzzle(example))
    logger.debug("fact-check of a %d-character text on %s: %s", len(text), example.id, result.summary())
    return result


def check_examples_text(
    text: str, examples: Sequence[Puzzle], *, lines: Sequence[ExampleLine] | None = None
) -> FactCheck:
    """Check a text about several example puzzles: a claim under ``### Example N`` in "Worked example"
    (:func:`~chessteach.teaching.sections.example_spans`) is decided on example N's line alone; any other
    claim on each example's line, keeping the verdict of the example where it fares best (so a general
    sentence about one of the examples is verified on that one). ``lines``, one per example, default to
    :meth:`ExampleLine.from_puzzle` of each.

    >>> from chessteach.puzzles import Puzzle
    >>> one = Puzzle.from_solution("6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1", ["a1a8"], id="one")
    >>> two = Puzzle.from_solution("6k1/5ppp/8/8/8/8/5PPP/1R4K1 w - - 0 1", ["b1b8"], id="two")
    >>> text = "## Worked example\\n\\n### Example 1: one\\n\\n1. Ra8#\\n\\n### Example 2: two\\n\\n1. Ra8#\\n"
    >>> check_examples_text(text, [one, two]).false_claims[0].reason
    'Ra8# is not a legal move at 1. (White to move)'
    """
    lines = list(lines) if lines is not None else [ExampleLine.from_puzzle(p) for p in examples]
    if len(lines) != len(examples):
        raise ValueError(f"{len(lines)} example lines for {len(examples)} examples")
    checkers = [_Checker(line) for line in lines]
    spans = [(n - 1, start, end) for n, start, end in example_spans(text) if 0 < n <= len(examples)]
    verdicts: list[Claim] = []
    for claim in read_claims(text):
        owner = next((i for i, start, end in spans if start <= claim.sentence.start < end), None)
        if owner is not None:
            verdicts += checkers[owner].check(claim)
        else:
            tries: list[list[Claim]] = [checker.check(claim) for checker in checkers]
            best: list[Claim] = max(tries, key=_score)
            verdicts += best
    result = FactCheck.of(verdicts)
    logger.debug("fact-check of a %d-character text on %d examples: %s", len(text), len(examples), result.summary())
    return result


def check_explanation(
    explanation: Explanation, example: Puzzle | Sequence[Puzzle], *, lines: Sequence[ExampleLine] | None = None
) -> FactCheck:
    """Check an explanation's text against its example puzzle, or its examples (:func:`check_examples_text`);
    ``lines``, one per example, are their lines when they go on beyond the solution (an engine's line).

    >>> from chessteach.puzzles import Puzzle
    >>> puzzle = Puzzle.from_solution("6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1", ["a1a8"])
    >>> text = "## Worked example\\n\\n1. Ra8#: the rook on a1 moves to a8, giving checkmate.\\n"
    >>> explanation = Explanation("backRankMate", text, {}, [], puzzle.id, "template")
    >>> check_explanation(explanation, puzzle).summary()
    '3 claims: 3 verified, 0 false, 0 uncheckable (100% true)'
    """
    examples = [example] if isinstance(example, Puzzle) else list(example)
    ids = explanation.example_ids or ((explanation.example_id,) if explanation.example_id is not None else ())
    if ids and ids != tuple(p.id for p in examples):
        logger.warning(
            "explanation of %s is about puzzle(s) %s, checked against %s",
            explanation.concept,
            " ".join(ids),
            " ".join(p.id for p in examples),
        )
    if len(examples) == 1 and (lines is None or len(lines) == 1):
        return check_text(explanation.text, examples[0], line=lines[0] if lines is not None else None)
    return check_examples_text(explanation.text, examples, lines=lines)


__all__ = [
    "FALSE",
    "STATUSES",
    "UNCHECKABLE",
    "VERIFIED",
    "Claim",
    "ExampleLine",
    "FactCheck",
    "check_claims",
    "check_examples_text",
    "check_explanation",
    "check_text",
]
