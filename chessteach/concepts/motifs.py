"""Tactical motifs of a solution line, in Lichess's sense of each puzzle theme.

Every detector takes a :class:`~chessteach.concepts.line.Line` and says whether the motif occurs in it.
Motifs that are a statement about one board (a fork, a pin, a double check, ...) come back as
:class:`Fact`\\ s (see :mod:`chessteach.concepts.tactics`), each carrying the position it is about as
its ``position`` so that ``check_fact(chess.Board(fact.position), fact)`` recomputes it. Motifs that are
about a sequence of moves (deflection, attraction, clearance, ...) are plain yes/no answers.

"Solver" is the side that solves the puzzle; "the reply" is the opponent's move after a solver move.
"""

from __future__ import annotations

import chess

from chessteach.concepts.facts import Fact
from chessteach.concepts.line import Line
from chessteach.concepts.pieces import LINE_PIECES, PIECE_VALUES
from chessteach.concepts.tactics import (
    attacked_enemies,
    find_discovered_check,
    find_double_check,
    find_f2_f7_attack,
    find_fork,
    find_hanging,
    find_pins,
    find_skewer,
    find_trapped,
    is_hanging,
    is_in_bad_spot,
)

SACRIFICE_MIN_LOSS = 2
"""Material (in pawns) the solver must be down, relative to the start, for a line to count as a sacrifice."""


def _at(fact: Fact | None, board: chess.Board) -> Fact | None:
    """The fact with the position it is about recorded in its data."""
    return None if fact is None else fact.at(board)


def _later_solver_plies(line: Line) -> list[int]:
    """The solver's plies after the first, each preceded by a reply and a solver move."""
    return line.solver_plies[1:]


def _between(a: chess.Square, b: chess.Square) -> chess.SquareSet:
    return chess.SquareSet(chess.between(a, b))


# ------------------------------------------------------------------ facts on a board


def forks(line: Line) -> list[Fact]:
    """Solver moves (not the last) whose moved piece, safe on its square, forks two pieces."""
    facts = []
    for ply in line.solver_plies[:-1]:
        board = line.after(ply)
        fact = _at(find_fork(board, line.moves[ply].to_square), board)
        if fact is not None:
            facts.append(fact)
    return facts


def double_checks(line: Line) -> list[Fact]:
    """Solver moves that give check with two pieces."""
    facts = []
    for ply in line.solver_plies:
        fact = _at(find_double_check(line.after(ply)), line.after(ply))
        if fact is not None:
            facts.append(fact)
    return facts


def discovered_checks(line: Line) -> list[Fact]:
    """Solver moves that give check with a piece other than the one moved."""
    facts = []
    for ply in line.solver_plies:
        fact = _at(find_discovered_check(line.after(ply), line.moves[ply]), line.after(ply))
        if fact is not None:
            facts.append(fact)
    return facts


def trapped_pieces(line: Line) -> list[Fact]:
    """Pieces the solver wins that were trapped: before the reply, the piece (or the piece the reply moved
    onto the capture square) was in a bad spot with no safe square to go to."""
    facts = []
    for ply in _later_solver_plies(line):
        captured = line.captured(ply)
        if captured is None or captured.piece_type == chess.PAWN:
            continue
        square = line.moves[ply].to_square
        reply = line.moves[ply - 1]
        if reply.to_square == square:
            square = reply.from_square
        board = line.before(ply - 1)
        fact = _at(find_trapped(board, square), board)
        if fact is not None:
            facts.append(fact)
    return facts


def f2_f7_attacks(line: Line) -> list[Fact]:
    """The solver's first capture on f2 or f7, when the enemy king still stands on e1 or e8."""
    for ply in line.solver_plies:
        move = line.moves[ply]
        if move.to_square in (chess.F2, chess.F7) and line.captured(ply) is not None:
            fact = _at(find_f2_f7_attack(line.after(ply), move), line.after(ply))
            return [fact] if fact is not None else []
    return []


def _pin_fact(board: chess.Board, pinned: chess.Square) -> Fact | None:
    color = board.color_at(pinned)
    assert color is not None
    for fact in find_pins(board, color):
        if fact.squares[1] == pinned:
            return _at(fact, board)
    return None


def pins(line: Line) -> list[Fact]:
    """Enemy pieces pinned to their king after a solver move, where the pin matters: the pinned piece cannot
    take a solver piece it attacks that is worth more than it or undefended, or it is attacked along the
    pin by a cheaper piece, or it is undefended and could otherwise step away."""
    facts = []
    for ply in line.solver_plies:
        board = line.after(ply)
        for pinned in chess.SquareSet(board.occupied_co[not line.pov] & ~board.kings):
            ray = int(board.pin(not line.pov, pinned))
            if ray == chess.BB_ALL:
                continue
            if _pin_prevents_attack(board, pinned, ray) or _pin_prevents_escape(board, pinned, ray, line.pov):
                fact = _pin_fact(board, pinned)
                if fact is not None:
                    facts.append(fact)
    return facts


def _pin_prevents_attack(board: chess.Board, pinned: chess.Square, ray: int) -> bool:
    pinned_type = board.piece_type_at(pinned)
    for target in attacked_enemies(board, pinned):
        if chess.BB_SQUARES[target] & ray:
            continue
        if PIECE_VALUES[board.piece_type_at(target)] > PIECE_VALUES[pinned_type] or is_hanging(board, target):  # type: ignore[index]
            return True
    return False


def _pin_prevents_escape(board: chess.Board, pinned: chess.Square, ray: int, pov: chess.Color) -> bool:
    pinned_type = board.piece_type_at(pinned)
    for attacker in board.attackers(pov, pinned):
        if not chess.BB_SQUARES[attacker] & ray:
            continue
        if PIECE_VALUES[pinned_type] > PIECE_VALUES[board.piece_type_at(attacker)]:  # type: ignore[index]
            return True
        if (
            is_hanging(board, pinned)
            and attacker not in board.attacks(pinned)
            and any(
                m.from_square == pinned and not chess.BB_SQUARES[m.to_square] & ray for m in board.pseudo_legal_moves
            )
        ):
            return True
    return False


def skewers(line: Line) -> list[Fact] | bool:
    """The solver takes, with a line piece and without mating, a piece that stood behind a more valuable
    enemy piece the reply moved off the line; the taken piece was then in a bad spot (Lichess's rule).

    The skewers as board facts (:func:`~chessteach.concepts.tactics.find_skewer`'s, which never count a pawn as
    the piece behind); when Lichess's rule holds only with a pawn behind, a plain yes with no board fact."""
    facts: list[Fact] = []
    found = False
    for ply in _later_solver_plies(line):
        captured = line.captured(ply)
        move, reply = line.moves[ply], line.moves[ply - 1]
        if captured is None or line.moved_piece(ply) not in LINE_PIECES or line.after(ply).is_checkmate():
            continue
        if reply.to_square == move.to_square or reply.from_square not in _between(move.from_square, move.to_square):
            continue
        front_value = PIECE_VALUES[line.moved_piece(ply - 1)]
        if front_value > PIECE_VALUES[captured.piece_type] and is_in_bad_spot(line.before(ply), move.to_square):
            found = True
            board = line.before(ply - 1)
            fact = _at(find_skewer(board, move.from_square), board)
            if fact is None and captured.piece_type != chess.PAWN:
                fact = _skewer_summary(line, ply)
            if fact is not None:
                facts.append(fact)
    return facts or found


def _skewer_summary(line: Line, ply: int) -> Fact:
    """The skewer as it stood before the reply (skewering piece, front piece, piece behind), for the cases
    :func:`find_skewer` does not name first (another skewer by the same piece comes first)."""
    board = line.before(ply - 1)
    move, reply = line.moves[ply], line.moves[ply - 1]
    squares = (move.from_square, reply.from_square, move.to_square)
    return Fact(
        kind="skewer",
        squares=squares,
        pieces=tuple(board.piece_at(s).symbol() for s in squares),  # type: ignore[union-attr]
        text=f"The {chess.piece_name(board.piece_type_at(move.from_square)).lower()} on "  # type: ignore[arg-type]
        f"{chess.square_name(move.from_square)} skewers {chess.square_name(reply.from_square)} against "
        f"{chess.square_name(move.to_square)}.",
        concept="skewer",
        position=board.fen(),
    )


# ------------------------------------------------------------------ sequences of moves


def has_advanced_pawn(line: Line) -> bool:
    """The solver promotes or pushes a pawn to its 7th rank."""
    return any(line.is_pawn_advance(ply, ranks_from_promotion=2) for ply in line.solver_plies)


def is_sacrifice(line: Line) -> bool:
    """After a later solver move the solver is down material (by :data:`SACRIFICE_MIN_LOSS`) compared with the
    start, and the opponent never promoted on the way."""
    start = line.material(line.first)
    for ply in _later_solver_plies(line):
        if line.material(ply + 1) - start <= -SACRIFICE_MIN_LOSS:
            return not any(line.moves[reply].promotion for reply in line.reply_plies)
    return False


def has_x_ray(line: Line) -> bool:
    """The solver takes on a square, the opponent takes back, and the solver takes again through the square the
    opponent's piece came from (the solver's piece was behind it all along)."""
    for ply in _later_solver_plies(line):
        if not line.is_capture(ply) or ply < 2:
            continue
        move, reply, previous = line.moves[ply], line.moves[ply - 1], line.moves[ply - 2]
        if reply.to_square != move.to_square or line.moved_piece(ply - 1) == chess.KING:
            continue
        if previous.to_square == reply.to_square and reply.from_square in _between(move.from_square, move.to_square):
            return True
    return False


def hangs_piece(line: Line) -> bool:
    """The solver's first move takes an undefended piece (not a pawn) that is not merely a trade back, and the
    solver keeps the material."""
    ply = line.first
    start = line.before(ply)
    square = line.moves[ply].to_square
    captured = start.piece_at(square)
    if start.is_check() and (captured is None or captured.piece_type == chess.PAWN):
        return False
    if captured is None or captured.piece_type == chess.PAWN or not is_hanging(start, square):
        return False
    if line.first > 0:
        setup = line.moves[line.first - 1]
        taken_by_setup = line.before(line.first - 1).piece_at(setup.to_square)
        if (
            setup.to_square == square
            and taken_by_setup is not None
            and PIECE_VALUES[taken_by_setup.piece_type] >= PIECE_VALUES[captured.piece_type]
        ):
            return False
    if line.plies < line.first + 3:
        return True
    return line.material(line.first + 3) >= line.material(line.first + 1)


def discovered_attacks(line: Line) -> list[Fact] | bool:
    """Discovered attacks: the discovered checks (as facts, see :func:`discovered_checks`), or, when there is
    none, whether the solver takes along a line that its previous move opened (not by castling, and not a
    recapture of the reply's piece), a yes/no answer with no board fact."""
    checks = discovered_checks(line)
    if checks:
        return checks
    for ply in _later_solver_plies(line):
        if not line.is_capture(ply):
            continue
        move = line.moves[ply]
        if line.moves[ply - 1].to_square == move.to_square:
            return False
        previous = line.moves[ply - 2]
        if (
            previous.from_square in _between(move.from_square, move.to_square)
            and move.to_square != previous.to_square
            and move.from_square != previous.to_square
            and not line.is_castling(ply - 2)
        ):
            return True
    return False


def hanging_targets(line: Line) -> list[Fact]:
    """The piece the solver's first move goes for, when it stands attacked and undefended in the solver's
    position: the fact an explanation of ``hangingPiece`` shows (whether or not :func:`hangs_piece` counts the
    line as winning it)."""
    start = line.start
    fact = find_hanging(start, line.moves[line.first].to_square)
    return [] if fact is None else [fact.at(start)]


def _threatens(board: chess.Board, square: chess.Square) -> bool:
    return bool(attacked_enemies(board, square))


def has_quiet_move(line: Line) -> bool:
    """A solver move before the last that neither checks, escapes check, captures, attacks an enemy piece,
    pushes an advanced pawn nor moves the king."""
    for ply in line.solver_plies[:-1]:
        if (
            not line.after(ply).is_check()
            and not line.before(ply).is_check()
            and not line.is_capture(ply)
            and not _threatens(line.after(ply), line.moves[ply].to_square)
            and not line.is_pawn_advance(ply)
            and line.moved_piece(ply) != chess.KING
        ):
            return True
    return False


def is_defensive_move(line: Line) -> bool:
    """The last move is quiet (no check, capture, attack on a piece or advanced pawn push) and was chosen among
    at least three, or a solver move quietly gets out of check before any solver check or capture."""
    last = line.plies - 1
    if line.before(last).legal_moves.count() >= 3 and not (
        line.after(last).is_check()
        or line.is_capture(last)
        or _threatens(line.after(last), line.moves[last].to_square)
        or line.is_pawn_advance(last)
    ):
        return True
    for ply in line.solver_plies:
        if line.after(ply).is_check() or line.is_capture(ply) or line.before(ply).legal_moves.count() < 3:
            return False
        if line.before(ply).is_check():
            return True
    return False


def has_attraction(line: Line) -> bool:
    """The solver moves to a square, the enemy king, queen or rook takes there, and the solver's next move
    attacks that square, checking the king or later taking the piece there."""
    for ply in line.solver_plies:
        square = line.moves[ply].to_square
        if ply + 2 >= line.plies or line.moves[ply + 1].to_square != square:
            continue
        attracted = line.moved_piece(ply + 1)
        if attracted not in (chess.KING, chess.QUEEN, chess.ROOK):
            continue
        follow_up = line.moves[ply + 2]
        if follow_up.to_square not in line.after(ply + 2).attackers(line.pov, square):
            continue
        if attracted == chess.KING:
            return True
        if ply + 4 < line.plies and line.moves[ply + 4].to_square == square:
            return True
    return False


def has_deflection(line: Line) -> bool:
    """The solver's previous move (a check, or a move the reply took on) drew an enemy piece off a square it
    guarded, and the solver now takes or promotes on that square."""
    for ply in _later_solver_plies(line):
        move, reply, previous = line.moves[ply], line.moves[ply - 1], line.moves[ply - 2]
        captured = line.captured(ply)
        if captured is None and not move.promotion:
            continue
        if captured is not None and PIECE_VALUES[captured.piece_type] > PIECE_VALUES[line.moved_piece(ply)]:
            continue
        square = move.to_square
        previous_taken = line.captured(ply - 2)
        if (
            previous_taken is not None
            and PIECE_VALUES[previous_taken.piece_type] >= PIECE_VALUES[line.moved_piece(ply - 2)]
        ):
            continue
        if square in (reply.to_square, previous.to_square):
            continue
        lured = line.before(ply - 1)  # after the solver's previous move
        if not (reply.to_square == previous.to_square or lured.is_check()):
            continue
        guarded = square in lured.attacks(reply.from_square) or (
            move.promotion is not None
            and chess.square_file(square) == chess.square_file(reply.from_square)
            and move.from_square in lured.attacks(reply.from_square)
        )
        if guarded and square not in line.before(ply).attacks(reply.to_square):
            return True
    return False


def has_exposed_king(line: Line) -> bool:
    """The enemy king starts in its own half with no pawn of its own in front of it or beside it, and the
    solver checks it in the middle of the line."""
    board = line.start if line.pov == chess.WHITE else line.start.mirror()
    king = board.king(chess.BLACK)
    if king is None or chess.square_rank(king) < 5:
        return False
    shelter = [king - 8]
    if chess.square_file(king) > 0:
        shelter += [king - 1, king - 9]
    if chess.square_file(king) < 7:
        shelter += [king + 1, king - 7]
    if any(board.piece_at(s) == chess.Piece(chess.PAWN, chess.BLACK) for s in shelter):
        return False
    return any(line.after(ply).is_check() for ply in line.solver_plies[1:-1])


def _interference_at(line: Line, ply: int, board: chess.Board, blocking_move: chess.Move) -> bool:
    """Whether ``blocking_move`` landed between the piece the solver takes at ``ply`` and a line piece that
    defended it on ``board``."""
    square = line.moves[ply].to_square
    captured = line.captured(ply)
    assert captured is not None
    for defender in board.attackers(captured.color, square):
        if board.piece_type_at(defender) in LINE_PIECES and blocking_move.to_square in _between(square, defender):
            return True
    return False


def has_interference(line: Line) -> bool:
    """The solver takes an undefended piece whose line-piece defender was cut off by the move before: by the
    reply itself, or by the solver's previous move."""
    for ply in _later_solver_plies(line):
        captured = line.captured(ply)
        if captured is None or not is_hanging(line.before(ply), line.moves[ply].to_square):
            continue
        if _interference_at(line, ply, line.before(ply - 1), line.moves[ply - 1]):
            return True
        if line.moves[ply - 1].to_square != line.moves[ply].to_square and _interference_at(
            line, ply, line.before(ply - 2), line.moves[ply - 2]
        ):
            return True
    return False


def has_intermezzo(line: Line) -> bool:
    """The opponent took on a square, the solver first played another move, and only then took back on that
    square (a capture that was already possible)."""
    for ply in _later_solver_plies(line):
        if not line.is_capture(ply) or ply < 3:
            continue
        square = line.moves[ply].to_square
        reply, previous = line.moves[ply - 1], line.moves[ply - 2]
        if reply.from_square in line.before(ply - 1).attackers(not line.pov, square):
            continue
        if previous.to_square == square:
            continue
        earlier = line.moves[ply - 3]
        return (
            earlier.to_square == square
            and line.is_capture(ply - 3)
            and line.moves[ply] in line.before(ply - 2).legal_moves
        )
    return False


def has_clearance(line: Line) -> bool:
    """The solver's previous move vacated a square or line (without being a capture of a defended piece that
    stays safe) and a line piece now moves to or through it, with no check involved."""
    for ply in _later_solver_plies(line):
        move, previous = line.moves[ply], line.moves[ply - 2]
        if line.captured(ply) is not None or line.moved_piece(ply) not in LINE_PIECES:
            continue
        if previous.promotion or previous.to_square in (move.from_square, move.to_square):
            continue
        if line.before(ply).is_check() or (line.after(ply).is_check() and line.moved_piece(ply - 1) == chess.KING):
            continue
        if previous.from_square != move.to_square and previous.from_square not in _between(
            move.from_square, move.to_square
        ):
            continue
        if line.captured(ply - 2) is None or is_in_bad_spot(line.before(ply - 1), previous.to_square):
            return True
    return False


def plays_en_passant(line: Line) -> bool:
    """The solver takes en passant."""
    return any(line.before(ply).is_en_passant(line.moves[ply]) for ply in line.solver_plies)


def castles(line: Line) -> bool:
    """The solver castles."""
    return any(line.is_castling(ply) for ply in line.solver_plies)


def promotes(line: Line) -> bool:
    """The solver promotes a pawn."""
    return any(line.moves[ply].promotion for ply in line.solver_plies)


def under_promotes(line: Line) -> bool:
    """The solver promotes to something other than a queen (a mate by promotion counts only as a knight)."""
    for ply in line.solver_plies:
        promotion = line.moves[ply].promotion
        if line.after(ply).is_checkmate():
            return promotion == chess.KNIGHT
        if promotion and promotion != chess.QUEEN:
            return True
    return False


def captures_defender(line: Line) -> bool:
    """The solver's previous move took a piece that defended the square the solver now takes on (or mates
    on), with no check in between."""
    for ply in _later_solver_plies(line):
        move = line.moves[ply]
        captured = line.captured(ply)
        wins_piece = (
            captured is not None
            and line.moved_piece(ply) != chess.KING
            and PIECE_VALUES[captured.piece_type] <= PIECE_VALUES[line.moved_piece(ply)]
            and is_hanging(line.before(ply), move.to_square)
            and line.moves[ply - 1].to_square != move.to_square
        )
        if not (line.after(ply).is_checkmate() or wins_piece):
            continue
        previous = line.moves[ply - 2]
        if line.after(ply - 2).is_check() or previous.to_square == move.from_square:
            continue
        board = line.before(ply - 2)
        defender = board.piece_at(previous.to_square)
        if (
            defender is not None
            and previous.to_square in board.attackers(defender.color, move.to_square)
            and not board.is_check()
        ):
            return True
    return False


KINGSIDE = (7, (6, 7), 20)
QUEENSIDE = (0, (0, 1, 2), 18)
"""(corner file, king files, fewest pieces on the board) of a wing attack."""


def kingside_attack(line: Line) -> bool:
    """An attack on the enemy king castled kingside (see :func:`attacks_wing`)."""
    return attacks_wing(line, KINGSIDE)


def queenside_attack(line: Line) -> bool:
    """An attack on the enemy king castled queenside (see :func:`attacks_wing`)."""
    return attacks_wing(line, QUEENSIDE)


def attacks_wing(line: Line, wing: tuple[int, tuple[int, ...], int]) -> bool:
    """An attack on the enemy king sitting on its back rank on that wing, with most pieces still on: the
    solver checks, and its checks and captures near the corner outweigh its moves far from it."""
    corner_file, king_files, fewest_pieces = wing
    back_rank = 7 if line.pov == chess.WHITE else 0
    start = line.start
    king = start.king(not line.pov)
    if (
        king is None
        or chess.square_rank(king) != back_rank
        or chess.square_file(king) not in king_files
        or len(start.piece_map()) < fewest_pieces
        or not any(line.after(ply).is_check() for ply in line.solver_plies)
    ):
        return False
    corner = chess.square(corner_file, back_rank)
    score = 0
    for ply in line.solver_plies:
        distance = chess.square_distance(corner, line.moves[ply].to_square)
        if line.after(ply).is_check():
            score += 1
        if line.is_capture(ply) and distance <= 3:
            score += 1
        elif distance >= 5:
            score -= 1
    return score >= 2
