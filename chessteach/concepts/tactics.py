"""Tactical motifs that are statements about one board, returned as checkable :class:`Fact`\\ s.

Each finder looks at a position and returns the facts it sees ("the knight on e5 attacks the king on g8
and the rook on d7"); each kind of fact has a checker registered with :func:`fact_check`, so
``check_fact(board, fact)`` recomputes the statement from the board alone. The puzzle tagger
(:mod:`chessteach.puzzles.tag`) builds Lichess's themes on top of these finders.

Piece safety follows the usual tactical reading: a piece is *defended* when one of its own pieces attacks
its square, directly or from behind an enemy line piece that attacks it (an x-ray defence); it is in a
*bad spot* when the enemy attacks it and it is either undefended or attackable by a cheaper piece.

The ``..._by`` functions at the end read the tactics one move has just created on the board after it (the
moved piece's forks, skewers and pins, the checks it gives, the mover's pieces it leaves loose): the
detectors a game review asks about each move.
"""

from __future__ import annotations

from collections.abc import Iterator

import chess

from chessteach.concepts.facts import Fact, fact_check, pieces_match
from chessteach.concepts.pieces import LINE_PIECES, PIECE_VALUES

_NAMES = {
    chess.PAWN: "pawn",
    chess.KNIGHT: "knight",
    chess.BISHOP: "bishop",
    chess.ROOK: "rook",
    chess.QUEEN: "queen",
    chess.KING: "king",
}


def describe(piece: chess.Piece, square: chess.Square) -> str:
    """A piece in words, as in "the white knight on e5"."""
    color = "white" if piece.color == chess.WHITE else "black"
    return f"the {color} {_NAMES[piece.piece_type]} on {chess.square_name(square)}"


def _symbols(board: chess.Board, squares: tuple[chess.Square, ...]) -> tuple[str, ...]:
    return tuple(board.piece_at(s).symbol() for s in squares)  # type: ignore[union-attr]


# ---------------------------------------------------------------- piece safety


def is_defended(board: chess.Board, square: chess.Square) -> bool:
    """Whether the piece on ``square`` is defended, counting defence through an attacking enemy line piece."""
    piece = board.piece_at(square)
    assert piece is not None, f"no piece on {chess.square_name(square)}"
    if board.attackers(piece.color, square):
        return True
    for attacker in board.attackers(not piece.color, square):
        if board.piece_type_at(attacker) in LINE_PIECES:
            behind = board.copy(stack=False)
            behind.remove_piece_at(attacker)
            if behind.attackers(piece.color, square):
                return True
    return False


def is_hanging(board: chess.Board, square: chess.Square) -> bool:
    """Whether the piece on ``square`` is undefended (whether or not it is attacked)."""
    return not is_defended(board, square)


def attacked_by_cheaper(board: chess.Board, square: chess.Square) -> bool:
    """Whether an enemy piece worth less than the piece on ``square`` (not the king) attacks it."""
    piece = board.piece_at(square)
    assert piece is not None
    for attacker in board.attackers(not piece.color, square):
        attacker_type = board.piece_type_at(attacker)
        if attacker_type != chess.KING and PIECE_VALUES[attacker_type] < PIECE_VALUES[piece.piece_type]:  # type: ignore[index]
            return True
    return False


def is_in_bad_spot(board: chess.Board, square: chess.Square) -> bool:
    """Attacked, and either undefended or attacked by a cheaper piece."""
    piece = board.piece_at(square)
    assert piece is not None
    if not board.attackers(not piece.color, square):
        return False
    return is_hanging(board, square) or attacked_by_cheaper(board, square)


def is_trapped(board: chess.Board, square: chess.Square) -> bool:
    """Whether the piece on ``square`` (its side to move) is in a bad spot and every move of it lands in one
    too, except a capture of something at least as valuable. Kings, pawns and pinned pieces never count,
    nor positions in check."""
    piece = board.piece_at(square)
    if piece is None or piece.color != board.turn or piece.piece_type in (chess.PAWN, chess.KING):
        return False
    if board.is_check() or board.is_pinned(board.turn, square) or not is_in_bad_spot(board, square):
        return False
    for escape in board.legal_moves:
        if escape.from_square != square:
            continue
        taken = board.piece_type_at(escape.to_square)
        if taken and PIECE_VALUES[taken] >= PIECE_VALUES[piece.piece_type]:
            return False
        board.push(escape)
        try:
            if not is_in_bad_spot(board, escape.to_square):
                return False
        finally:
            board.pop()
    return True


def attacked_enemies(board: chess.Board, square: chess.Square) -> list[chess.Square]:
    """The squares of enemy pieces that the piece on ``square`` attacks."""
    piece = board.piece_at(square)
    assert piece is not None
    return [s for s in board.attacks(square) if board.color_at(s) == (not piece.color)]


# ---------------------------------------------------------------- fork


def fork_targets(board: chess.Board, square: chess.Square) -> list[chess.Square]:
    """The pieces the piece on ``square`` forks: enemy pieces (not pawns) that are worth more than it, or are
    undefended and cannot take it back."""
    piece = board.piece_at(square)
    assert piece is not None
    targets = []
    for target in attacked_enemies(board, square):
        target_type = board.piece_type_at(target)
        if target_type == chess.PAWN:
            continue
        worth_more = PIECE_VALUES[target_type] > PIECE_VALUES[piece.piece_type]  # type: ignore[index]
        loose = is_hanging(board, target) and target not in board.attackers(not piece.color, square)
        if worth_more or loose:
            targets.append(target)
    return targets


def find_fork(board: chess.Board, square: chess.Square) -> Fact | None:
    """The fork made by the piece on ``square`` (not a king, not itself in a bad spot), if it attacks two
    targets (see :func:`fork_targets`)."""
    piece = board.piece_at(square)
    if piece is None or piece.piece_type == chess.KING or is_in_bad_spot(board, square):
        return None
    targets = fork_targets(board, square)
    if len(targets) < 2:
        return None
    squares = (square, *targets)
    named = " and ".join(describe(board.piece_at(t), t) for t in targets)  # type: ignore[arg-type]
    return Fact(
        kind="fork",
        squares=squares,
        pieces=_symbols(board, squares),
        text=f"{describe(piece, square)} forks {named}.",
        concept="fork",
    )


@fact_check("fork")
def _check_fork(board: chess.Board, fact: Fact) -> bool:
    if not pieces_match(board, fact) or len(fact.squares) < 3:
        return False
    square, *targets = fact.squares
    return set(targets) <= set(fork_targets(board, square)) and find_fork(board, square) is not None


# ---------------------------------------------------------------- pin


def find_pins(board: chess.Board, color: chess.Color) -> list[Fact]:
    """Pieces of ``color`` pinned to their king: one fact per pinned piece (pinner, pinned, king)."""
    facts: list[Fact] = []
    king = board.king(color)
    if king is None:
        return facts
    for square in chess.SquareSet(board.occupied_co[color] & ~board.kings):
        ray = board.pin(color, square)
        if ray == chess.BB_ALL:
            continue
        pinner = next(
            (s for s in board.attackers(not color, square) if s in ray and board.piece_type_at(s) in LINE_PIECES),
            None,
        )
        if pinner is None:
            continue
        squares = (pinner, square, king)
        facts.append(
            Fact(
                kind="pin",
                squares=squares,
                pieces=_symbols(board, squares),
                text=f"{describe(board.piece_at(pinner), pinner)} pins "  # type: ignore[arg-type]
                f"{describe(board.piece_at(square), square)} to its king on {chess.square_name(king)}.",  # type: ignore[arg-type]
                concept="pin",
            )
        )
    return facts


@fact_check("pin")
def _check_pin(board: chess.Board, fact: Fact) -> bool:
    if not pieces_match(board, fact) or len(fact.squares) != 3:
        return False
    pinner, pinned, king = fact.squares
    color = board.color_at(pinned)
    return (
        color is not None
        and board.king(color) == king
        and pinner in board.pin(color, pinned)
        and pinner in board.attackers(not color, pinned)
    )


# ---------------------------------------------------------------- skewer


def find_skewer(board: chess.Board, square: chess.Square) -> Fact | None:
    """A skewer by the line piece on ``square``: it attacks an enemy piece worth more than the enemy piece
    (not a pawn) standing right behind it on the same line (a king in front counts as worth the most). The
    first of :func:`skewers`."""
    return next(skewers(board, square), None)


def skewers(board: chess.Board, square: chess.Square) -> Iterator[Fact]:
    """Every skewer by the line piece on ``square`` (see :func:`find_skewer`), one per front piece."""
    piece = board.piece_at(square)
    if piece is None or piece.piece_type not in LINE_PIECES:
        return
    for front in attacked_enemies(board, square):
        front_type = board.piece_type_at(front)
        ray = chess.ray(square, front)
        beyond = [s for s in chess.SquareSet(ray) if _further(square, front, s)]
        behind = next(
            (s for s in sorted(beyond, key=lambda s: chess.square_distance(front, s)) if board.piece_at(s)), None
        )
        if behind is None or board.color_at(behind) == piece.color or board.piece_type_at(behind) == chess.PAWN:
            continue
        if PIECE_VALUES[front_type] <= PIECE_VALUES[board.piece_type_at(behind)]:  # type: ignore[index]
            continue
        squares = (square, front, behind)
        yield Fact(
            kind="skewer",
            squares=squares,
            pieces=_symbols(board, squares),
            text=f"{describe(piece, square)} skewers {describe(board.piece_at(front), front)} "  # type: ignore[arg-type]
            f"against {describe(board.piece_at(behind), behind)}.",  # type: ignore[arg-type]
            concept="skewer",
        )


def _further(origin: chess.Square, front: chess.Square, square: chess.Square) -> bool:
    """Whether ``square`` lies beyond ``front`` seen from ``origin`` (all three on one line)."""
    return chess.square_distance(origin, square) > chess.square_distance(origin, front) and front in chess.SquareSet(
        chess.between(origin, square)
    )


@fact_check("skewer")
def _check_skewer(board: chess.Board, fact: Fact) -> bool:
    if not pieces_match(board, fact) or len(fact.squares) != 3:
        return False
    found = find_skewer(board, fact.squares[0])
    if found is not None and found.squares == fact.squares:
        return True
    # another skewer by the same piece may come first; check this one directly
    square, front, behind = fact.squares
    return (
        front in attacked_enemies(board, square)
        and _further(square, front, behind)
        and not chess.SquareSet(chess.between(front, behind)) & board.occupied
        and board.piece_type_at(behind) not in (None, chess.PAWN)
        and PIECE_VALUES[board.piece_type_at(front)] > PIECE_VALUES[board.piece_type_at(behind)]  # type: ignore[index]
    )


# ---------------------------------------------------------------- hanging and trapped pieces


def find_hanging(board: chess.Board, square: chess.Square) -> Fact | None:
    """The piece on ``square`` is attacked and undefended."""
    piece = board.piece_at(square)
    if piece is None or not board.attackers(not piece.color, square) or not is_hanging(board, square):
        return None
    return Fact(
        kind="hanging_piece",
        squares=(square,),
        pieces=(piece.symbol(),),
        text=f"{describe(piece, square)} is attacked and undefended.",
        concept="hangingPiece",
    )


@fact_check("hanging_piece")
def _check_hanging(board: chess.Board, fact: Fact) -> bool:
    return pieces_match(board, fact) and find_hanging(board, fact.squares[0]) is not None


def find_trapped(board: chess.Board, square: chess.Square) -> Fact | None:
    """The piece on ``square`` is trapped (see :func:`is_trapped`)."""
    if not is_trapped(board, square):
        return None
    piece = board.piece_at(square)
    assert piece is not None
    return Fact(
        kind="trapped_piece",
        squares=(square,),
        pieces=(piece.symbol(),),
        text=f"{describe(piece, square)} is attacked and has no safe square to go to.",
        concept="trappedPiece",
    )


@fact_check("trapped_piece")
def _check_trapped(board: chess.Board, fact: Fact) -> bool:
    return pieces_match(board, fact) and is_trapped(board, fact.squares[0])


# ---------------------------------------------------------------- checks


def find_double_check(board: chess.Board) -> Fact | None:
    """The side to move is in check from two pieces at once."""
    checkers = list(board.checkers())
    king = board.king(board.turn)
    if len(checkers) < 2 or king is None:
        return None
    squares = (king, *checkers)
    return Fact(
        kind="double_check",
        squares=squares,
        pieces=_symbols(board, squares),
        text=f"{describe(board.piece_at(checkers[0]), checkers[0])} and "  # type: ignore[arg-type]
        f"{describe(board.piece_at(checkers[1]), checkers[1])} both check the king on {chess.square_name(king)}.",  # type: ignore[arg-type]
        concept="doubleCheck",
    )


@fact_check("double_check")
def _check_double_check(board: chess.Board, fact: Fact) -> bool:
    return pieces_match(board, fact) and set(fact.squares[1:]) <= set(board.checkers()) and len(fact.squares) >= 3


def find_discovered_check(board: chess.Board, move: chess.Move) -> Fact | None:
    """After ``move`` (the last move played on ``board``), the check comes only from pieces other than the
    moved one (a double check, where the moved piece checks too, is its own motif)."""
    king = board.king(board.turn)
    checkers = board.checkers()
    if king is None or not checkers or move.to_square in checkers:
        return None
    unveiled = list(checkers)
    squares = (king, unveiled[0])
    return Fact(
        kind="discovered_check",
        squares=squares,
        pieces=_symbols(board, squares),
        text=f"Moving off {chess.square_name(move.from_square)} uncovers a check by "
        f"{describe(board.piece_at(unveiled[0]), unveiled[0])}.",  # type: ignore[arg-type]
        concept="discoveredCheck",
        move=move,
    )


@fact_check("discovered_check")
def _check_discovered_check(board: chess.Board, fact: Fact) -> bool:
    move = fact.move
    return (
        pieces_match(board, fact)
        and move is not None
        and fact.squares[1] in board.checkers()
        and move.to_square not in board.checkers()
    )


def find_f2_f7_attack(board: chess.Board, move: chess.Move) -> Fact | None:
    """``move`` (just played) took on f2 or f7 next to the enemy king still on its home square e1 or e8."""
    if move.to_square not in (chess.F2, chess.F7):
        return None
    king_square = chess.E1 if move.to_square == chess.F2 else chess.E8
    king = board.piece_at(king_square)
    mover = board.piece_at(move.to_square)
    if king is None or mover is None or king.piece_type != chess.KING or king.color == mover.color:
        return None
    squares = (move.to_square, king_square)
    return Fact(
        kind="f2_f7_attack",
        squares=squares,
        pieces=_symbols(board, squares),
        text=f"{describe(mover, move.to_square)} strikes at {chess.square_name(move.to_square)}, "
        f"next to the king on {chess.square_name(king_square)}.",
        concept="attackingF2F7",
    )


@fact_check("f2_f7_attack")
def _check_f2_f7(board: chess.Board, fact: Fact) -> bool:
    return (
        pieces_match(board, fact)
        and fact.squares[0] in (chess.F2, chess.F7)
        and board.piece_type_at(fact.squares[1]) == chess.KING
        and board.color_at(fact.squares[0]) != board.color_at(fact.squares[1])
    )


# ---------------------------------------------------------------- what a move creates


def _listed(fact: Fact | None) -> list[Fact]:
    return [] if fact is None else [fact]


def forks_by(board: chess.Board, move: chess.Move) -> list[Fact]:
    """The fork the moved piece makes (``board`` is the position after ``move``)."""
    return _listed(find_fork(board, move.to_square))


def skewers_by(board: chess.Board, move: chess.Move) -> list[Fact]:
    """The skewer the moved piece makes (``board`` is the position after ``move``)."""
    return _listed(find_skewer(board, move.to_square))


def pins_by(board: chess.Board, move: chess.Move) -> list[Fact]:
    """The pins the moved piece makes against the side to move's king (``board`` is the position after ``move``)."""
    return [f for f in find_pins(board, board.turn) if f.squares[0] == move.to_square]


def double_checks_by(board: chess.Board, move: chess.Move) -> list[Fact]:
    """The double check ``move`` gives (``board`` is the position after it)."""
    return _listed(find_double_check(board))


def discovered_checks_by(board: chess.Board, move: chess.Move) -> list[Fact]:
    """The check ``move`` uncovers (``board`` is the position after it)."""
    return _listed(find_discovered_check(board, move))


def _loose_pieces(board: chess.Board) -> chess.SquareSet:
    """The pieces of the side that just moved (not its pawns or king), in square order."""
    return chess.SquareSet(board.occupied_co[not board.turn] & ~board.pawns & ~board.kings)


def hanging_by(board: chess.Board, move: chess.Move) -> list[Fact]:
    """The mover's pieces (not pawns or the king) left attacked and undefended after ``move``."""
    return [f for square in _loose_pieces(board) for f in _listed(find_hanging(board, square))]


def trapped_by(board: chess.Board, move: chess.Move) -> list[Fact]:
    """The mover's pieces (not pawns or the king) left trapped after ``move``."""
    return [f for square in _loose_pieces(board) for f in _listed(find_trapped(board, square))]
