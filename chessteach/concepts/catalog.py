"""The concept catalog: every chess concept chessteach teaches, with an id, a name and a definition.

Two families:

* ``"theme"``: the Lichess puzzle themes, with ids spelled exactly as Lichess spells them
  (``mateIn2``, ``backRankMate``, ``discoveredAttack``, ...), so puzzle sets interoperate.
  Subfamilies: ``mate``, ``motif``, ``move`` (special moves), ``length``, ``evaluation``, ``phase``,
  ``endgame`` and ``title``.
* ``"positional"``: positional features the themes lack (``isolatedPawn``, ``outpost``, ``kingSafety``, ...),
  in the same lowerCamel style. Subfamilies: ``pawns``, ``files``, ``pieces``, ``king`` and ``squares``.
  Each has a detector in :mod:`chessteach.concepts.positional`.

What finds each concept, and the kinds of :class:`~chessteach.concepts.facts.Fact` it emits, is recorded in
:mod:`chessteach.concepts.registry`.

The definitions, the ``how_to_spot`` hints and the ``common_mistakes`` notes are the project's own words,
written for a club player; a teacher builds on them.

>>> get_concept("backRankMate").name
'Back-rank mate'
>>> [c.id for c in concepts(family="theme", subfamily="length")]
['oneMove', 'short', 'long', 'veryLong']
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from chessteach.errors import ChessteachError

THEME = "theme"
POSITIONAL = "positional"
FAMILIES = (THEME, POSITIONAL)


class UnknownConceptError(ChessteachError, KeyError, ValueError):
    """A concept id (or family) that the catalog does not know; the message lists close matches."""

    def __init__(self, message: str, *, id: str = "", suggestions: tuple[str, ...] = ()):
        self.id = id
        self.suggestions = suggestions
        super().__init__(message)

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


@dataclass(frozen=True)
class Concept:
    """One chess concept.

    ``id`` is the catalog key (for themes, the Lichess spelling); ``family`` is ``"theme"`` or
    ``"positional"`` and ``subfamily`` groups it further. ``needs_engine`` marks concepts that cannot be
    decided from the position and its solution line alone (an evaluation or a search over the alternatives
    is needed); ``from_titles`` marks the themes Lichess sets from the players' titles, not from the board.
    """

    id: str
    name: str
    family: str
    subfamily: str
    definition: str
    how_to_spot: str = ""
    common_mistakes: str = ""
    needs_engine: bool = False
    from_titles: bool = False

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(
                f"concept {self.id!r}: unknown family {self.family!r}; families: {', '.join(FAMILIES)}"
            )
        if not self.definition.strip():
            raise ValueError(f"concept {self.id!r} has no definition")


def _theme(
    id: str,
    name: str,
    subfamily: str,
    definition: str,
    how_to_spot: str = "",
    common_mistakes: str = "",
    *,
    needs_engine: bool = False,
    from_titles: bool = False,
) -> Concept:
    return Concept(
        id, name, THEME, subfamily, definition, how_to_spot, common_mistakes, needs_engine, from_titles
    )


def _positional(
    id: str,
    name: str,
    subfamily: str,
    definition: str,
    how_to_spot: str,
    common_mistakes: str,
) -> Concept:
    return Concept(id, name, POSITIONAL, subfamily, definition, how_to_spot, common_mistakes)


def _mate_in(n: int) -> Concept:
    moves = "one move" if n == 1 else f"{n} moves"
    return _theme(
        f"mateIn{n}",
        f"Mate in {n}",
        "mate",
        "The side to move gives checkmate at once: the first move is mate."
        if n == 1
        else f"The side to move forces checkmate in {moves} of its own, whatever the defender replies.",
        "List every check first, then every capture and every threat; with a cramped enemy king the"
        " forcing moves usually contain the solution.",
        "Stopping at a move that wins material when a mate is there, or missing a defender's interposition"
        " or king escape on the last move."
        if n > 1
        else "Overlooking that the checking piece can be captured or the check blocked.",
    )


_MATES = [
    _theme(
        "mate",
        "Checkmate",
        "mate",
        "The solution ends in checkmate: the king is attacked and no move (king move, capture of the"
        " checker or interposition) gets it out of check.",
        "Look at the enemy king's flight squares: when they are all blocked or covered, a single safe"
        " check is mate.",
        "Calling a check mate without testing every capture and block; forgetting that the king can take"
        " an undefended checker.",
    ),
    *[_mate_in(n) for n in range(1, 6)],
    _theme(
        "backRankMate",
        "Back-rank mate",
        "mate",
        "A rook or queen mates the king along its first rank, where the king is shut in by its own pawns"
        " (or pieces) on the second rank and no defender can cover the back rank.",
        "A king on its home rank behind unmoved pawns and no luft (h3/h6 or g3/g6 never played), with the"
        " back rank guarded by a single piece that can be deflected.",
        "Checking on the back rank when a rook or queen still guards it; forgetting that the defender can"
        " interpose a piece.",
    ),
    _theme(
        "smotheredMate",
        "Smothered mate",
        "mate",
        "A knight gives mate to a king that cannot move because every square around it is occupied by its"
        " own pieces; the king is smothered by its own army.",
        "A king in the corner (g8/h8) boxed in by its rook and pawns, and a knight able to check on f7 or"
        " g6; a queen sacrifice on g8 often forces the rook to block the last square.",
        "Trying the knight check while one flight square is still free, or missing that the knight itself"
        " can be captured.",
    ),
    _theme(
        "anastasiaMate",
        "Anastasia's mate",
        "mate",
        "A knight and a rook (or queen) trap the king on the edge of the board: the knight covers the"
        " king's escape squares, the heavy piece mates along the edge file, and one of the king's own"
        " pieces takes its last square.",
        "A king on h7 (or a7) with its own pawn on g7, a knight that can reach e7, and a rook or queen"
        " that can reach the h-file.",
        "Forgetting the king can step to the square the knight was meant to cover, or that the h-file can"
        " be blocked.",
    ),
    _theme(
        "hookMate",
        "Hook mate",
        "mate",
        "A rook mates the king from an adjacent square, protected by a knight, which is in turn protected"
        " by a pawn; an enemy pawn blocks the king's remaining escape square. The three pieces form a hook.",
        "A rook check next to the king where the knight guards the rook and a pawn guards the knight.",
        "Leaving the knight unprotected so the king simply captures the rook and then walks out.",
    ),
    _theme(
        "arabianMate",
        "Arabian mate",
        "mate",
        "A rook and a knight mate a king in the corner: the rook checks from the adjacent square on the"
        " edge, protected by the knight, which also covers the king's diagonal escape.",
        "King on h8, a rook that can land on h7 (or g8) and a knight on f6 covering both.",
        "Placing the knight where it guards the rook but not the king's other flight square.",
    ),
    _theme(
        "bodenMate",
        "Boden's mate",
        "mate",
        "Two bishops on crossing diagonals mate a king, usually castled queenside, whose flight squares"
        " are blocked by its own pieces; often a queen sacrifice opens the decisive diagonal.",
        "A king on c8 (or c1) with its own pieces on d7 and b8, and two bishops aimed at a6 and the a3-f8"
        " or h3-c8 diagonal.",
        "Sacrificing on c6 or b7 before checking that both bishops actually cover the remaining squares.",
    ),
    _theme(
        "doubleBishopMate",
        "Double bishop mate",
        "mate",
        "Two bishops on adjacent diagonals mate a king whose remaining squares are blocked by its own"
        " pieces; one bishop checks and the other covers the diagonal next to it.",
        "Two bishops side by side on parallel diagonals pointing at a king walled in by its own pawns.",
        "Expecting mate while a piece can still block the checking diagonal.",
    ),
    _theme(
        "dovetailMate",
        "Dovetail mate",
        "mate",
        "A queen mates the king from a diagonally adjacent square, protected, while the two squares behind"
        " the king on either side of the queen's line are blocked by the king's own pieces.",
        "A king whose two retreat squares are filled by its own pieces and a protected queen check from a"
        " diagonal neighbour.",
        "Checking with an unprotected queen, which the king simply takes.",
    ),
    _theme(
        "cornerMate",
        "Corner mate",
        "mate",
        "A rook or queen and a knight mate a king confined to the corner: the heavy piece holds the king"
        " to the edge and the knight gives or supports the final check.",
        "A king on h8/a8 with its own pawn in front, a rook or queen on the g-file or 7th rank, and a"
        " knight that can check on g6 or f7.",
        "Letting the king escape along the edge because the heavy piece covers the wrong line.",
    ),
    _theme(
        "epauletteMate",
        "Epaulette mate",
        "mate",
        "A king is mated from in front by a queen (or rook) because its two side squares along the edge"
        " are occupied by its own pieces, usually rooks, which sit like epaulettes on its shoulders.",
        "A king on e8 with rooks on d8 and f8 (or any two own pieces beside it) and a safe check on e6 or"
        " along the file.",
        "Missing that one of the 'epaulettes' can move away or interpose.",
    ),
    _theme(
        "operaMate",
        "Opera mate",
        "mate",
        "A rook mates the king on the back rank, protected by a bishop along the diagonal, while the"
        " king's own pieces block its escape; named after Morphy's famous game at the Paris opera.",
        "An enemy king on its home square with a blocked neighbour square, an open file in front of the"
        " rook, and a bishop that guards the mating square from a distance.",
        "Playing the rook check when the mating square is defended by the queen or another piece.",
    ),
    _theme(
        "pillsburysMate",
        "Pillsbury's mate",
        "mate",
        "A rook gives mate on the file next to a king in the corner (usually on the g-file against a king"
        " on h8), while a bishop on the long diagonal takes the escape square.",
        "A king on h8 (or g8) after the g-pawn has gone, a bishop on the long a1-h8 diagonal and a rook"
        " that can swing to the g-file.",
        "Forgetting that the king may escape to the square the bishop does not see.",
    ),
    _theme(
        "morphysMate",
        "Morphy's mate",
        "mate",
        "A bishop mates a king in the corner along the long diagonal, while a rook on the neighbouring"
        " file (usually the g-file) confines the king.",
        "A king on h8 with its h-pawn in front, a rook on the g-file, and a bishop that can check on the"
        " a1-h8 diagonal.",
        "Checking while the h-pawn has moved and the king can step to h7.",
    ),
    _theme(
        "swallowstailMate",
        "Swallow's tail mate",
        "mate",
        "A queen mates the king from the square directly in front of it, protected, while the king's two"
        " diagonal retreat squares behind it are blocked by its own pieces, giving the shape of a swallow's"
        " tail.",
        "A king that has stepped forward with its own pieces on the two squares diagonally behind it, and"
        " a supported queen check from directly in front.",
        "Checking with the queen unprotected, or overlooking the king's sideways escape squares.",
    ),
    _theme(
        "vukovicMate",
        "Vuković mate",
        "mate",
        "A rook mates the king on the edge from an adjacent square, protected by a third piece (often a"
        " pawn or the king), while a knight covers the king's remaining escape squares.",
        "A king on the edge, a rook that can check next to it with support, and a knight covering the"
        " squares in front.",
        "Placing the knight so that it guards the rook but leaves the king a square in front.",
    ),
    _theme(
        "killBoxMate",
        "Kill box mate",
        "mate",
        "A rook checks from next to the king, supported by a queen that also covers the king's escape"
        " squares; together they trap the king in a three-by-three box.",
        "A queen a knight's move or a diagonal step from the rook's mating square, both aimed at the"
        " king's box.",
        "Forgetting that the rook must be protected, or that the box has a hole on the far side.",
    ),
    _theme(
        "triangleMate",
        "Triangle mate",
        "mate",
        "A queen and a rook on the same rank or file, each one square from the enemy king, form a triangle"
        " with it and give mate; the queen is protected by the rook.",
        "Queen and rook lined up on a file or rank beside the king, the queen adjacent to it.",
        "Bringing the queen next to the king without the rook behind it on the same line.",
    ),
    _theme(
        "balestraMate",
        "Balestra mate",
        "mate",
        "A bishop delivers mate from a distance while the queen, a knight's move away from the king,"
        " covers all its escape squares.",
        "A king on the edge with a queen a knight's jump from it and a bishop able to check along a"
        " diagonal.",
        "Putting the queen adjacent to the king, where it can be captured, instead of at a knight's"
        " distance.",
    ),
    _theme(
        "blindSwineMate",
        "Blind swine mate",
        "mate",
        "Two rooks on the opponent's second rank (the 'pigs on the seventh') mate a king on its back rank,"
        " usually in the corner, one rook checking and the other covering the squares the king could use.",
        "Doubled rooks on the 7th rank against a king on g8/h8 whose pieces cannot cover h7 and g7.",
        "Giving checks with one rook at a time so the king escapes to the centre.",
    ),
]

_MOTIFS = [
    _theme(
        "fork",
        "Fork",
        "motif",
        "One piece attacks two or more enemy pieces (or a piece and a mating square) at the same time, so"
        " the opponent can save only one of them.",
        "Look for squares from which a knight, pawn or queen would hit two loose or more valuable pieces,"
        " especially with check.",
        "Forking pieces that are defended and worth less than the forking piece, or landing on a square"
        " where the forker is simply captured.",
    ),
    _theme(
        "pin",
        "Pin",
        "motif",
        "A piece cannot move off a line without exposing a more valuable piece behind it to capture:"
        " absolutely when that piece is the king (the move is illegal), relatively otherwise.",
        "An enemy piece on the same file, rank or diagonal as its king or queen, with your bishop, rook or"
        " queen able to attack along that line.",
        "Forgetting that a relatively pinned piece may still move if it gives check or wins more than it"
        " loses, and that the pinned piece can be defended or the pin broken by attacking the pinner.",
    ),
    _theme(
        "skewer",
        "Skewer",
        "motif",
        "A line piece attacks a valuable piece that must move out of the way, exposing a piece behind it"
        " on the same line to capture; a pin in reverse.",
        "A king or queen and another piece on one line with nothing between them, and a check or attack"
        " you can give along that line.",
        "Skewering when the front piece can step aside to defend the piece behind, or when the piece"
        " behind is protected.",
    ),
    _theme(
        "discoveredAttack",
        "Discovered attack",
        "motif",
        "A piece moves off a line and uncovers an attack by a bishop, rook or queen standing behind it;"
        " the moving piece can make a threat of its own, so two threats arrive at once.",
        "Your own piece standing between your line piece and an enemy target: ask where that piece can go"
        " with a second threat.",
        "Moving the front piece to a square where it is captured with check, or uncovering an attack on a"
        " defended piece.",
    ),
    _theme(
        "discoveredCheck",
        "Discovered check",
        "motif",
        "A piece moves off a line and uncovers a check by a bishop, rook or queen behind it; because the"
        " king must answer the check, the moving piece is free to capture or threaten anything.",
        "Your piece between your line piece and the enemy king: every square it can reach is a candidate,"
        " even ones where it could be captured.",
        "Choosing a quiet square for the moving piece instead of the one that wins most material.",
    ),
    _theme(
        "doubleCheck",
        "Double check",
        "motif",
        "Two pieces give check at once, usually by a discovered check where the moving piece also checks;"
        " neither check can be blocked or both checkers captured, so the king must move.",
        "A discovered-check setup where the front piece has a checking square of its own.",
        "Counting captures or blocks as defences: against a double check only a king move helps.",
    ),
    _theme(
        "xRayAttack",
        "X-ray attack",
        "motif",
        "A line piece attacks or defends a square through another piece: when the piece in between is"
        " exchanged or moves, the line piece behind it takes over.",
        "Two of your line pieces stacked on a line (or an enemy piece in between) aimed at the square of"
        " an exchange.",
        "Counting attackers and defenders of a square without the pieces that act through others.",
    ),
    _theme(
        "hangingPiece",
        "Hanging piece",
        "motif",
        "An enemy piece is undefended or not defended enough and can simply be captured for free.",
        "After every enemy move, ask what it left undefended and what your pieces attack.",
        "Taking a 'free' piece that is poisoned: its capture walks into a fork, pin or mate.",
    ),
    _theme(
        "trappedPiece",
        "Trapped piece",
        "motif",
        "A piece is attacked and cannot escape capture because every square it can move to is unsafe.",
        "A bishop or knight deep in enemy territory or a queen grabbing pawns, with its retreat squares"
        " covered by pawns.",
        "Attacking the piece when it can still retreat or trade itself off for something.",
    ),
    _theme(
        "sacrifice",
        "Sacrifice",
        "motif",
        "Material is given up on purpose to win more material, to mate, or to reach a better position by"
        " force a few moves later.",
        "Forcing moves that cost material but rip open the enemy king or deflect a key defender.",
        "Sacrificing without calculating the opponent's best defence to the end of the line.",
    ),
    _theme(
        "deflection",
        "Deflection",
        "motif",
        "A forcing move (a capture, check or threat) drives an enemy piece away from a job it was doing,"
        " such as guarding a square, a piece or the back rank.",
        "Find the enemy piece that does something vital, then find a move that forces it to leave.",
        "Deflecting a defender when a second defender takes over the same job.",
    ),
    _theme(
        "attraction",
        "Attraction",
        "motif",
        "A sacrifice or forcing move lures an enemy piece, often the king, onto a square where it falls to"
        " a fork, a pin, a skewer or mate.",
        "A square where an enemy piece would be exposed to a tactic, and a capture or check that forces it"
        " there.",
        "Luring the piece to the square but lacking the follow-up that exploits it.",
    ),
    _theme(
        "clearance",
        "Clearance",
        "motif",
        "A piece is moved out of the way, usually with tempo, to free a square, file or diagonal for"
        " another piece that then strikes.",
        "Your own piece sitting on the square or line another piece needs: move it with a threat.",
        "Clearing the line slowly, so the opponent has time to cover it.",
    ),
    _theme(
        "interference",
        "Interference",
        "motif",
        "A piece is placed between an enemy piece and the square or piece it defends, cutting the line of"
        " defence.",
        "Two enemy pieces defending each other, or a piece guarding from afar: is there a square on the"
        " line between them where your piece can land?",
        "Interposing on a square where the piece is captured by a third defender.",
    ),
    _theme(
        "intermezzo",
        "Intermezzo",
        "motif",
        "Instead of the expected move, most often a recapture, an in-between move with a threat the"
        " opponent must answer is played first, improving the position before the expected move follows.",
        "Before recapturing automatically, look for a check or a bigger threat.",
        "Playing an in-between move that lets the opponent's piece escape with gain of tempo.",
    ),
    _theme(
        "capturingDefender",
        "Capture the defender",
        "motif",
        "A piece that defends another piece or a key square is captured, so that what it defended falls"
        " next.",
        "Find a piece held by a single defender; count whether removing that defender wins back the"
        " material.",
        "Capturing the defender when the recapture also restores the defence.",
    ),
    _theme(
        "exposedKing",
        "Exposed king",
        "motif",
        "The king has lost its shelter of pawns and pieces, and the attacker exploits it, often with mate.",
        "A king with few pawns in front of it, open lines towards it, and more attackers than defenders"
        " nearby.",
        "Chasing the exposed king with checks that drive it to safety instead of building a mating net.",
    ),
    _theme(
        "attackingF2F7",
        "Attacking f2 or f7",
        "motif",
        "An attack aimed at the f2 or f7 pawn, the weakest square near the uncastled king because only the"
        " king defends it at the start of the game.",
        "A bishop on c4/c5 and a knight or queen that can also hit f7/f2 while the king is still in the"
        " centre.",
        "Striking at f7 when a knight on f6 or a castled king makes the attack collapse.",
    ),
    _theme(
        "kingsideAttack",
        "Kingside attack",
        "motif",
        "An attack against a king that has castled short.",
        "Pieces aimed at g7/h7 (g2/h2), pawn storms on the kingside, and few defenders near the king.",
        "Attacking with too few pieces, leaving the centre and the other wing undefended.",
    ),
    _theme(
        "queensideAttack",
        "Queenside attack",
        "motif",
        "An attack against a king that has castled long.",
        "Open or half-open b- and c-files, pieces aimed at a7/b7 (a2/b2), and pawn storms on the queenside.",
        "Forgetting that the queenside king has the a-pawn as its last guard and the b-pawn as a target.",
    ),
    _theme(
        "quietMove",
        "Quiet move",
        "motif",
        "A move that gives no check and captures nothing, and makes no immediate threat, yet sets up a"
        " winning threat the opponent cannot meet.",
        "When every forcing move fails, look for a calm move that takes away the defender's only resource.",
        "Only calculating checks and captures and missing the quiet move that wins.",
    ),
    _theme(
        "defensiveMove",
        "Defensive move",
        "motif",
        "A precise move or sequence is needed to avoid losing material or the advantage; the puzzle is to"
        " find the only defence.",
        "Start with the opponent's threat: what do they want to play next, and which move stops all of it?",
        "Parrying one threat while leaving another, or defending passively when a counter-attack was the"
        " only move.",
        needs_engine=True,
    ),
    _theme(
        "advancedPawn",
        "Advanced pawn",
        "motif",
        "One of the solver's pawns has advanced deep into the enemy camp (to its sixth or seventh rank)"
        " and its threat to promote is the key to the puzzle.",
        "A pawn two steps from promotion: what stops it, and can that blocker be removed?",
        "Pushing the pawn before the promotion square is controlled.",
    ),
    _theme(
        "zugzwang",
        "Zugzwang",
        "motif",
        "The opponent is in zugzwang: every move available makes their position worse, though they would"
        " be fine if they could pass.",
        "Few pieces, no useful waiting moves for the defender; ask what the opponent would play if it were"
        " their turn.",
        "Forcing the issue when a waiting move or a triangulation would put the opponent in zugzwang.",
        needs_engine=True,
    ),
]

_SPECIAL_MOVES = [
    _theme(
        "promotion",
        "Promotion",
        "move",
        "A pawn reaches the last rank and promotes, or the threat of promotion decides the puzzle.",
        "A pawn on its seventh rank: check whether the promotion square is safe or can be made safe.",
        "Promoting into a capture or a stalemate.",
    ),
    _theme(
        "underPromotion",
        "Underpromotion",
        "move",
        "A pawn promotes to a knight, bishop or rook instead of a queen, because the queen would stalemate"
        " or miss a check, a fork or a mate.",
        "A promotion where a knight would give check or fork, or a queen would leave the opponent"
        " stalemated.",
        "Queening automatically without checking for stalemate or a knight fork.",
    ),
    _theme(
        "enPassant",
        "En passant",
        "move",
        "The puzzle involves the en passant capture: a pawn that has just advanced two squares past an"
        " enemy pawn is captured as if it had moved one.",
        "An enemy pawn that has just made a double step next to one of your pawns on your fifth rank.",
        "Forgetting that the capture is only legal immediately, on the very next move.",
    ),
    _theme(
        "castling",
        "Castling",
        "move",
        "The solution involves castling: the king moves two squares towards a rook and the rook jumps to"
        " the other side of it, bringing the king to safety or the rook into play.",
        "Castling with check or to connect a rook to an open file in one move.",
        "Castling out of, through or into check, or after the king or that rook has moved.",
    ),
]

_LENGTHS = [
    _theme(
        "oneMove",
        "One-move puzzle",
        "length",
        "The puzzle is solved with a single move.",
        "Check every capture and check: one move is all you get.",
        "Playing the first good-looking move instead of the best one.",
    ),
    _theme(
        "short",
        "Short puzzle",
        "length",
        "The puzzle takes two moves of the solver to win.",
        "A forcing first move and a winning follow-up.",
        "Missing the opponent's best reply between the two moves.",
    ),
    _theme(
        "long",
        "Long puzzle",
        "length",
        "The puzzle takes three moves of the solver to win.",
        "Calculate forcing lines to the end; each reply is usually forced.",
        "Stopping the calculation one move too early.",
    ),
    _theme(
        "veryLong",
        "Very long puzzle",
        "length",
        "The puzzle takes four or more moves of the solver to win.",
        "Find the idea first (a mating net, a promotion), then the forcing order of moves.",
        "Losing track of the position deep in the line.",
    ),
]

_EVALUATIONS = [
    _theme(
        "advantage",
        "Advantage",
        "evaluation",
        "The solution wins a decisive advantage, worth roughly two to six pawns by the engine's evaluation.",
        "A tactic that wins a piece for a pawn or two, or the exchange and more.",
        "Settling for a small gain when a decisive one is there.",
        needs_engine=True,
    ),
    _theme(
        "crushing",
        "Crushing",
        "evaluation",
        "The solution punishes an opponent's blunder and wins a crushing advantage, more than six pawns by"
        " the engine's evaluation (short of a forced mate).",
        "The opponent's last move left something big hanging or walked into a tactic.",
        "Grabbing the first material on offer when a far bigger win is available.",
        needs_engine=True,
    ),
    _theme(
        "equality",
        "Equality",
        "evaluation",
        "The solver starts from a worse or losing position and the solution secures a draw or a balanced"
        " position.",
        "Perpetual check, stalemate tricks, fortress ideas or winning back material.",
        "Playing for a win the position no longer holds, or missing the drawing resource.",
        needs_engine=True,
    ),
]

_PHASES = [
    _theme(
        "opening",
        "Opening",
        "phase",
        "The puzzle arises in the first phase of the game, while development is still going on.",
        "Undeveloped pieces, kings in the centre, early queen sorties.",
        "Ignoring development to grab pawns.",
    ),
    _theme(
        "middlegame",
        "Middlegame",
        "phase",
        "The puzzle arises in the middle phase of the game, after development and before most pieces are"
        " traded.",
        "Many pieces on the board, castled kings, fights for files and squares.",
        "Trading into an endgame without judging it.",
    ),
    _theme(
        "endgame",
        "Endgame",
        "phase",
        "The puzzle arises in the final phase of the game, when few pieces are left and the kings become"
        " active.",
        "Few pieces, passed pawns, active kings.",
        "Keeping the king passive when it should march.",
    ),
]

_ENDGAMES = [
    _theme(
        "pawnEndgame",
        "Pawn endgame",
        "endgame",
        "An endgame with only kings and pawns.",
        "Count tempi, look for the opposition and outside passed pawns.",
        "Moving the king without counting the pawn races.",
    ),
    _theme(
        "rookEndgame",
        "Rook endgame",
        "endgame",
        "An endgame with only kings, rooks and pawns.",
        "Rooks belong behind passed pawns; cut off the enemy king.",
        "Passive rooks tied to defending a pawn.",
    ),
    _theme(
        "bishopEndgame",
        "Bishop endgame",
        "endgame",
        "An endgame with only kings, bishops and pawns.",
        "Note whether the bishops run on the same or opposite colours; fix enemy pawns on your bishop's"
        " colour.",
        "Putting your own pawns on the squares of your bishop's colour.",
    ),
    _theme(
        "knightEndgame",
        "Knight endgame",
        "endgame",
        "An endgame with only kings, knights and pawns.",
        "Knights are slow: passed pawns far away from them are strong.",
        "Letting a knight be dominated on the edge.",
    ),
    _theme(
        "queenEndgame",
        "Queen endgame",
        "endgame",
        "An endgame with only kings, queens and pawns.",
        "Perpetual checks and the safety of your own king decide most of them.",
        "Pushing a passed pawn while leaving your king open to perpetual check.",
    ),
    _theme(
        "queenRookEndgame",
        "Queen and rook endgame",
        "endgame",
        "An endgame with only kings, queens, rooks and pawns.",
        "Mating attacks with queen and rook together, back-rank weaknesses.",
        "Trading the wrong heavy piece.",
    ),
]

_TITLES = [
    _theme(
        "master",
        "Master game",
        "title",
        "The puzzle comes from a game in which at least one player holds a title (FM, IM, GM, ...).",
        "Set from the game's player data, not from the board.",
        "Reading anything about the position into this tag.",
        from_titles=True,
    ),
    _theme(
        "masterVsMaster",
        "Master vs master game",
        "title",
        "The puzzle comes from a game between two titled players.",
        "Set from the game's player data, not from the board.",
        "Reading anything about the position into this tag.",
        from_titles=True,
    ),
    _theme(
        "superGM",
        "Super GM game",
        "title",
        "The puzzle comes from a game played by one of the world's strongest players.",
        "Set from the game's player data, not from the board.",
        "Reading anything about the position into this tag.",
        from_titles=True,
    ),
]

_POSITIONAL = [
    _positional(
        "isolatedPawn",
        "Isolated pawn",
        "pawns",
        "A pawn with no friendly pawn on either neighbouring file. No pawn can ever protect it, so it must"
        " be guarded by pieces, and the square in front of it is a natural home for an enemy piece.",
        "Look at the files next to the pawn: if neither holds a pawn of the same colour, it is isolated.",
        "Treating every isolated pawn as a weakness: an isolated d-pawn also gives space and open lines"
        " for attack in the middlegame.",
    ),
    _positional(
        "doubledPawns",
        "Doubled pawns",
        "pawns",
        "Two or more pawns of the same colour on the same file. The front one blocks the one behind, and"
        " they cannot protect each other.",
        "Count the pawns of each colour on every file; two or more on one file are doubled.",
        "Avoiding doubled pawns at any cost: they often come with a half-open file and control of key"
        " squares.",
    ),
    _positional(
        "backwardPawn",
        "Backward pawn",
        "pawns",
        "A pawn whose friendly pawns on the neighbouring files have all advanced beyond it, so none can"
        " support its advance, and whose next square (its stop square) is controlled by an enemy pawn: it"
        " cannot advance safely and stays behind as a target on a half-open file.",
        "A pawn left behind its neighbours, with an enemy pawn guarding the square in front of it.",
        "Calling a pawn backward when a neighbouring pawn can still come level with it, or when it can"
        " advance with support.",
    ),
    _positional(
        "passedPawn",
        "Passed pawn",
        "pawns",
        "A pawn with no enemy pawn in front of it on its own file or on either neighbouring file, so no"
        " pawn can stop or capture it on its way to promotion; only pieces can.",
        "Look ahead of the pawn on three files: no enemy pawn means it is passed.",
        "Forgetting to blockade an enemy passed pawn, or pushing your own without the support of pieces.",
    ),
    _positional(
        "pawnIslands",
        "Pawn islands",
        "pawns",
        "A group of pawns of one colour on neighbouring files, separated from the side's other pawns by at"
        " least one file without a pawn of that colour. Fewer islands usually means a healthier pawn"
        " structure.",
        "Scan the files from a to h and count the groups of files holding your pawns.",
        "Counting pawns instead of groups: three pawns on a, b and c form one island.",
    ),
    _positional(
        "openFile",
        "Open file",
        "files",
        "A file with no pawns of either colour on it. Rooks and queens on an open file can reach deep into"
        " the enemy camp.",
        "A file where every pawn has been exchanged; the first side to put a rook on it usually controls it.",
        "Putting a rook on an open file whose entry squares are all covered by the opponent.",
    ),
    _positional(
        "halfOpenFile",
        "Half-open file",
        "files",
        "A file with no pawn of one side but at least one pawn of the other. For the side without a pawn"
        " there, it is a line of attack for rooks and queens against the enemy pawn on it.",
        "A file without your own pawn but with an enemy pawn: put a rook there and press on that pawn.",
        "Forgetting that the enemy pawn on the file can advance or be exchanged.",
    ),
    _positional(
        "outpost",
        "Outpost",
        "squares",
        "A square in the opponent's half of the board (the fourth to sixth rank from your side) that no"
        " enemy pawn can ever attack and that one of your pawns protects. A knight or bishop placed there"
        " cannot be driven away by pawns.",
        "Look for squares in front of an enemy pawn chain where the neighbouring enemy pawns have advanced"
        " or gone, and that your pawn covers.",
        "Calling a square an outpost when an enemy pawn can still advance to attack it, or when no piece"
        " of yours can get there.",
    ),
    _positional(
        "bishopPair",
        "Bishop pair",
        "pieces",
        "Having both bishops, one on light and one on dark squares, while the opponent has lost one of"
        " theirs. Together the two bishops cover every square and grow stronger as the board opens.",
        "Count bishops and their square colours on both sides.",
        "Keeping the bishops in a closed position where knights are better, or trading one away for nothing.",
    ),
    _positional(
        "kingSafety",
        "King safety",
        "king",
        "How well the king is protected: the pawns standing just in front of it (its pawn shield) and the"
        " enemy pieces attacking the squares around it. Missing shield pawns and many attackers mean"
        " danger.",
        "Count the pawns in front of each king and the enemy pieces that hit its neighbouring squares.",
        "Advancing the pawns in front of your own castled king without need.",
    ),
    _positional(
        "pieceActivity",
        "Piece activity",
        "pieces",
        "How many useful moves the pieces have: for each knight, bishop, rook and queen, the moves to"
        " squares not occupied by its own pieces and not attacked by an enemy pawn. Active pieces control"
        " the game; passive ones wait.",
        "Count the safe moves of each piece; the one with the fewest is the piece to improve.",
        "Counting moves onto squares where a pawn simply captures the piece.",
    ),
    _positional(
        "space",
        "Space",
        "squares",
        "How much room a side has behind its pawns to manoeuvre: the squares on the central files (c to f)"
        " of its second to fourth ranks that hold no pawn of its own and are not attacked by an enemy pawn,"
        " with the squares behind its own pawns that no enemy piece attacks counted twice.",
        "Advanced central pawns that are not challenged give space; compare both sides' counts.",
        "Gaining space with pawns that cannot be supported and become targets.",
    ),
    _positional(
        "weakSquares",
        "Weak squares",
        "squares",
        "A square in a side's own half (its third or fourth rank), in the centre or in front of its king,"
        " that no pawn of that side can ever protect again, because the pawns on the neighbouring files"
        " have advanced past it or are gone. Enemy pieces can settle there safely.",
        "Look at the squares in front of your pawns: if no pawn on a neighbouring file stands behind them,"
        " they are holes.",
        "Pushing pawns in front of your king or in the centre without asking which squares they leave"
        " behind.",
    ),
    _positional(
        "overloadedDefender",
        "Overloaded defender",
        "pieces",
        "A piece that is the only defender of two or more attacked pieces. It cannot do both jobs: if it"
        " recaptures on one square, the other piece falls.",
        "For each attacked piece, count its defenders; a defender that appears alone in two lists is"
        " overloaded.",
        "Missing that a second defender or a counter-threat lightens the load.",
    ),
]


def _build_registry(groups: list[list[Concept]]) -> dict[str, Concept]:
    registry: dict[str, Concept] = {}
    for group in groups:
        for concept in group:
            if concept.id in registry:
                raise ValueError(f"duplicate concept id {concept.id!r}")
            registry[concept.id] = concept
    return registry


CONCEPTS: dict[str, Concept] = _build_registry(
    [_MATES, _MOTIFS, _SPECIAL_MOVES, _LENGTHS, _EVALUATIONS, _PHASES, _ENDGAMES, _TITLES, _POSITIONAL]
)
"""Every concept, by id, in catalog order (themes first, then positional concepts)."""

LICHESS_THEMES: tuple[str, ...] = tuple(c.id for c in CONCEPTS.values() if c.family == THEME)
"""The Lichess puzzle themes the catalog knows, spelled as Lichess spells them."""


def close_matches(id: str, *, limit: int = 5) -> list[str]:
    """Catalog ids that look like ``id`` (case-insensitive), closest first."""
    lowered = {key.lower(): key for key in CONCEPTS}
    exact = [lowered[id.lower()]] if id.lower() in lowered else []
    fuzzy = difflib.get_close_matches(id.lower(), list(lowered), n=limit, cutoff=0.6)
    found = exact + [lowered[key] for key in fuzzy if lowered[key] not in exact]
    if not found:
        found = [key for key in CONCEPTS if id.lower() in key.lower()]
    return found[:limit]


def get_concept(id: str) -> Concept:
    """The concept with this id; raises :class:`UnknownConceptError` (a ``KeyError`` and ``ValueError``)
    naming close matches when there is none.

    >>> get_concept("fork").family
    'theme'
    >>> get_concept("forks")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ...
    chessteach.concepts.catalog.UnknownConceptError: unknown concept 'forks'; did you mean: fork?
    """
    try:
        return CONCEPTS[id]
    except KeyError:
        pass
    suggestions = tuple(close_matches(id))
    hint = (
        f"did you mean: {', '.join(suggestions)}?"
        if suggestions
        else f"known concepts: {', '.join(CONCEPTS)}"
    )
    raise UnknownConceptError(f"unknown concept {id!r}; {hint}", id=id, suggestions=suggestions) from None


def concepts(family: str | None = None, *, subfamily: str | None = None) -> list[Concept]:
    """The concepts of a family (``"theme"`` or ``"positional"``) and subfamily, or all, in catalog order.

    >>> [c.id for c in concepts("positional")][:3]
    ['isolatedPawn', 'doubledPawns', 'backwardPawn']
    """
    if family is not None and family not in FAMILIES:
        raise UnknownConceptError(
            f"unknown concept family {family!r}; families: {', '.join(FAMILIES)}", id=family
        )
    selected = [c for c in CONCEPTS.values() if family is None or c.family == family]
    if subfamily is not None:
        known = sorted({c.subfamily for c in selected})
        if subfamily not in known:
            raise UnknownConceptError(
                f"unknown subfamily {subfamily!r}; subfamilies: {', '.join(known)}", id=subfamily
            )
        selected = [c for c in selected if c.subfamily == subfamily]
    return selected


__all__ = [
    "CONCEPTS",
    "FAMILIES",
    "LICHESS_THEMES",
    "POSITIONAL",
    "THEME",
    "Concept",
    "UnknownConceptError",
    "close_matches",
    "concepts",
    "get_concept",
]
