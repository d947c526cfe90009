"""Positional detectors: pawn structure, files, outposts, bishops, king safety, activity, space, weak squares.

Each ``detect_<concept>(board)`` returns :class:`~chessteach.concepts.facts.Fact` objects for one positional
concept of the catalog (``concept`` is its catalog id), and every kind of fact it emits has a checker,
registered with :func:`~chessteach.concepts.facts.fact_check`, that recomputes the statement from a board.
The registry (:mod:`chessteach.concepts.registry`) maps each concept to its detector, and its
:func:`~chessteach.concepts.registry.positional_facts` runs them all. The pawn concepts (isolated, doubled, backward and passed pawns) also
report the pieces that attack such a pawn (:func:`detect_pawn_targets`) and those that blockade it
(:func:`detect_blockades`), and a passed pawn's defenders (:func:`detect_passed_pawn_support`): the play for
and against a pawn feature, which pieces change when the pawns cannot.

Conventions: a square's *relative rank* counts from its owner's side (0 is White's first rank for White and
Black's eighth rank for Black); the texts name ranks 1-8 from the owner's side. Pieces in a fact are listed
in the order of its squares; a square with nothing on it (an outpost to reach, a hole) comes last. Every fact
about one side carries the side as its ``color``; counts and other details are typed fields of
:class:`~chessteach.concepts.facts.Fact` (``count``, ``file``, ``square``, ...).

>>> import chess
>>> board = chess.Board("4k3/8/8/8/3P4/8/8/4K3 w - - 0 1")
>>> [f.text for f in detect_isolated_pawn(board)]
["White's pawn on d4 is isolated: no white pawn stands on the c- or e-file."]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import chess

from chessteach.concepts.facts import Fact, OutpostStatus, fact_check, pieces_match
from chessteach.concepts.pieces import NON_PAWN_PIECES, non_pawn_material

Detector = Callable[[chess.Board], list[Fact]]

OUTPOST_RANKS = (3, 4, 5)
"""Relative ranks (0-based) of outpost squares: the owner's 4th to 6th rank."""
WEAK_SQUARE_RANKS = (2, 3)
"""Relative ranks (0-based) where weak squares are looked for: the owner's 3rd and 4th rank."""
CENTRE_FILES = (2, 3, 4, 5)
"""The c- to f-files, where space and central weak squares are counted."""
SPACE_RANKS = (1, 2, 3)
"""Relative ranks (0-based) of the space area: the owner's 2nd to 4th rank (Stockfish's space mask)."""
SPACE_MIN_MATERIAL = 40
"""Space facts are emitted only while both sides together keep this much non-pawn material (N=B=3, R=5, Q=9):
as in Stockfish, space stops mattering once most pieces are traded."""
MOBILE_PIECES = NON_PAWN_PIECES
"""The pieces whose mobility is counted (pawns and kings are not)."""

_SIDE = {chess.WHITE: "White", chess.BLACK: "Black"}
_COLOR_WORD = {chess.WHITE: "white", chess.BLACK: "black"}


# --- small helpers --------------------------------------------------------------------------------


def _relative_rank(square: chess.Square, color: chess.Color) -> int:
    rank = chess.square_rank(square)
    return rank if color == chess.WHITE else 7 - rank


def _adjacent_files(file: int) -> list[int]:
    return [f for f in (file - 1, file + 1) if 0 <= f <= 7]


def _pawns(board: chess.Board, color: chess.Color, files: Iterable[int] | None = None) -> list[chess.Square]:
    squares = list(board.pieces(chess.PAWN, color))
    if files is not None:
        wanted = set(files)
        squares = [s for s in squares if chess.square_file(s) in wanted]
    return sorted(squares)


def _join(words: Sequence[str], conjunction: str = "and") -> str:
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {conjunction} {words[-1]}"


def _files_phrase(files: Sequence[int], conjunction: str = "or") -> str:
    """``[2, 4]`` -> ``"the c- or e-file"``."""
    letters = [chess.FILE_NAMES[f] for f in sorted(files)]
    if len(letters) == 1:
        return f"the {letters[0]}-file"
    return "the " + _join([f"{x}-" for x in letters[:-1]] + [f"{letters[-1]}-file"], conjunction)


def _piece_phrase(board: chess.Board, square: chess.Square) -> str:
    """``"the knight on f6"``."""
    piece = board.piece_at(square)
    name = chess.piece_name(piece.piece_type) if piece else "square"
    return f"the {name} on {chess.square_name(square)}"


def _side_piece_phrase(board: chess.Board, square: chess.Square) -> str:
    """``"White's knight on f3"``."""
    piece = board.piece_at(square)
    assert piece is not None
    return f"{_SIDE[piece.color]}'s {chess.piece_name(piece.piece_type)} on {chess.square_name(square)}"


def _symbols(board: chess.Board, squares: Iterable[chess.Square]) -> tuple[str, ...]:
    """The symbols of the pieces on ``squares``, stopping at the first empty square."""
    symbols = []
    for square in squares:
        piece = board.piece_at(square)
        if piece is None:
            break
        symbols.append(piece.symbol())
    return tuple(symbols)


def _fact(
    board: chess.Board,
    kind: str,
    concept: str,
    squares: Sequence[chess.Square],
    text: str,
    *,
    color: chess.Color | None = None,
    count: int | None = None,
    square: chess.Square | None = None,
    file: int | None = None,
    rank: int | None = None,
    weakness: str | None = None,
    status: OutpostStatus | None = None,
    islands: tuple[str, ...] = (),
    opponent_count: int | None = None,
    defenders: int | None = None,
    zone_hits: int | None = None,
    mobility: tuple[int, ...] = (),
) -> Fact:
    return Fact(
        kind=kind,
        squares=tuple(squares),
        pieces=_symbols(board, squares),
        text=text,
        concept=concept,
        color=color,
        count=count,
        square=square,
        file=file,
        rank=rank,
        weakness=weakness,
        status=status,
        islands=islands,
        opponent_count=opponent_count,
        defenders=defenders,
        zone_hits=zone_hits,
        mobility=mobility,
    )


def _lists_after_subject(fact: Fact, squares: Sequence[chess.Square]) -> bool:
    """Whether the fact names exactly ``squares`` after its subject (its first square), and counts them."""
    return list(fact.squares[1:]) == list(squares) and fact.count == len(squares)


def _is_piece(board: chess.Board, square: chess.Square, piece_type: chess.PieceType, color: chess.Color) -> bool:
    piece = board.piece_at(square)
    return piece is not None and piece.piece_type == piece_type and piece.color == color


def _pawn_attacks(board: chess.Board, color: chess.Color) -> chess.SquareSet:
    """Every square a pawn of ``color`` attacks."""
    attacked = chess.SquareSet()
    for square in board.pieces(chess.PAWN, color):
        attacked |= board.attacks(square)
    return attacked


def _all_attacks(board: chess.Board, color: chess.Color) -> chess.SquareSet:
    attacked = chess.SquareSet()
    for square in chess.SquareSet(board.occupied_co[color]):
        attacked |= board.attacks(square)
    return attacked


# --- isolated pawns -------------------------------------------------------------------------------


def is_isolated_pawn(board: chess.Board, square: chess.Square) -> bool:
    """A pawn is isolated when no pawn of its own colour stands on either neighbouring file."""
    piece = board.piece_at(square)
    if piece is None or piece.piece_type != chess.PAWN:
        return False
    return not _pawns(board, piece.color, _adjacent_files(chess.square_file(square)))


def detect_isolated_pawn(board: chess.Board) -> list[Fact]:
    """Isolated pawns (``isolated_pawn``): a pawn with no friendly pawn on either neighbouring file.

    >>> [f.text for f in detect_isolated_pawn(chess.Board("4k3/p7/8/8/8/8/8/4K3 w - - 0 1"))]
    ["Black's pawn on a7 is isolated: no black pawn stands on the b-file."]
    """
    facts = []
    for color in chess.COLORS:
        for square in _pawns(board, color):
            if is_isolated_pawn(board, square):
                files = _adjacent_files(chess.square_file(square))
                text = (
                    f"{_SIDE[color]}'s pawn on {chess.square_name(square)} is isolated: "
                    f"no {_COLOR_WORD[color]} pawn stands on {_files_phrase(files)}."
                )
                facts.append(_fact(board, "isolated_pawn", "isolatedPawn", [square], text, color=color))
    return facts


@fact_check("isolated_pawn")
def _check_isolated_pawn(board: chess.Board, fact: Fact) -> bool:
    return len(fact.squares) == 1 and pieces_match(board, fact) and is_isolated_pawn(board, fact.squares[0])


# --- doubled pawns --------------------------------------------------------------------------------


def detect_doubled_pawns(board: chess.Board) -> list[Fact]:
    """Doubled pawns (``doubled_pawns``): two or more pawns of one colour on the same file.

    One fact per side and file; ``squares`` are all that side's pawns on the file; ``file`` and ``count`` are set.
    """
    facts = []
    for color in chess.COLORS:
        for file in range(8):
            squares = _pawns(board, color, [file])
            if len(squares) >= 2:
                names = [chess.square_name(s) for s in squares]
                word = "doubled" if len(squares) == 2 else ("tripled" if len(squares) == 3 else "stacked")
                text = (
                    f"{_SIDE[color]} has {word} pawns on the {chess.FILE_NAMES[file]}-file: "
                    f"{len(squares)} pawns, on {_join(names)}."
                )
                facts.append(
                    _fact(
                        board,
                        "doubled_pawns",
                        "doubledPawns",
                        squares,
                        text,
                        color=color,
                        file=file,
                        count=len(squares),
                    )
                )
    return facts


@fact_check("doubled_pawns")
def _check_doubled_pawns(board: chess.Board, fact: Fact) -> bool:
    color, file = fact.color, fact.file
    if color is None or file is None or file not in range(8) or not pieces_match(board, fact):
        return False
    squares = _pawns(board, color, [file])
    return len(squares) >= 2 and squares == sorted(fact.squares) and fact.count == len(squares)


# --- backward pawns -------------------------------------------------------------------------------


def _stop_square(square: chess.Square, color: chess.Color) -> chess.Square | None:
    target = square + (8 if color == chess.WHITE else -8)
    return target if 0 <= target < 64 else None


def is_backward_pawn(board: chess.Board, square: chess.Square) -> bool:
    """A pawn is backward when it has friendly pawns on a neighbouring file but all of them stand further
    advanced (so none can ever support its advance), and its stop square (the square in front of it) is
    attacked by an enemy pawn, so it cannot advance safely either. A pawn with no neighbours at all is
    isolated, not backward.
    """
    piece = board.piece_at(square)
    if piece is None or piece.piece_type != chess.PAWN:
        return False
    color = piece.color
    neighbours = _pawns(board, color, _adjacent_files(chess.square_file(square)))
    if not neighbours:
        return False
    rank = _relative_rank(square, color)
    if any(_relative_rank(n, color) <= rank for n in neighbours):
        return False
    stop = _stop_square(square, color)
    return stop is not None and bool(board.attackers(not color, stop) & board.pieces(chess.PAWN, not color))


def detect_backward_pawn(board: chess.Board) -> list[Fact]:
    """Backward pawns (``backward_pawn``), see :func:`is_backward_pawn`.

    ``squares`` are the pawn and then the enemy pawns that guard its stop square.
    """
    facts = []
    for color in chess.COLORS:
        for square in _pawns(board, color):
            if not is_backward_pawn(board, square):
                continue
            stop = _stop_square(square, color)
            assert stop is not None
            guards = sorted(board.attackers(not color, stop) & board.pieces(chess.PAWN, not color))
            guard_names = [chess.square_name(s) for s in guards]
            text = (
                f"{_SIDE[color]}'s pawn on {chess.square_name(square)} is backward: its neighbouring pawns"
                f" have all advanced past it, and {_SIDE[not color]}'s pawn{'s' if len(guards) > 1 else ''}"
                f" on {_join(guard_names)} guard{'' if len(guards) > 1 else 's'} its stop square"
                f" {chess.square_name(stop)}."
            )
            facts.append(
                _fact(board, "backward_pawn", "backwardPawn", [square, *guards], text, color=color, square=stop)
            )
    return facts


@fact_check("backward_pawn")
def _check_backward_pawn(board: chess.Board, fact: Fact) -> bool:
    if not fact.squares or not pieces_match(board, fact) or not is_backward_pawn(board, fact.squares[0]):
        return False
    piece = board.piece_at(fact.squares[0])
    assert piece is not None
    stop = _stop_square(fact.squares[0], piece.color)
    guards = board.attackers(not piece.color, stop) if stop is not None else chess.SquareSet()
    return all(s in guards for s in fact.squares[1:])


# --- passed pawns ---------------------------------------------------------------------------------


def is_passed_pawn(board: chess.Board, square: chess.Square) -> bool:
    """A pawn is passed when no enemy pawn stands in front of it on its own file or a neighbouring file."""
    piece = board.piece_at(square)
    if piece is None or piece.piece_type != chess.PAWN:
        return False
    color = piece.color
    file = chess.square_file(square)
    rank = _relative_rank(square, color)
    blockers = _pawns(board, not color, [file, *_adjacent_files(file)])
    return all(_relative_rank(b, color) <= rank for b in blockers)


def detect_passed_pawn(board: chess.Board) -> list[Fact]:
    """Passed pawns (``passed_pawn``), see :func:`is_passed_pawn`; ``rank`` is the pawn's rank from its side.

    >>> [f.text for f in detect_passed_pawn(chess.Board("4k3/8/8/3P4/8/8/8/4K3 w - - 0 1"))]
    ["White's pawn on d5 is passed: no black pawn stands in front of it on the c-, d- or e-file."]
    """
    facts = []
    for color in chess.COLORS:
        for square in _pawns(board, color):
            if is_passed_pawn(board, square):
                file = chess.square_file(square)
                files = sorted([file, *_adjacent_files(file)])
                text = (
                    f"{_SIDE[color]}'s pawn on {chess.square_name(square)} is passed:"
                    f" no {_COLOR_WORD[not color]} pawn stands in front of it on {_files_phrase(files)}."
                )
                rank = _relative_rank(square, color) + 1
                facts.append(_fact(board, "passed_pawn", "passedPawn", [square], text, color=color, rank=rank))
    return facts


@fact_check("passed_pawn")
def _check_passed_pawn(board: chess.Board, fact: Fact) -> bool:
    return len(fact.squares) == 1 and pieces_match(board, fact) and is_passed_pawn(board, fact.squares[0])


# --- pawn islands ---------------------------------------------------------------------------------


def pawn_islands(board: chess.Board, color: chess.Color) -> list[list[int]]:
    """The groups of neighbouring files holding pawns of ``color`` (each a list of file indexes)."""
    occupied = sorted({chess.square_file(s) for s in board.pieces(chess.PAWN, color)})
    islands: list[list[int]] = []
    for file in occupied:
        if islands and islands[-1][-1] == file - 1:
            islands[-1].append(file)
        else:
            islands.append([file])
    return islands


def _island_names(islands: list[list[int]]) -> list[str]:
    names = []
    for island in islands:
        first, last = chess.FILE_NAMES[island[0]], chess.FILE_NAMES[island[-1]]
        names.append(first if first == last else f"{first}-{last}")
    return names


def detect_pawn_islands(board: chess.Board) -> list[Fact]:
    """Pawn islands (``pawn_islands``): one fact per side with pawns; ``squares`` are all its pawns,
    ``count`` the number of islands and ``islands`` their files (``("a-c", "e", "g-h")``).
    """
    facts = []
    for color in chess.COLORS:
        islands = pawn_islands(board, color)
        if not islands:
            continue
        names = _island_names(islands)
        count = len(islands)
        files_word = "file" if names == [chess.FILE_NAMES[islands[0][0]]] else "files"
        plural = "s" if count > 1 else ""
        text = f"{_SIDE[color]} has {count} pawn island{plural}, on {files_word} {_join(names)}."
        facts.append(
            _fact(
                board,
                "pawn_islands",
                "pawnIslands",
                _pawns(board, color),
                text,
                color=color,
                count=count,
                islands=tuple(names),
            )
        )
    return facts


@fact_check("pawn_islands")
def _check_pawn_islands(board: chess.Board, fact: Fact) -> bool:
    color = fact.color
    if color is None or not pieces_match(board, fact) or sorted(fact.squares) != _pawns(board, color):
        return False
    islands = pawn_islands(board, color)
    return fact.count == len(islands) and fact.islands == tuple(_island_names(islands))


# --- open and half-open files ---------------------------------------------------------------------


def _heavy_pieces_on_file(board: chess.Board, file: int, colors: Iterable[chess.Color]) -> list[chess.Square]:
    squares: set[chess.Square] = set()
    for color in colors:
        for piece_type in (chess.ROOK, chess.QUEEN):
            squares |= {s for s in board.pieces(piece_type, color) if chess.square_file(s) == file}
    return sorted(squares)


def is_open_file(board: chess.Board, file: int) -> bool:
    """A file is open when no pawn of either colour stands on it."""
    return not (_pawns(board, chess.WHITE, [file]) or _pawns(board, chess.BLACK, [file]))


def is_half_open_file(board: chess.Board, file: int, color: chess.Color) -> bool:
    """A file is half-open for ``color`` when no pawn of ``color`` stands on it but an enemy pawn does."""
    return not _pawns(board, color, [file]) and bool(_pawns(board, not color, [file]))


def _standing_on(board: chess.Board, squares: Sequence[chess.Square]) -> str:
    if not squares:
        return ""
    phrases = [_side_piece_phrase(board, s) for s in squares]
    verb = "stands" if len(squares) == 1 else "stand"
    return f"; {_join(phrases)} {verb} on it"


def detect_open_file(board: chess.Board) -> list[Fact]:
    """Open files (``open_file``): files with no pawn at all; ``squares`` are the rooks and queens on it."""
    facts = []
    for file in range(8):
        if is_open_file(board, file):
            heavy = _heavy_pieces_on_file(board, file, chess.COLORS)
            name = chess.FILE_NAMES[file]
            text = f"The {name}-file is open: no pawn of either side stands on it{_standing_on(board, heavy)}."
            facts.append(_fact(board, "open_file", "openFile", heavy, text, file=file))
    return facts


@fact_check("open_file")
def _check_open_file(board: chess.Board, fact: Fact) -> bool:
    file = fact.file
    if file is None or file not in range(8) or not pieces_match(board, fact):
        return False
    return is_open_file(board, file) and all(chess.square_file(s) == file for s in fact.squares)


def detect_half_open_file(board: chess.Board) -> list[Fact]:
    """Half-open files (``half_open_file``), see :func:`is_half_open_file`: one fact per side and file;
    ``squares`` are the enemy pawns on the file, then the side's own rooks and queens on it.
    """
    facts = []
    for color in chess.COLORS:
        for file in range(8):
            if not is_half_open_file(board, file, color):
                continue
            targets = _pawns(board, not color, [file])
            heavy = _heavy_pieces_on_file(board, file, [color])
            name = chess.FILE_NAMES[file]
            target_text = _join([chess.square_name(s) for s in targets])
            text = (
                f"The {name}-file is half-open for {_SIDE[color]}: no {_COLOR_WORD[color]} pawn stands on it,"
                f" only {_SIDE[not color]}'s pawn{'s' if len(targets) > 1 else ''} on {target_text}"
                f"{_standing_on(board, heavy)}."
            )
            facts.append(
                _fact(board, "half_open_file", "halfOpenFile", [*targets, *heavy], text, color=color, file=file)
            )
    return facts


@fact_check("half_open_file")
def _check_half_open_file(board: chess.Board, fact: Fact) -> bool:
    color, file = fact.color, fact.file
    if color is None or file is None or file not in range(8) or not pieces_match(board, fact):
        return False
    return is_half_open_file(board, file, color) and all(chess.square_file(s) == file for s in fact.squares)


# --- outposts -------------------------------------------------------------------------------------


def is_outpost(board: chess.Board, square: chess.Square, color: chess.Color) -> bool:
    """Whether ``square`` is an outpost for ``color``.

    An outpost is a square on the owner's 4th to 6th rank (in the opponent's half or at its edge) that one of
    the owner's pawns protects and that no enemy pawn can ever attack: no enemy pawn stands on a neighbouring
    file further up the board (from the owner's side), where it could advance to hit the square. Pawn
    captures that would bring an enemy pawn over from a more distant file are not considered.
    """
    rank = _relative_rank(square, color)
    if rank not in OUTPOST_RANKS:
        return False
    if not board.attackers(color, square) & board.pieces(chess.PAWN, color):
        return False
    enemies = _pawns(board, not color, _adjacent_files(chess.square_file(square)))
    return all(_relative_rank(e, color) <= rank for e in enemies)


def _outpost_protectors(board: chess.Board, square: chess.Square, color: chess.Color) -> list[chess.Square]:
    return sorted(board.attackers(color, square) & board.pieces(chess.PAWN, color))


def _minor_pieces(board: chess.Board, color: chess.Color) -> chess.SquareSet:
    return board.pieces(chess.KNIGHT, color) | board.pieces(chess.BISHOP, color)


def detect_outpost(board: chess.Board) -> list[Fact]:
    """Outposts (``outpost``), see :func:`is_outpost`, held or reachable by a knight or bishop.

    One fact per outpost that a knight or bishop of its owner occupies (``status`` ``"occupied"``: squares
    are the piece, then its protecting pawns), or that is empty and one move away for the owner's knights or
    bishops (``status`` ``"reachable"``: squares are those pieces, the protecting pawns, then the outpost).
    """
    facts = []
    for color in chess.COLORS:
        minors = _minor_pieces(board, color)
        for square in chess.SQUARES:
            if not is_outpost(board, square, color):
                continue
            pawns = _outpost_protectors(board, square, color)
            pawn_text = _join([chess.square_name(s) for s in pawns])
            safe = f"no {_COLOR_WORD[not color]} pawn can ever attack it"
            name = chess.square_name(square)
            if square in minors:
                text = (
                    f"{_side_piece_phrase(board, square)} stands on an outpost: protected by the pawn"
                    f"{'s' if len(pawns) > 1 else ''} on {pawn_text}, and {safe}."
                )
                facts.append(
                    _fact(
                        board,
                        "outpost",
                        "outpost",
                        [square, *pawns],
                        text,
                        color=color,
                        square=square,
                        status="occupied",
                    )
                )
            elif board.piece_at(square) is None:
                reachers = sorted(minors & board.attackers(color, square))
                if not reachers:
                    continue
                who = _join([_piece_phrase(board, s) for s in reachers], "or")
                text = (
                    f"{name} is an outpost for {_SIDE[color]}, protected by the"
                    f" pawn{'s' if len(pawns) > 1 else ''} on {pawn_text} where {safe}, and {who} can"
                    " move there."
                )
                facts.append(
                    _fact(
                        board,
                        "outpost",
                        "outpost",
                        [*reachers, *pawns, square],
                        text,
                        color=color,
                        square=square,
                        status="reachable",
                    )
                )
    return facts


@fact_check("outpost")
def _check_outpost(board: chess.Board, fact: Fact) -> bool:
    color, square, status = fact.color, fact.square, fact.status
    if color is None or square is None or square not in chess.SQUARES or not pieces_match(board, fact):
        return False
    if not is_outpost(board, square, color):
        return False
    protectors = _outpost_protectors(board, square, color)
    minors = _minor_pieces(board, color)
    if status == "occupied":
        return (
            bool(fact.squares)
            and fact.squares[0] == square
            and square in minors
            and (all(s in protectors for s in fact.squares[1:]))
        )
    if status == "reachable":
        if board.piece_at(square) is not None or not fact.squares or fact.squares[-1] != square:
            return False
        listed = fact.squares[:-1]
        reachers = [s for s in listed if s in minors]
        return bool(reachers) and all(s in minors & board.attackers(color, square) or s in protectors for s in listed)
    return False


# --- bishop pair ----------------------------------------------------------------------------------


def has_bishop_pair(board: chess.Board, color: chess.Color) -> bool:
    """A side has the bishop pair when it has a bishop on a light square and one on a dark square."""
    bishops = board.pieces(chess.BISHOP, color)
    return bool(bishops & chess.BB_LIGHT_SQUARES) and bool(bishops & chess.BB_DARK_SQUARES)


def _bishop_lack(board: chess.Board, color: chess.Color) -> str:
    bishops = board.pieces(chess.BISHOP, color)
    if not bishops:
        return "no bishop"
    if len(bishops) == 1:
        return "only one bishop"
    return "bishops on one colour of squares only"


def detect_bishop_pair(board: chess.Board) -> list[Fact]:
    """The bishop pair (``bishop_pair``): a side has bishops on both colours of squares and the opponent has
    not. ``squares`` are the side's bishops.
    """
    facts = []
    for color in chess.COLORS:
        if has_bishop_pair(board, color) and not has_bishop_pair(board, not color):
            bishops = sorted(board.pieces(chess.BISHOP, color))
            names = _join([chess.square_name(s) for s in bishops])
            text = (
                f"{_SIDE[color]} has the bishop pair (bishops on {names}),"
                f" while {_SIDE[not color]} has {_bishop_lack(board, not color)}."
            )
            facts.append(_fact(board, "bishop_pair", "bishopPair", bishops, text, color=color))
    return facts


@fact_check("bishop_pair")
def _check_bishop_pair(board: chess.Board, fact: Fact) -> bool:
    color = fact.color
    if color is None or not pieces_match(board, fact) or has_bishop_pair(board, not color):
        return False
    listed = chess.SquareSet(fact.squares)
    if not all(_is_piece(board, s, chess.BISHOP, color) for s in listed):
        return False
    return bool(listed & chess.BB_LIGHT_SQUARES) and bool(listed & chess.BB_DARK_SQUARES)


# --- king safety ----------------------------------------------------------------------------------


def shield_squares(king: chess.Square, color: chess.Color) -> list[chess.Square]:
    """The pawn-shield squares of a king: on its file and the neighbouring files, one and two ranks ahead."""
    squares = []
    step = 1 if color == chess.WHITE else -1
    for ahead in (1, 2):
        rank = chess.square_rank(king) + step * ahead
        if not 0 <= rank <= 7:
            continue
        for file in sorted([chess.square_file(king), *_adjacent_files(chess.square_file(king))]):
            squares.append(chess.square(file, rank))
    return squares


def pawn_shield(board: chess.Board, color: chess.Color) -> list[chess.Square]:
    """The pawns of ``color`` on its king's shield squares (:func:`shield_squares`), sorted."""
    king = board.king(color)
    if king is None:
        return []
    return sorted(s for s in shield_squares(king, color) if _is_piece(board, s, chess.PAWN, color))


def detect_pawn_shield(board: chess.Board) -> list[Fact]:
    """Pawn shields (``pawn_shield``), for each king still on its first or second rank: the own pawns on the
    king's file and the neighbouring files, one or two ranks in front of it. ``squares`` are the king and
    those pawns; ``count`` is their number.
    """
    facts = []
    for color in chess.COLORS:
        king = board.king(color)
        if king is None or _relative_rank(king, color) > 1:
            continue
        shield = pawn_shield(board, color)
        who = f"{_SIDE[color]}'s king on {chess.square_name(king)}"
        if shield:
            count = len(shield)
            text = (
                f"{who} has a pawn shield of {count} pawn{'s' if count > 1 else ''}:"
                f" {_join([chess.square_name(s) for s in shield])}."
            )
        else:
            files = sorted({chess.square_file(s) for s in shield_squares(king, color)})
            text = (
                f"{who} has no pawn shield: no {_COLOR_WORD[color]} pawn stands one or two squares in front"
                f" of it on {_files_phrase(files)}."
            )
        facts.append(_fact(board, "pawn_shield", "kingSafety", [king, *shield], text, color=color, count=len(shield)))
    return facts


@fact_check("pawn_shield")
def _check_pawn_shield(board: chess.Board, fact: Fact) -> bool:
    color = fact.color
    if color is None or not fact.squares or not pieces_match(board, fact) or board.king(color) != fact.squares[0]:
        return False
    return _lists_after_subject(fact, pawn_shield(board, color))


def king_zone(king: chess.Square) -> chess.SquareSet:
    """The king's square and the squares next to it."""
    return chess.SquareSet(chess.BB_KING_ATTACKS[king]) | chess.SquareSet.from_square(king)


def king_attackers(board: chess.Board, color: chess.Color) -> list[chess.Square]:
    """The enemy knights, bishops, rooks and queens that attack at least one square of the king zone of
    ``color`` (:func:`king_zone`), sorted by square. Pawns and the enemy king are not counted.
    """
    king = board.king(color)
    if king is None:
        return []
    zone = king_zone(king)
    attackers = []
    for piece_type in MOBILE_PIECES:
        for square in board.pieces(piece_type, not color):
            if board.attacks(square) & zone:
                attackers.append(square)
    return sorted(attackers)


def detect_king_attackers(board: chess.Board) -> list[Fact]:
    """King attackers (``king_attackers``), see :func:`king_attackers`: one fact per king with at least one
    attacker. ``squares`` are the king, then the attackers; ``count`` is their number and ``zone_hits`` how many squares of
    the king zone they hit.
    """
    facts = []
    for color in chess.COLORS:
        king = board.king(color)
        attackers = king_attackers(board, color)
        if king is None or not attackers:
            continue
        zone = king_zone(king)
        hit = chess.SquareSet()
        for square in attackers:
            hit |= board.attacks(square) & zone
        count = len(attackers)
        pieces = _join([_piece_phrase(board, s) for s in attackers])
        text = (
            f"{_SIDE[color]}'s king on {chess.square_name(king)} has {count} {_COLOR_WORD[not color]}"
            f" piece{'s' if count > 1 else ''} attacking the squares around it: {pieces}, hitting {len(hit)}"
            f" of the {len(zone)} squares of its zone."
        )
        facts.append(
            _fact(
                board,
                "king_attackers",
                "kingSafety",
                [king, *attackers],
                text,
                color=color,
                count=count,
                zone_hits=len(hit),
            )
        )
    return facts


@fact_check("king_attackers")
def _check_king_attackers(board: chess.Board, fact: Fact) -> bool:
    color = fact.color
    if color is None or not fact.squares or not pieces_match(board, fact) or board.king(color) != fact.squares[0]:
        return False
    return _lists_after_subject(fact, king_attackers(board, color))


def detect_king_safety(board: chess.Board) -> list[Fact]:
    """King safety (concept ``kingSafety``): :func:`detect_pawn_shield` and :func:`detect_king_attackers`."""
    return detect_pawn_shield(board) + detect_king_attackers(board)


# --- piece activity (mobility) --------------------------------------------------------------------


def piece_mobility(board: chess.Board, square: chess.Square) -> int:
    """The safe moves of the knight, bishop, rook or queen on ``square``: pseudo-legal moves (pins and checks
    ignored) to squares not occupied by its own pieces and not attacked by an enemy pawn.
    """
    piece = board.piece_at(square)
    if piece is None or piece.piece_type not in MOBILE_PIECES:
        return 0
    area = board.attacks(square) & ~chess.SquareSet(board.occupied_co[piece.color])
    return len(area & ~_pawn_attacks(board, not piece.color))


def mobility(board: chess.Board, color: chess.Color) -> dict[chess.Square, int]:
    """:func:`piece_mobility` of each knight, bishop, rook and queen of ``color``, by square."""
    squares = sorted(s for t in MOBILE_PIECES for s in board.pieces(t, color))
    return {s: piece_mobility(board, s) for s in squares}


def detect_piece_activity(board: chess.Board) -> list[Fact]:
    """Piece activity (``mobility``): one fact per side with knights, bishops, rooks or queens;
    ``squares`` are those pieces, ``count`` the side's total of safe moves (:func:`piece_mobility`) and
    ``mobility`` each piece's, in the order of ``squares``.
    """
    facts = []
    for color in chess.COLORS:
        counts = mobility(board, color)
        if not counts:
            continue
        total = sum(counts.values())
        most = max(counts, key=lambda s: (counts[s], -s))
        least = min(counts, key=lambda s: (counts[s], s))
        detail = f"the most active is {_piece_phrase(board, most)} with {counts[most]}"
        if least != most:
            detail += f", the least {_piece_phrase(board, least)} with {counts[least]}"
        text = (
            f"{_SIDE[color]}'s minor and major pieces have {total} safe move{'s' if total != 1 else ''} in all"
            f" (to squares not held by their own side and not attacked by a {_COLOR_WORD[not color]} pawn); {detail}."
        )
        facts.append(
            _fact(
                board,
                "mobility",
                "pieceActivity",
                list(counts),
                text,
                color=color,
                count=total,
                mobility=tuple(counts.values()),
            )
        )
    return facts


@fact_check("mobility")
def _check_mobility(board: chess.Board, fact: Fact) -> bool:
    color = fact.color
    if color is None or not pieces_match(board, fact):
        return False
    counts = mobility(board, color)
    if list(fact.squares) != list(counts) or fact.count != sum(counts.values()):
        return False
    return fact.mobility == tuple(counts.values())


# --- space ----------------------------------------------------------------------------------------


def space_area(color: chess.Color) -> chess.SquareSet:
    """The c- to f-file squares of ``color``'s 2nd to 4th rank."""
    squares = chess.SquareSet()
    for file in CENTRE_FILES:
        for rank in SPACE_RANKS:
            squares.add(chess.square(file, rank if color == chess.WHITE else 7 - rank))
    return squares


def space(board: chess.Board, color: chess.Color) -> int:
    """Stockfish's (classical) space count for ``color``.

    The *safe* squares of :func:`space_area` are those with no pawn of ``color`` on them and no enemy pawn
    attacking them; the count is their number plus, once more, those of them that stand up to three squares
    behind a pawn of ``color`` and that no enemy piece attacks.
    """
    own_pawns = board.pieces(chess.PAWN, color)
    safe = space_area(color) & ~own_pawns & ~_pawn_attacks(board, not color)
    behind = chess.SquareSet()
    step = -8 if color == chess.WHITE else 8
    for pawn in own_pawns:
        for distance in (1, 2, 3):
            square = pawn + step * distance
            if 0 <= square < 64:
                behind.add(square)
    return len(safe) + len(safe & behind & ~_all_attacks(board, not color))


def detect_space(board: chess.Board) -> list[Fact]:
    """Space (``space``), by :func:`space`: one fact per side with pawns, while both sides keep at least
    :data:`SPACE_MIN_MATERIAL` of non-pawn material. ``squares`` are the side's pawns on the c- to f-files;
    ``count`` is its count and ``opponent_count`` the opponent's.
    """
    if non_pawn_material(board) < SPACE_MIN_MATERIAL:
        return []
    facts = []
    for color in chess.COLORS:
        if not board.pieces(chess.PAWN, color):
            continue
        mine, theirs = space(board, color), space(board, not color)
        comparison = "more than" if mine > theirs else ("less than" if mine < theirs else "as much as")
        text = (
            f"{_SIDE[color]}'s space count is {mine}, {comparison} {_SIDE[not color]}'s {theirs}: safe"
            f" squares on the c- to f-files of {_SIDE[color]}'s 2nd to 4th rank, those behind its pawns"
            " counted twice."
        )
        facts.append(
            _fact(
                board,
                "space",
                "space",
                _pawns(board, color, CENTRE_FILES),
                text,
                color=color,
                count=mine,
                opponent_count=theirs,
            )
        )
    return facts


@fact_check("space")
def _check_space(board: chess.Board, fact: Fact) -> bool:
    color = fact.color
    if color is None or not pieces_match(board, fact):
        return False
    return fact.count == space(board, color) and fact.opponent_count == space(board, not color)


# --- weak squares ---------------------------------------------------------------------------------


def _weak_square_parts(
    board: chess.Board, square: chess.Square, color: chess.Color
) -> tuple[list[chess.Square], list[chess.Square]] | None:
    """The own pawns that have passed ``square`` and the enemy pieces using it; None unless it is weak."""
    if _is_piece(board, square, chess.PAWN, color):
        return None
    rank = _relative_rank(square, color)
    neighbours = _pawns(board, color, _adjacent_files(chess.square_file(square)))
    if not neighbours or any(_relative_rank(p, color) < rank for p in neighbours):
        return None
    occupant = board.piece_at(square)
    users = [square] if occupant is not None and occupant.color != color else sorted(board.attackers(not color, square))
    if not users:
        return None
    return neighbours, users


def is_weak_square(board: chess.Board, square: chess.Square, color: chess.Color) -> bool:
    """Whether ``square`` is a weak square (a hole) of ``color`` that the enemy can use.

    A weak square has no pawn of ``color`` on it, and no pawn of ``color`` can ever defend it again: there are
    pawns of ``color`` on the neighbouring files, but all of them stand level with it or beyond (from
    ``color``'s side), so none can advance to protect it (whether a pawn is blocked is not considered). Only
    squares the enemy uses count: an enemy piece stands on it or attacks it. Squares of a wing with no pawn
    of ``color`` nearby are not called weak; there the whole wing is empty.
    """
    return _weak_square_parts(board, square, color) is not None


def weak_square_area(board: chess.Board, color: chess.Color) -> list[chess.Square]:
    """Where weak squares of ``color`` are looked for: its 3rd and 4th rank on the c- to f-files, and on the
    king's file and its neighbours while the king is on its 1st or 2nd rank.
    """
    files = set(CENTRE_FILES)
    king = board.king(color)
    if king is not None and _relative_rank(king, color) <= 1:
        files |= {chess.square_file(king), *_adjacent_files(chess.square_file(king))}
    ranks = [r if color == chess.WHITE else 7 - r for r in WEAK_SQUARE_RANKS]
    return sorted(chess.square(f, r) for f in files for r in ranks)


def _weak_square_text(
    board: chess.Board, square: chess.Square, color: chess.Color, passed: list[chess.Square], users: list[int]
) -> str:
    side, enemy = _SIDE[color], _SIDE[not color]
    pawn_names = _join([chess.square_name(s) for s in passed])
    plural = len(passed) > 1
    reason = f"{side}'s pawn{'s' if plural else ''} on {pawn_names} {'have' if plural else 'has'} advanced past it"
    passed_files = {chess.square_file(s) for s in passed}
    empty = [f for f in _adjacent_files(chess.square_file(square)) if f not in passed_files]
    if empty:
        reason += f" and no {_COLOR_WORD[color]} pawn stands on {_files_phrase(empty)}"
    if users == [square]:
        use = f"{_side_piece_phrase(board, square)} stands there"
    else:
        attackers = _join([_piece_phrase(board, s).removeprefix("the ") for s in users])
        use = f"{enemy}'s {attackers} attack{'s' if len(users) == 1 else ''} it"
    return (
        f"{chess.square_name(square)} is a weak square in {side}'s camp: no {_COLOR_WORD[color]} pawn can"
        f" ever defend it ({reason}), and {use}."
    )


def detect_weak_squares(board: chess.Board) -> list[Fact]:
    """Weak squares (``weak_square``), see :func:`is_weak_square`, within :func:`weak_square_area`.

    ``squares`` are the own pawns that have advanced past the square, then the enemy pieces that use it (the
    occupant, or the attackers), then the square itself if it is empty; ``square`` names the square.
    """
    facts = []
    for color in chess.COLORS:
        for square in weak_square_area(board, color):
            parts = _weak_square_parts(board, square, color)
            if parts is None:
                continue
            passed, users = parts
            squares = [*passed, *users] if users == [square] else [*passed, *users, square]
            text = _weak_square_text(board, square, color, passed, users)
            facts.append(_fact(board, "weak_square", "weakSquares", squares, text, color=color, square=square))
    return facts


@fact_check("weak_square")
def _check_weak_square(board: chess.Board, fact: Fact) -> bool:
    color, square = fact.color, fact.square
    if color is None or square is None or square not in chess.SQUARES or not pieces_match(board, fact):
        return False
    parts = _weak_square_parts(board, square, color)
    if parts is None or not fact.squares:
        return False
    passed, users = parts
    listed = [s for s in fact.squares if s != square]
    return all(s in passed or s in users for s in listed)


# --- overloaded defenders -------------------------------------------------------------------------


def sole_defended(board: chess.Board, defender: chess.Square) -> list[chess.Square]:
    """The pieces (not the king) of the defender's side that the enemy attacks and that only the piece on
    ``defender`` defends (attacks and defences as :meth:`chess.Board.attackers` sees them: direct, pins and
    x-rays ignored). Empty for a king or an empty square.
    """
    piece = board.piece_at(defender)
    if piece is None or piece.piece_type == chess.KING:
        return []
    color = piece.color
    loaded = []
    for square in chess.SquareSet(board.occupied_co[color]):
        target = board.piece_at(square)
        if square == defender or target is None or target.piece_type == chess.KING:
            continue
        if board.attackers(not color, square) and list(board.attackers(color, square)) == [defender]:
            loaded.append(square)
    return sorted(loaded)


def detect_overloaded_defender(board: chess.Board) -> list[Fact]:
    """Overloaded defenders (``overloaded_defender``): a piece that is the only defender of two or more pieces
    the enemy attacks (see :func:`sole_defended`). ``squares`` are the defender, then those pieces.
    """
    facts = []
    for color in chess.COLORS:
        for defender in sorted(chess.SquareSet(board.occupied_co[color])):
            loaded = sole_defended(board, defender)
            if len(loaded) < 2:
                continue
            targets = _join([_piece_phrase(board, s) for s in loaded])
            text = (
                f"{_side_piece_phrase(board, defender)} is overloaded: it is the only defender of {targets},"
                f" and {_SIDE[not color]} attacks {'both' if len(loaded) == 2 else 'all of them'}."
            )
            facts.append(
                _fact(
                    board,
                    "overloaded_defender",
                    "overloadedDefender",
                    [defender, *loaded],
                    text,
                    color=color,
                    count=len(loaded),
                )
            )
    return facts


@fact_check("overloaded_defender")
def _check_overloaded_defender(board: chess.Board, fact: Fact) -> bool:
    if len(fact.squares) < 3 or not pieces_match(board, fact):
        return False
    loaded = sole_defended(board, fact.squares[0])
    return all(s in loaded for s in fact.squares[1:])


# --- targets and blockades: pieces against a pawn weakness ----------------------------------------


def is_doubled_pawn(board: chess.Board, square: chess.Square) -> bool:
    """A pawn is doubled when another pawn of its colour stands on the same file."""
    piece = board.piece_at(square)
    if piece is None or piece.piece_type != chess.PAWN:
        return False
    return len(_pawns(board, piece.color, [chess.square_file(square)])) >= 2


WEAKNESSES: dict[str, tuple[str, Callable[[chess.Board, chess.Square], bool]]] = {
    "isolated": ("isolatedPawn", is_isolated_pawn),
    "backward": ("backwardPawn", is_backward_pawn),
    "doubled": ("doubledPawns", is_doubled_pawn),
    "passed": ("passedPawn", is_passed_pawn),
}
"""The pawn features that pieces attack and blockade (:func:`detect_pawn_targets`, :func:`detect_blockades`):
each with its concept's catalog id and its test. A passed pawn is the owner's strength, not a weakness, but
it is attacked and blockaded in the same way."""

PAWN_PLAY_KINDS = ("pawn_target", "blockade", "passed_pawn_support")
"""The fact kinds about pieces attacking, blockading or defending a pawn feature (not the pawn structure
itself): they change with almost every piece move."""

BLOCKADED = ("isolated", "backward", "passed")
"""The features whose pawn a piece blockades by standing on its stop square (a doubled pawn is not one)."""


def _weakness_of(fact: Fact) -> tuple[str, Callable[[chess.Board, chess.Square], bool]] | None:
    return WEAKNESSES.get(fact.weakness) if fact.weakness is not None else None


def _pieces_text(board: chess.Board, squares: Sequence[chess.Square]) -> str:
    """``"White's rook on d1 and knight on f4"`` (all of one side)."""
    piece = board.piece_at(squares[0])
    assert piece is not None
    return f"{_SIDE[piece.color]}'s " + _join([_piece_phrase(board, s).removeprefix("the ") for s in squares])


def detect_pawn_targets(board: chess.Board, weakness: str) -> list[Fact]:
    """Pawns with the feature ``weakness`` (a key of :data:`WEAKNESSES`) that the enemy attacks
    (``pawn_target``): one fact per such pawn with at least one attacker, ``squares`` the pawn and then its
    attackers (any piece, as :meth:`chess.Board.attackers` sees them), ``color`` the pawn's side, ``weakness``
    the feature, the number of attackers (``count``) and of defenders (``defenders``); the concept is the
    feature's.

    >>> board = chess.Board("3r2k1/5ppp/8/3p4/5N2/8/5PPP/6K1 w - - 0 1")
    >>> [f.text for f in detect_pawn_targets(board, "isolated")]
    ["Black's isolated pawn on d5 is attacked by White's knight on f4, and defended by Black's rook on d8."]
    """
    concept, has = WEAKNESSES[weakness]
    facts = []
    for color in chess.COLORS:
        for square in _pawns(board, color):
            attackers = sorted(board.attackers(not color, square))
            if not attackers or not has(board, square):
                continue
            defenders = sorted(board.attackers(color, square))
            defended = f"defended by {_pieces_text(board, defenders)}" if defenders else "not defended"
            text = (
                f"{_SIDE[color]}'s {weakness} pawn on {chess.square_name(square)} is attacked by"
                f" {_pieces_text(board, attackers)}, and {defended}."
            )
            facts.append(
                _fact(
                    board,
                    "pawn_target",
                    concept,
                    [square, *attackers],
                    text,
                    color=color,
                    weakness=weakness,
                    count=len(attackers),
                    defenders=len(defenders),
                )
            )
    return facts


@fact_check("pawn_target")
def _check_pawn_target(board: chess.Board, fact: Fact) -> bool:
    color, weakness = fact.color, _weakness_of(fact)
    if color is None or weakness is None or not fact.squares or not pieces_match(board, fact):
        return False
    pawn = fact.squares[0]
    if not _is_piece(board, pawn, chess.PAWN, color) or not weakness[1](board, pawn):
        return False
    attackers = sorted(board.attackers(not color, pawn))
    return _lists_after_subject(fact, attackers) and fact.defenders == len(board.attackers(color, pawn))


def detect_blockades(board: chess.Board, weakness: str) -> list[Fact]:
    """Pieces that blockade a pawn with the feature ``weakness`` (one of :data:`BLOCKADED`) by standing on its
    stop square, the square in front of it (``blockade``): ``squares`` the blockading piece, then the pawn;
    ``color`` the blockader's side and ``weakness`` the feature; the concept is the feature's.

    >>> board = chess.Board("6k1/5ppp/8/3p4/3N4/8/5PPP/6K1 w - - 0 1")
    >>> [f.text for f in detect_blockades(board, "isolated")]
    ["White's knight on d4 blockades Black's isolated pawn on d5: it stands on the square in front of the pawn."]
    """
    if weakness not in BLOCKADED:
        raise ValueError(f"no blockade of a {weakness} pawn; blockaded: {', '.join(BLOCKADED)}")
    concept, has = WEAKNESSES[weakness]
    facts = []
    for color in chess.COLORS:
        for pawn in _pawns(board, not color):
            stop = _stop_square(pawn, not color)
            piece = board.piece_at(stop) if stop is not None else None
            if stop is None or piece is None or piece.color != color or piece.piece_type == chess.PAWN:
                continue
            if not has(board, pawn):
                continue
            text = (
                f"{_side_piece_phrase(board, stop)} blockades {_SIDE[not color]}'s {weakness} pawn on"
                f" {chess.square_name(pawn)}: it stands on the square in front of the pawn."
            )
            facts.append(_fact(board, "blockade", concept, [stop, pawn], text, color=color, weakness=weakness))
    return facts


@fact_check("blockade")
def _check_blockade(board: chess.Board, fact: Fact) -> bool:
    color, weakness = fact.color, _weakness_of(fact)
    if color is None or weakness is None or fact.weakness not in BLOCKADED or len(fact.squares) != 2:
        return False
    if not pieces_match(board, fact):
        return False
    blocker, pawn = fact.squares
    piece = board.piece_at(blocker)
    return (
        piece is not None
        and piece.color == color
        and piece.piece_type != chess.PAWN
        and _is_piece(board, pawn, chess.PAWN, not color)
        and _stop_square(pawn, not color) == blocker
        and weakness[1](board, pawn)
    )


def detect_passed_pawn_support(board: chess.Board) -> list[Fact]:
    """Passed pawns and what defends them (``passed_pawn_support``): one fact per passed pawn with at least one
    defender (any piece of its side that attacks its square, a rook or queen behind it on its file included),
    ``squares`` the pawn and then its defenders, ``color`` its side and ``count`` the number of defenders.

    >>> board = chess.Board("6k1/8/8/3P4/8/8/8/3R2K1 w - - 0 1")
    >>> [f.text for f in detect_passed_pawn_support(board)]
    ["White's passed pawn on d5 is defended by White's rook on d1."]
    """
    facts = []
    for color in chess.COLORS:
        for square in _pawns(board, color):
            defenders = sorted(board.attackers(color, square))
            if not defenders or not is_passed_pawn(board, square):
                continue
            text = (
                f"{_SIDE[color]}'s passed pawn on {chess.square_name(square)} is defended by"
                f" {_pieces_text(board, defenders)}."
            )
            facts.append(
                _fact(
                    board,
                    "passed_pawn_support",
                    "passedPawn",
                    [square, *defenders],
                    text,
                    color=color,
                    count=len(defenders),
                )
            )
    return facts


@fact_check("passed_pawn_support")
def _check_passed_pawn_support(board: chess.Board, fact: Fact) -> bool:
    color = fact.color
    if color is None or not fact.squares or not pieces_match(board, fact):
        return False
    pawn = fact.squares[0]
    if not _is_piece(board, pawn, chess.PAWN, color) or not is_passed_pawn(board, pawn):
        return False
    return _lists_after_subject(fact, sorted(board.attackers(color, pawn)))


def with_pieces_against(detect: Detector, weakness: str, *more: Detector) -> Detector:
    """A pawn concept's whole detector: ``detect``, then :func:`detect_pawn_targets` and
    :func:`detect_blockades` for ``weakness``, then ``more``."""

    def detector(board: chess.Board) -> list[Fact]:
        facts = detect(board) + detect_pawn_targets(board, weakness)
        if weakness in BLOCKADED:
            facts += detect_blockades(board, weakness)
        for extra in more:
            facts += extra(board)
        return facts

    detector.__doc__ = f"{detect.__name__}, then the {weakness} pawns that pieces attack and blockade."
    return detector


__all__ = [
    "BLOCKADED",
    "PAWN_PLAY_KINDS",
    "WEAKNESSES",
    "detect_backward_pawn",
    "detect_bishop_pair",
    "detect_blockades",
    "detect_doubled_pawns",
    "detect_half_open_file",
    "detect_isolated_pawn",
    "detect_king_attackers",
    "detect_king_safety",
    "detect_open_file",
    "detect_outpost",
    "detect_overloaded_defender",
    "detect_passed_pawn",
    "detect_passed_pawn_support",
    "detect_pawn_islands",
    "detect_pawn_targets",
    "detect_pawn_shield",
    "detect_piece_activity",
    "detect_space",
    "detect_weak_squares",
    "with_pieces_against",
    "has_bishop_pair",
    "is_backward_pawn",
    "is_doubled_pawn",
    "is_half_open_file",
    "is_isolated_pawn",
    "is_open_file",
    "is_outpost",
    "is_passed_pawn",
    "is_weak_square",
    "king_attackers",
    "mobility",
    "pawn_islands",
    "pawn_shield",
    "piece_mobility",
    "sole_defended",
    "space",
]
