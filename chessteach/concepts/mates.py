"""Named checkmate patterns, read off the mating position and the move that delivered mate.

:func:`named_mates` gives the Lichess theme names (``backRankMate``, ``smotheredMate``, ...) that describe a
checkmate; :func:`find_mate_patterns` returns them as :class:`Fact`\\ s of kind ``"mate_pattern"``, whose
checker recomputes the pattern from the board. Each pattern is defined in chess terms in its function's
docstring. The classic patterns are tried in a fixed order and the first that fits names the mate (a
smothered mate on the back rank is a smothered mate); the patterns that describe which pieces work
together (opera, Pillsbury, Morphy, ...) are only tried when no classic one fits, and may combine.

On a solution line (:class:`~chessteach.concepts.line.Line`): :func:`is_mate`, :func:`mate_in` and
:func:`mate_pattern` are the detectors of the mate themes, :func:`mate_facts` the facts a mate shows (the
``"checkmate"`` itself, by :func:`checkmate_fact`, and its named pattern).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import chess

from chessteach.concepts.facts import Fact, fact_check, pieces_match
from chessteach.concepts.line import Line
from chessteach.concepts.tactics import describe

MateTest = Callable[[chess.Board, chess.Move], bool]


def _king(board: chess.Board) -> chess.Square:
    king = board.king(board.turn)
    assert king is not None, "no king to mate"
    return king


def _neighbours(square: chess.Square) -> chess.SquareSet:
    return chess.SquareSet(chess.BB_KING_ATTACKS[square])


def _on_edge_file(square: chess.Square) -> bool:
    return chess.square_file(square) in (0, 7)


def _on_edge_rank(square: chess.Square) -> bool:
    return chess.square_rank(square) in (0, 7)


def _orthogonal(a: chess.Square, b: chess.Square) -> bool:
    return chess.square_file(a) == chess.square_file(b) or chess.square_rank(a) == chess.square_rank(b)


def _mater(board: chess.Board, move: chess.Move) -> chess.PieceType | None:
    return board.piece_type_at(move.to_square)


def _attacker_types(board: chess.Board, color: chess.Color, square: chess.Square) -> set[chess.PieceType]:
    return {board.piece_type_at(s) for s in board.attackers(color, square)}  # type: ignore[misc]


# ------------------------------------------------------------------ classic patterns


def is_smothered_mate(board: chess.Board, move: chess.Move) -> bool:
    """A knight gives mate and every square around the king holds one of the king's own pieces."""
    king = _king(board)
    if not any(board.piece_type_at(s) == chess.KNIGHT for s in board.checkers()):
        return False
    return all(board.color_at(s) == board.turn for s in _neighbours(king))


def is_back_rank_mate(board: chess.Board, move: chess.Move) -> bool:
    """The king is mated on its first rank by a piece on that rank; the three squares in front of it are
    all blocked by its own pieces, none of them attacked."""
    king = _king(board)
    home = 0 if board.turn == chess.WHITE else 7
    if chess.square_rank(king) != home:
        return False
    step = 1 if board.turn == chess.WHITE else -1
    forward = chess.square_rank(king) + step
    front = [
        chess.square(f, forward) for f in range(chess.square_file(king) - 1, chess.square_file(king) + 2) if 0 <= f <= 7
    ]
    for square in front:
        if board.color_at(square) != board.turn or board.attackers(not board.turn, square):
            return False
    return any(chess.square_rank(s) == home for s in board.checkers())


def is_anastasia_mate(board: chess.Board, move: chess.Move) -> bool:
    """A rook or queen mates on the edge file the king stands on (not in a corner); the king's own piece
    blocks the square beside it towards the centre, and a knight of the mating side stands three files in
    from the king on its rank, covering the escapes."""
    king = _king(board)
    if not _on_edge_file(king) or _on_edge_rank(king):
        return False
    if chess.square_file(move.to_square) != chess.square_file(king) or _mater(board, move) not in (
        chess.ROOK,
        chess.QUEEN,
    ):
        return False
    inward = 1 if chess.square_file(king) == 0 else -1
    blocker = board.piece_at(king + inward)
    knight = board.piece_at(king + 3 * inward)
    return (
        blocker is not None
        and blocker.color == board.turn
        and knight is not None
        and knight.color != board.turn
        and knight.piece_type == chess.KNIGHT
    )


def is_hook_mate(board: chess.Board, move: chess.Move) -> bool:
    """A rook mates from next to the king, defended by a knight that also stands next to the king, and that
    knight is defended by a pawn."""
    king = _king(board)
    if _mater(board, move) != chess.ROOK or chess.square_distance(move.to_square, king) != 1:
        return False
    for knight in board.attackers(not board.turn, move.to_square):
        if (
            board.piece_type_at(knight) == chess.KNIGHT
            and chess.square_distance(knight, king) == 1
            and chess.PAWN in _attacker_types(board, not board.turn, knight)
        ):
            return True
    return False


def is_arabian_mate(board: chess.Board, move: chess.Move) -> bool:
    """A rook mates the king in a corner from the square next to it, defended by a knight standing two
    squares diagonally away from the king."""
    king = _king(board)
    if not (_on_edge_file(king) and _on_edge_rank(king)):
        return False
    if _mater(board, move) != chess.ROOK or chess.square_distance(move.to_square, king) != 1:
        return False
    for knight in board.attackers(not board.turn, move.to_square):
        if (
            board.piece_type_at(knight) == chess.KNIGHT
            and abs(chess.square_rank(knight) - chess.square_rank(king)) == 2
            and abs(chess.square_file(knight) - chess.square_file(king)) == 2
        ):
            return True
    return False


def _bishops_alone(board: chess.Board) -> list[chess.Square] | None:
    """The mating side's bishops, when it has two or more and nothing but bishops attacks the king's
    square and the squares around it."""
    king = _king(board)
    bishops = list(board.pieces(chess.BISHOP, not board.turn))
    if len(bishops) < 2:
        return None
    for square in _neighbours(king) | chess.SquareSet.from_square(king):
        if _attacker_types(board, not board.turn, square) - {chess.BISHOP}:
            return None
    return bishops


def is_boden_mate(board: chess.Board, move: chess.Move) -> bool:
    """Two bishops alone cover the king and its escapes, from criss-crossing diagonals (one on each side of
    the king's file)."""
    bishops = _bishops_alone(board)
    if bishops is None:
        return False
    king_file = chess.square_file(_king(board))
    return (chess.square_file(bishops[0]) < king_file) == (chess.square_file(bishops[1]) > king_file)


def is_double_bishop_mate(board: chess.Board, move: chess.Move) -> bool:
    """Two bishops alone cover the king and its escapes, from neighbouring parallel diagonals."""
    return _bishops_alone(board) is not None and not is_boden_mate(board, move)


def is_dovetail_mate(board: chess.Board, move: chess.Move) -> bool:
    """A queen mates from a square diagonally next to the king (away from the edge); every other square
    around the king is either covered by the queen alone and empty, or blocked by the king's own piece."""
    king = _king(board)
    queen = move.to_square
    if _on_edge_file(king) or _on_edge_rank(king):
        return False
    if _mater(board, move) != chess.QUEEN or _orthogonal(queen, king) or chess.square_distance(queen, king) != 1:
        return False
    for square in _neighbours(king):
        if square == queen:
            continue
        attackers = list(board.attackers(not board.turn, square))
        if attackers == [queen]:
            if board.piece_at(square):
                return False
        elif attackers:
            return False
    return True


# ------------------------------------------------------------------ cooperation patterns


def _mated_by(board: chess.Board, move: chess.Move, piece_type: chess.PieceType) -> bool:
    return _mater(board, move) == piece_type and move.to_square in board.checkers()


def _covers_escape(board: chess.Board, piece_type: chess.PieceType, *, besides: chess.Square) -> bool:
    """A piece of ``piece_type`` of the mating side, other than the one on ``besides``, attacks a square next
    to the king that is not the mating piece's own square."""
    king = _king(board)
    for square in _neighbours(king):
        if square == besides:
            continue
        for attacker in board.attackers(not board.turn, square):
            if attacker != besides and board.piece_type_at(attacker) == piece_type:
                return True
    return False


def is_opera_mate(board: chess.Board, move: chess.Move) -> bool:
    """A rook mates from a square next to the king on its rank or file, defended by a bishop."""
    king = _king(board)
    rook = move.to_square
    return (
        _mated_by(board, move, chess.ROOK)
        and chess.square_distance(rook, king) == 1
        and _orthogonal(rook, king)
        and chess.BISHOP in _attacker_types(board, not board.turn, rook)
    )


def is_pillsburys_mate(board: chess.Board, move: chess.Move) -> bool:
    """A rook mates while a bishop takes away a square next to the king that is not blocked by the king's own
    piece; in an opera mate (see :func:`is_opera_mate`) that bishop must be another than the rook's
    defender, and a kill box (see :func:`is_kill_box_mate`) is not a Pillsbury mate."""
    rook = move.to_square
    if not _mated_by(board, move, chess.ROOK):
        return False
    king = _king(board)
    if is_kill_box_mate(board, move):
        return False
    busy = board.attackers(not board.turn, rook) if is_opera_mate(board, move) else chess.SquareSet()
    for square in _neighbours(king):
        if board.color_at(square) == board.turn:
            continue
        for attacker in board.attackers(not board.turn, square):
            if board.piece_type_at(attacker) == chess.BISHOP and attacker not in busy:
                return True
    return False


def is_morphys_mate(board: chess.Board, move: chess.Move) -> bool:
    """A bishop mates while a rook takes away an escape square of the king."""
    return _mated_by(board, move, chess.BISHOP) and _covers_escape(board, chess.ROOK, besides=move.to_square)


def is_corner_mate(board: chess.Board, move: chess.Move) -> bool:
    """A knight mates the king on the edge of the board while a rook or queen takes away its escapes."""
    king = _king(board)
    if not (_on_edge_file(king) or _on_edge_rank(king)) or not _mated_by(board, move, chess.KNIGHT):
        return False
    return _covers_escape(board, chess.ROOK, besides=move.to_square) or _covers_escape(
        board, chess.QUEEN, besides=move.to_square
    )


def is_epaulette_mate(board: chess.Board, move: chess.Move) -> bool:
    """A rook or queen mates along a line, and both squares beside the king across that line are occupied,
    like epaulettes on its shoulders."""
    king = _king(board)
    mater = move.to_square
    if _mater(board, move) not in (chess.ROOK, chess.QUEEN) or mater not in board.checkers():
        return False
    if not _orthogonal(mater, king):
        return False
    king_file, king_rank = chess.square_file(king), chess.square_rank(king)
    if chess.square_file(mater) == king_file:
        sides = [(king_file - 1, king_rank), (king_file + 1, king_rank)]
    else:
        sides = [(king_file, king_rank - 1), (king_file, king_rank + 1)]
    squares = [chess.square(f, r) for f, r in sides if 0 <= f <= 7 and 0 <= r <= 7]
    return len(squares) == 2 and all(board.piece_at(s) is not None for s in squares)


def is_swallowstail_mate(board: chess.Board, move: chess.Move) -> bool:
    """A defended queen mates from the square straight in front of the king, whose two squares diagonally
    behind are blocked by its own pieces."""
    king = _king(board)
    queen = move.to_square
    if (
        not _mated_by(board, move, chess.QUEEN)
        or chess.square_distance(queen, king) != 1
        or not _orthogonal(queen, king)
    ):
        return False
    if not board.attackers(not board.turn, queen):
        return False
    df = chess.square_file(king) - chess.square_file(queen)
    dr = chess.square_rank(king) - chess.square_rank(queen)
    behind = []
    for side in (-1, 1):
        f = chess.square_file(king) + df + (side if dr else 0)
        r = chess.square_rank(king) + dr + (side if df else 0)
        if not (0 <= f <= 7 and 0 <= r <= 7):
            return False
        behind.append(chess.square(f, r))
    return all(board.color_at(s) == board.turn for s in behind)


def is_kill_box_mate(board: chess.Board, move: chess.Move) -> bool:
    """A rook mates from next to the king on its rank or file, defended along a diagonal by a queen two
    squares away, the rook and queen being opposite corners of a 3 by 3 box that holds the king."""
    king = _king(board)
    rook = move.to_square
    if not _mated_by(board, move, chess.ROOK) or chess.square_distance(rook, king) != 1 or not _orthogonal(rook, king):
        return False
    for queen in board.attackers(not board.turn, rook):
        files = sorted((chess.square_file(queen), chess.square_file(rook)))
        ranks = sorted((chess.square_rank(queen), chess.square_rank(rook)))
        if (
            board.piece_type_at(queen) == chess.QUEEN
            and files[1] - files[0] == 2
            and ranks[1] - ranks[0] == 2
            and files[0] <= chess.square_file(king) <= files[1]
            and ranks[0] <= chess.square_rank(king) <= ranks[1]
        ):
            return True
    return False


def is_vukovic_mate(board: chess.Board, move: chess.Move) -> bool:
    """A rook mates from next to the king, defended by another piece, while a knight of the mating side
    takes away the king's escapes (the king on the edge); a rook defended by a bishop makes an opera mate
    instead."""
    king = _king(board)
    if is_opera_mate(board, move):
        return False
    rook = move.to_square
    if not (_on_edge_file(king) or _on_edge_rank(king)) or not _mated_by(board, move, chess.ROOK):
        return False
    if chess.square_distance(rook, king) != 1 or not board.attackers(not board.turn, rook):
        return False
    return _covers_escape(board, chess.KNIGHT, besides=rook)


CLASSIC_MATES: dict[str, MateTest] = {
    "smotheredMate": is_smothered_mate,
    "backRankMate": is_back_rank_mate,
    "anastasiaMate": is_anastasia_mate,
    "hookMate": is_hook_mate,
    "arabianMate": is_arabian_mate,
    "bodenMate": is_boden_mate,
    "doubleBishopMate": is_double_bishop_mate,
    "dovetailMate": is_dovetail_mate,
}
"""Classic patterns, in order of precedence: the first that fits names the mate."""

COOPERATION_MATES: dict[str, MateTest] = {
    "operaMate": is_opera_mate,
    "pillsburysMate": is_pillsburys_mate,
    "morphysMate": is_morphys_mate,
    "cornerMate": is_corner_mate,
    "epauletteMate": is_epaulette_mate,
    "swallowstailMate": is_swallowstail_mate,
    "killBoxMate": is_kill_box_mate,
    "vukovicMate": is_vukovic_mate,
}
"""Patterns of pieces working together, tried when no classic pattern fits; several may apply."""

MATE_PATTERNS: tuple[str, ...] = (*CLASSIC_MATES, *COOPERATION_MATES)


def named_mates(board: chess.Board, move: chess.Move) -> list[str]:
    """The named patterns of the checkmate on ``board``, delivered by ``move`` (empty if it is not mate).

    >>> board = chess.Board("R5k1/5ppp/8/8/8/8/5PPP/6K1 b - - 1 1")
    >>> named_mates(board, chess.Move.from_uci("a1a8"))
    ['backRankMate']
    """
    if not board.is_checkmate():
        return []
    for name, test in CLASSIC_MATES.items():
        if test(board, move):
            return [name]
    return [name for name, test in COOPERATION_MATES.items() if test(board, move)]


def find_mate_patterns(board: chess.Board, move: chess.Move) -> list[Fact]:
    """The named patterns of the checkmate on ``board`` as facts (king, mating piece)."""
    facts = []
    for name in named_mates(board, move):
        king = _king(board)
        squares = (king, move.to_square)
        pieces = tuple(board.piece_at(s).symbol() for s in squares)  # type: ignore[union-attr]
        facts.append(
            Fact(
                kind="mate_pattern",
                squares=squares,
                pieces=pieces,
                text=f"The king on {chess.square_name(king)} is checkmated by the "
                f"{chess.piece_name(board.piece_type_at(move.to_square)).lower()} on "  # type: ignore[arg-type]
                f"{chess.square_name(move.to_square)} ({_spoken(name)}).",
                concept=name,
                pattern=name,
                move=move,
            )
        )
    return facts


def _spoken(name: str) -> str:
    """``backRankMate`` -> ``back rank mate``."""
    return re.sub(r"(?<!^)([A-Z])", r" \1", name).lower()


@fact_check("mate_pattern")
def _check_mate_pattern(board: chess.Board, fact: Fact) -> bool:
    if fact.pattern is None or fact.move is None:
        return False
    return fact.pattern in named_mates(board, fact.move)


# ------------------------------------------------------------------ the checkmate itself


def checkmate_fact(board: chess.Board, move: chess.Move) -> Fact | None:
    """The checkmate on ``board``, delivered by ``move``, as a fact (king, mating piece), or None if it is not
    mate; the mating piece is the one that moved when it gives check, else another checker.

    >>> board = chess.Board("R5k1/5ppp/8/8/8/8/5PPP/6K1 b - - 1 1")
    >>> checkmate_fact(board, chess.Move.from_uci("a1a8")).text
    'The black king on g8 is checkmated by the white rook on a8.'
    """
    if not board.is_checkmate():
        return None
    king = _king(board)
    checker = move.to_square if move.to_square in board.checkers() else next(iter(board.checkers()))
    squares = (king, checker)
    pieces = [board.piece_at(s) for s in squares]
    assert pieces[0] is not None and pieces[1] is not None
    mated = describe(pieces[0], king)
    return Fact(
        kind="checkmate",
        squares=squares,
        pieces=(pieces[0].symbol(), pieces[1].symbol()),
        text=f"{mated[:1].upper()}{mated[1:]} is checkmated by {describe(pieces[1], checker)}.",
        concept="mate",
        move=move,
        position=board.fen(),
    )


@fact_check("checkmate")
def _check_checkmate(board: chess.Board, fact: Fact) -> bool:
    """A ``checkmate`` fact: (king, mating piece); the king's side is mated and the piece gives check."""
    return (
        pieces_match(board, fact)
        and len(fact.squares) == 2
        and board.is_checkmate()
        and board.king(board.turn) == fact.squares[0]
        and fact.squares[1] in board.checkers()
    )


# ------------------------------------------------------------------ on a solution line

_last_line_mates: tuple[Line, tuple[str, ...]] | None = None


def line_mates(line: Line) -> tuple[str, ...]:
    """The named patterns of the checkmate a line ends in (empty if it does not end in mate); the last line's
    answer is remembered, as every pattern's detector asks for it."""
    global _last_line_mates
    last = _last_line_mates
    if last is not None and last[0] is line:
        return last[1]
    names = tuple(named_mates(line.final, line.moves[-1]))
    _last_line_mates = (line, names)
    return names


def is_mate(line: Line) -> bool:
    """The line ends in checkmate (theme ``mate``)."""
    return line.final.is_checkmate()


def mate_in(moves: int) -> Callable[[Line], bool]:
    """The detector of ``mateIn<moves>``: the line ends in checkmate after that many solver moves (5 means five
    or more)."""

    def detect(line: Line) -> bool:
        return line.final.is_checkmate() and min(len(line.solver_plies), 5) == moves

    detect.__doc__ = f"The line ends in checkmate on the solver's move {moves}{' or later' if moves == 5 else ''}."
    return detect


def mate_pattern(name: str) -> Callable[[Line], bool]:
    """The detector of a named mate (one of :data:`MATE_PATTERNS`): the line ends in that checkmate."""
    if name not in MATE_PATTERNS:
        raise ValueError(f"no mate pattern {name!r}; patterns: {', '.join(MATE_PATTERNS)}")

    def detect(line: Line) -> bool:
        return line.final.is_checkmate() and name in line_mates(line)

    detect.__doc__ = f"The line ends in a {_spoken(name)}."
    return detect


def mate_facts(line: Line) -> list[Fact]:
    """The checkmate a line ends in and its named pattern, as facts about the final board (empty if the line
    does not end in mate)."""
    board, move = line.final, line.moves[-1]
    mate = checkmate_fact(board, move)
    if mate is None:
        return []
    return [mate, *(f.at(board) for f in find_mate_patterns(board, move))]
