"""Examples of a concept: picking them from real games, their checked facts, and each one in words.

:func:`pick_example` chooses the one puzzle that best illustrates a concept; :func:`pick_examples` several,
from different games where it can (a positional concept's from positional exercises, which a caller passes in:
the bundled ``puzzles/positional-exercises.csv``; a tactical theme's from puzzles of that theme).
:func:`gather_example` collects what an explanation may say about one of them, every fact checked on its board:
the concept's facts along the line (:func:`example_facts`, the registry's), for an exercise the facts its best
move brings (:func:`brought_facts`, recomputed as ``exercises/mine.py`` does, never read from the CSV),
its source (the players and event from the bundled PGN's headers, or a Lichess puzzle's game address), and for
an exercise the engine's line from its best move on (:func:`engine_line`, from a search the caller ran).
:func:`worked_example` writes one example in words; :func:`shared_sentences` the sentences about what the
examples have in common ("in 2 of 3 examples a knight ..."), each one derived from those checked facts.

>>> from chessteach.puzzles import Puzzle
>>> mate = Puzzle.from_solution("6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1", ["a1a8"], id="m1")
>>> example = gather_example("backRankMate", mate)
>>> [f.kind for f in example.facts], example.source
(['checkmate', 'mate_pattern'], None)
>>> shared_sentences([example])["How to spot it"][0]
'In the example the key move is a rook move (Ra8#).'
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import chess
import chess.pgn

from chessteach.concepts.catalog import POSITIONAL, Concept, get_concept
from chessteach.concepts.changes import positional_changes
from chessteach.concepts.facts import Fact, check_fact
from chessteach.concepts.notation import board_move_number, legal_sans, numbered_line
from chessteach.concepts.registry import detector, verified_positional_facts
from chessteach.concepts.tactics import describe
from chessteach.data import bundled
from chessteach.engine.analysis import Analysis
from chessteach.errors import ChessteachError
from chessteach.exercises.show import distractor_moves
from chessteach.filenames import file_in
from chessteach.puzzles.puzzle import Puzzle
from chessteach.puzzles.tag import puzzle_line, tag_puzzle
from chessteach.teaching.prompts import is_exercise
from chessteach.teaching.sections import COMMON_MISTAKES, HOW_TO_SPOT, WHAT_IT_IS

logger = logging.getLogger(__name__)

DEFAULT_EXAMPLES = 3
"""How many examples an explanation shows unless told otherwise."""

ENGINE_LINE_PLIES = 6
"""How many plies of the engine's principal variation an exercise example shows, its best move first."""

RELATION_ACTORS = {"fork": "forking piece", "pin": "pinning piece", "skewer": "skewering piece"}
"""Fact kinds whose first piece acts on the others (``pieces[0]`` forks, pins or skewers ``pieces[1:]``)."""

KIND_WORDS = {
    "checkmate": "checkmate",
    "mate_pattern": "a named mate pattern",
    "fork": "a fork",
    "pin": "a pin",
    "skewer": "a skewer",
    "double_check": "a double check",
    "discovered_check": "a discovered check",
    "hanging_piece": "a hanging piece",
    "trapped_piece": "a trapped piece",
    "f2_f7_attack": "an attack on f2 or f7",
    "isolated_pawn": "an isolated pawn",
    "doubled_pawns": "doubled pawns",
    "backward_pawn": "a backward pawn",
    "passed_pawn": "a passed pawn",
    "passed_pawn_support": "support for a passed pawn",
    "pawn_target": "pieces attacking a weak pawn",
    "blockade": "a blockade of a weak pawn",
    "pawn_islands": "pawn islands",
    "open_file": "an open file",
    "half_open_file": "a half-open file",
    "outpost": "an outpost",
    "bishop_pair": "the bishop pair",
    "pawn_shield": "a king's pawn shield",
    "king_attackers": "pieces aimed at the king's zone",
    "mobility": "active pieces",
    "space": "a space advantage",
    "weak_square": "a weak square",
    "overloaded_defender": "an overloaded defender",
}
"""Each fact kind in a few words, for sentences that count them across examples."""


class NoExampleError(ChessteachError, LookupError):
    """No puzzle of a collection illustrates a concept (the message names the concept)."""


# ------------------------------------------------------------------ picking


@lru_cache(maxsize=16384)
def _computed_themes(fen: str, moves: tuple[str, ...], setup: bool) -> frozenset[str]:
    """The computed themes of a puzzle, remembered by its position and line (examples are picked often)."""
    puzzle = Puzzle(id="", fen=fen, moves=[chess.Move.from_uci(m) for m in moves], setup=setup)
    return frozenset(tag_puzzle(puzzle))


def _shows(puzzle: Puzzle, concept: Concept) -> tuple[bool, bool]:
    """(listed, computed): whether the puzzle's own themes list the concept, and whether the board shows it
    (the computed themes, or for a positional concept its detector on the solver's position)."""
    listed = concept.id in puzzle.themes
    try:
        if concept.family == POSITIONAL:
            computed = bool(verified_positional_facts(puzzle.position(), [concept.id]))
        else:
            computed = concept.id in _computed_themes(puzzle.fen, tuple(m.uci() for m in puzzle.moves), puzzle.setup)
    except (ValueError, AssertionError, IndexError) as exc:
        logger.warning("cannot tag puzzle %s: %s", puzzle.id, exc)
        computed = False
    return listed, computed


def _candidates(
    concept: Concept, puzzles: Iterable[Puzzle]
) -> tuple[list[tuple[tuple[int, int, int, str], Puzzle]], int]:
    """The puzzles that show the concept, with pick_example's ranking key, and how many puzzles were seen."""
    ranked: list[tuple[tuple[int, int, int, str], Puzzle]] = []
    count = 0
    for puzzle in puzzles:
        count += 1
        listed, computed = _shows(puzzle, concept)
        if listed or computed:
            key = (0 if listed and computed else 1, len(puzzle.moves), puzzle.rating or 0, puzzle.id)
            ranked.append((key, puzzle))
    ranked.sort(key=lambda item: item[0])
    return ranked, count


def _no_example(concept: Concept, count: int) -> NoExampleError:
    return NoExampleError(
        f"no example of concept {concept.id!r} ({concept.name}) among {count} puzzles: none lists it in its"
        " themes or shows it on the board"
    )


def pick_example(concept_id: str, puzzles: Iterable[Puzzle]) -> Puzzle:
    """The puzzle that best illustrates a concept, deterministically.

    Candidates are the puzzles whose own themes list the concept or whose computed themes
    (:func:`~chessteach.puzzles.tag.tag_puzzle`, or the positional detector on the solver's position)
    include it. Preferred: both agree, then the shortest solution, then the lowest rating, then the id.
    Raises :class:`~chessteach.concepts.catalog.UnknownConceptError` for an unknown id and
    :class:`NoExampleError` when no puzzle shows the concept.

    >>> from chessteach.puzzles import Puzzle
    >>> mate = Puzzle.from_solution("6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1", ["a1a8"], id="m1")
    >>> pick_example("backRankMate", [mate]).id
    'm1'
    """
    concept = get_concept(concept_id)
    ranked, count = _candidates(concept, puzzles)
    if not ranked:
        raise _no_example(concept, count)
    best = ranked[0][1]
    logger.debug("example of %s: puzzle %s (%d candidates)", concept.id, best.id, len(ranked))
    return best


def _game_of(puzzle: Puzzle) -> str:
    """The game a puzzle comes from (its source file and game number, or its game's address), else its id."""
    if puzzle.extra.get("SourceFile"):
        return f"{puzzle.extra['SourceFile']}#{puzzle.extra.get('SourceGame', '')}"
    url = puzzle.extra.get("GameUrl", "")
    return url.split("#")[0].removesuffix("/black").removesuffix("/white") or puzzle.id


def pick_examples(concept_id: str, puzzles: Iterable[Puzzle], n: int = DEFAULT_EXAMPLES) -> list[Puzzle]:
    """Up to ``n`` puzzles that illustrate a concept, best first, from different games where there are enough
    (and first with different pieces making the key move: a knight's outpost beside a bishop's).

    The candidates are :func:`pick_example`'s; for a positional concept, exercises whose best move brings a
    fact of the concept (:func:`brought_facts`) come first (those where the moved piece lands on the fact's
    square, then those whose fact names it), then those that list the concept earlier among their themes,
    then fuller boards (a middlegame teaches more than a bare endgame). Raises as :func:`pick_example` does.

    >>> from chessteach.puzzles import Puzzle
    >>> one = Puzzle.from_solution("6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1", ["a1a8"], id="m1")
    >>> two = Puzzle.from_solution("6k1/5ppp/8/8/8/8/5PPP/1R4K1 w - - 0 1", ["b1b8"], id="m2")
    >>> [p.id for p in pick_examples("backRankMate", [two, one], 3)]
    ['m1', 'm2']
    """
    if n < 1:
        raise ValueError(f"need at least one example, not {n}")
    concept = get_concept(concept_id)
    ranked, count = _candidates(concept, puzzles)
    if not ranked:
        raise _no_example(concept, count)
    order = [puzzle for _, puzzle in ranked]
    if concept.family == POSITIONAL:
        order.sort(key=lambda p: (_brings_rank(p, concept.id), _theme_rank(p, concept.id), -_pieces(p)))
    chosen: list[Puzzle] = []
    for distinct in (True, False):  # one example per game, with different moving pieces first
        for puzzle in order:
            new_game = _game_of(puzzle) not in {_game_of(p) for p in chosen}
            new_mover = not distinct or _mover(puzzle) not in {_mover(p) for p in chosen}
            if len(chosen) < n and puzzle not in chosen and new_game and new_mover:
                chosen.append(puzzle)
    chosen += [p for p in order if p not in chosen][: n - len(chosen)]
    logger.debug("examples of %s: %s (%d candidates)", concept.id, " ".join(p.id for p in chosen), len(ranked))
    return chosen


def _brings_rank(puzzle: Puzzle, concept_id: str) -> int:
    """How well an exercise shows the concept: 0 when its best move lands on the square a fact it brings is
    about (the knight goes to the outpost), 1 when a fact it brings names the moved piece, 2 when the facts it
    brings are about other pieces, 3 when it brings none."""
    brought = brought_facts(puzzle, concept_id)
    to = puzzle.moves[0].to_square
    if any(f.square == to for f in brought):
        return 0
    if any(to in f.squares for f in brought):
        return 1
    return 2 if brought else 3


def _mover(puzzle: Puzzle) -> chess.PieceType | None:
    """The type of the piece that makes the solver's first move."""
    return puzzle.position().piece_type_at(puzzle.solver_moves[0].from_square)


def _theme_rank(puzzle: Puzzle, concept_id: str) -> int:
    """Where the concept stands among the puzzle's own themes (0: the first, the move's main point)."""
    return puzzle.themes.index(concept_id) if concept_id in puzzle.themes else len(puzzle.themes)


def _pieces(puzzle: Puzzle) -> int:
    """How many pieces stand on the solver's board (a fuller board, a middlegame, teaches more than a bare
    endgame)."""
    return len(chess.Board(puzzle.fen).piece_map())


# ------------------------------------------------------------------ facts


def example_facts(puzzle: Puzzle, concept_id: str) -> list[Fact]:
    """The facts of the concept's detectors along the puzzle's solution line, each checked with
    :func:`~chessteach.concepts.facts.check_fact` on the board it describes (its ``position``).

    Line motifs (fork, pin, skewer, double and discovered check, trapped and hanging pieces, f2/f7) come
    from :mod:`chessteach.concepts.motifs` on the board where they occur; mates give the checkmate and its
    named pattern on the final board; positional concepts their detector on the solver's position, then the
    facts the solver's first move brings about (those after it that did not hold before). Concepts
    that are yes/no statements about the sequence (sacrifice, deflection, ...) or about the game (length,
    phase, evaluation) have no board facts: the list is empty. A fact its checker rejects is logged and left
    out.

    >>> from chessteach.puzzles import Puzzle
    >>> puzzle = Puzzle.from_solution("6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1", ["a1a8"])
    >>> [f.kind for f in example_facts(puzzle, "mateIn1")]
    ['checkmate', 'mate_pattern']
    """
    concept = get_concept(concept_id)
    facts = []
    for fact in detector(concept.id).line_facts(puzzle_line(puzzle)):
        fen = fact.position
        if fen is None or not check_fact(chess.Board(fen), fact):
            logger.warning("dropping a %s fact of puzzle %s its checker rejects: %s", fact.kind, puzzle.id, fact.text)
            continue
        facts.append(fact)
    return facts


@lru_cache(maxsize=4096)
def _brought(fen: str, uci: str, concept_id: str) -> tuple[Fact, ...]:
    board = chess.Board(fen)
    move = chess.Move.from_uci(uci)
    after = board.copy(stack=False)
    after.push(move)
    return tuple(
        change.fact.at(after)
        for change in positional_changes(board, move)
        if change.gained and change.concept == concept_id and check_fact(after, change.fact)
    )


def brought_facts(puzzle: Puzzle, concept_id: str) -> list[Fact]:
    """For a positional exercise, the facts of the concept that its best move brings in the mover's favour
    (:func:`~chessteach.concepts.changes.positional_changes`, as ``exercises/mine.py`` records them in the
    ``Facts`` column), recomputed and checked on the board after the move; ``[]`` for any other puzzle. A fact
    the CSV does not list is logged: the CSV's text is never used.

    >>> from chessteach.puzzles import Puzzle
    >>> p = Puzzle.from_solution("3r1rk1/1p4q1/p1ppb3/4p3/4P1p1/1P2Q3/P1PN2PP/R4RK1 w - - 0 24", ["a1d1"])
    >>> p.extra["Distractors"] = ""
    >>> [f.kind for f in brought_facts(p, "halfOpenFile")]
    ['half_open_file']
    """
    if not is_exercise(puzzle) or puzzle.setup or not puzzle.moves:
        return []
    try:
        facts = list(_brought(puzzle.fen, puzzle.moves[0].uci(), concept_id))
    except ValueError as exc:  # an illegal best move: the puzzle reader lets none through, so log and go on
        logger.warning("exercise %s: %s", puzzle.id, exc)
        return []
    recorded = set(puzzle.extra.get("Facts", "").split(" | "))
    for fact in facts:
        if puzzle.extra.get("Facts") and fact.text not in recorded:
            logger.info("exercise %s: its Facts column lacks a recomputed fact: %s", puzzle.id, fact.text)
    return facts


# ------------------------------------------------------------------ sources


@lru_cache(maxsize=256)
def _headers(path: str, number: int) -> dict[str, str] | None:
    """The headers of game ``number`` (1-based) of a PGN file, reading headers only."""
    with open(path, encoding="utf-8", errors="replace") as handle:
        for _ in range(number - 1):
            if chess.pgn.read_headers(handle) is None:
                return None
        headers = chess.pgn.read_headers(handle)
    return dict(headers) if headers is not None else None


def _known(value: str | None) -> str | None:
    return value if value and "?" not in value else None


def example_source(puzzle: Puzzle, games: Path | None = None) -> str | None:
    """Where an example comes from, in words: for an exercise the game's players, event, place, year and round
    from the headers of its ``SourceFile`` (looked up in ``games``, the bundled ``chessteach/data/games`` by
    default, by file name only), with its game number and ply; for a Lichess puzzle its ``GameUrl``; ``None``
    when neither is known.

    >>> from chessteach.puzzles import Puzzle
    >>> p = Puzzle.from_solution("8/8/8/8/8/8/8/K6k w - - 0 1", ["a1a2"])
    >>> p.extra.update({"SourceFile": "candidates-zurich-1953.pgn", "SourceGame": "1", "SourcePly": "40"})
    >>> example_source(p)
    'Szabo L - Geller E, ct, Zurich 1953, round 01 (game 1 of candidates-zurich-1953.pgn, ply 40)'
    """
    name = puzzle.extra.get("SourceFile", "")
    if name:
        where = f"game {puzzle.extra.get('SourceGame', '?')} of {name}, ply {puzzle.extra.get('SourcePly', '?')}"
        directory = games or bundled("games")
        try:
            path = file_in(directory, name)
            number = int(puzzle.extra.get("SourceGame", ""))
        except ValueError:
            logger.warning("exercise %s: cannot resolve its source %r", puzzle.id, where)
            return where
        headers = _headers(str(path), number) if path.name == name and path.is_file() and number > 0 else None
        if headers is None:
            logger.warning("exercise %s: no game %d in %s", puzzle.id, number, path)
            return where
        players = f"{headers.get('White', '?')} - {headers.get('Black', '?')}"
        event = ", ".join(
            part
            for part in (
                _known(headers.get("Event")),
                " ".join(p for p in (_known(headers.get("Site")), _known(headers.get("Date", "")[:4])) if p),
                f"round {headers['Round']}" if _known(headers.get("Round")) else None,
            )
            if part
        )
        return f"{players}, {event} ({where})" if event else f"{players} ({where})"
    url = puzzle.extra.get("GameUrl", "")
    return f"the Lichess game {url}" if url.startswith(("https://", "http://")) else None


# ------------------------------------------------------------------ one example


@dataclass(frozen=True)
class Example:
    """One example of a concept with everything an explanation may say about it: ``facts`` the concept's
    checked facts along its line (:func:`example_facts`), ``brought`` those its best move brings when it is
    an exercise (:func:`brought_facts`), ``source`` (:func:`example_source`), and for an exercise the engine's
    ``analysis`` of its position, when the caller searched it (:func:`engine_line`)."""

    concept: str
    puzzle: Puzzle
    facts: tuple[Fact, ...]
    brought: tuple[Fact, ...] = ()
    source: str | None = None
    analysis: Analysis | None = None

    @property
    def engine_line(self) -> tuple[chess.Move, ...]:
        """The engine's line from the exercise's best move on (:func:`engine_line`); ``()`` without one."""
        return engine_line(self.puzzle, self.analysis)

    @property
    def key_facts(self) -> tuple[Fact, ...]:
        """The facts that make it an example: what the best move brings, for an exercise that has them; else
        the facts along the line."""
        return self.brought or self.facts

    @property
    def first_move(self) -> tuple[chess.Board, chess.Move]:
        """The solver's position and the solver's first move."""
        return self.puzzle.position(), self.puzzle.solver_moves[0]


def gather_example(
    concept_id: str, puzzle: Puzzle, facts: Sequence[Fact] | None = None, *, analysis: Analysis | None = None
) -> Example:
    """An :class:`Example` of the concept (``facts`` default to :func:`example_facts`; ``analysis``, the
    engine's search of an exercise's position, gives its engine line)."""
    concept = get_concept(concept_id)
    facts = example_facts(puzzle, concept.id) if facts is None else facts
    brought = tuple(brought_facts(puzzle, concept.id))
    return Example(concept.id, puzzle, tuple(facts), brought, example_source(puzzle), analysis)


# ------------------------------------------------------------------ the engine's line


def wants_engine_line(puzzle: Puzzle) -> bool:
    """Whether an example shows the engine's line: a positional exercise does (it stores only its best move);
    a puzzle's solution line is already the engine's."""
    return is_exercise(puzzle) and not puzzle.setup


def _searched(puzzle: Puzzle, analysis: Analysis | None) -> bool:
    """Whether ``analysis`` is of the exercise's position (a search of another position is logged, not used)."""
    if analysis is None or not wants_engine_line(puzzle):
        return False
    if analysis.fen.split()[:4] != puzzle.position().fen().split()[:4]:
        logger.warning("exercise %s: an analysis of another position (%s) is not used", puzzle.id, analysis.fen)
        return False
    return True


def engine_line(puzzle: Puzzle, analysis: Analysis | None, plies: int = ENGINE_LINE_PLIES) -> tuple[chess.Move, ...]:
    """The engine's principal variation of an exercise's position, from its best move on: up to ``plies``
    moves, each legal in turn (a cached line is read back move by move), when its first move is the exercise's
    best move; ``()`` when it is another move (:func:`engine_prefers_another`), or without an analysis.

    >>> from chessteach.engine import Analysis, EngineLine
    >>> import chess.engine
    >>> p = Puzzle.from_solution("6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1", ["a1a8"], id="x")
    >>> p.extra["Distractors"] = ""
    >>> pv = [chess.Move.from_uci(m) for m in ("a1a8", "e2e4")]
    >>> line = EngineLine(chess.engine.PovScore(chess.engine.Mate(1), chess.WHITE), pv)
    >>> [m.uci() for m in engine_line(p, Analysis(p.fen, [line], 1, 1, "sf"))]
    ['a1a8']
    """
    if not _searched(puzzle, analysis) or engine_prefers_another(puzzle, analysis):
        return ()
    assert analysis is not None
    sans = legal_sans(puzzle.position(), analysis.best.pv[:plies])
    return tuple(analysis.best.pv[: len(sans)])


def engine_sentences(example: Example) -> list[str]:
    """What the engine's search says of an exercise example, in words: its line from the best move on, or that
    it now prefers another move (and so no line is shown); ``[]`` without a search."""
    board, best = example.first_move
    if example.engine_line:
        return [f"The engine's line: {numbered_line(board, example.engine_line)}."]
    if engine_prefers_another(example.puzzle, example.analysis):
        return [
            f"The engine, searching this position again, now prefers another move to {board_move_number(board)}"
            f" {board.san(best)}, so no engine line is shown."
        ]
    return []


def engine_prefers_another(puzzle: Puzzle, analysis: Analysis | None) -> bool:
    """Whether the engine's search of an exercise's position (``analysis``) plays another move first than the
    exercise's best move (the exercise was mined at other settings; its line is then not shown)."""
    if not _searched(puzzle, analysis):
        return False
    assert analysis is not None
    return analysis.best_move != puzzle.moves[0]


# ------------------------------------------------------------------ one example in words


def side(color: chess.Color) -> str:
    """``White`` or ``Black``."""
    return "White" if color == chess.WHITE else "Black"


def narrate(board: chess.Board, move: chess.Move) -> str:
    """One move in words that the fact-checker can verify: ``24... Qxc1#: the black queen on b1 takes the white
    knight on c1.``"""
    san = board.san(move)
    piece = board.piece_at(move.from_square)
    assert piece is not None
    mover = describe(piece, move.from_square)
    target = chess.square_name(move.to_square)
    if board.is_castling(move):
        action = f"{mover} castles {'kingside' if board.is_kingside_castling(move) else 'queenside'}"
    elif board.is_en_passant(move):
        action = f"{mover} captures en passant"
    elif board.is_capture(move):
        action = f"{mover} takes {describe(board.piece_at(move.to_square), move.to_square)}"  # type: ignore[arg-type]
    else:
        action = f"{mover} moves to {target}"
    if move.promotion:
        action += f" and promotes to a {chess.piece_name(move.promotion)}"
    if san.endswith("#"):
        action += ", giving checkmate"
    elif san.endswith("+"):
        action += ", giving check"
    return f"{board_move_number(board)} {san}: {action}."


def fact_sentences(puzzle: Puzzle, facts: Sequence[Fact]) -> list[str]:
    """Each fact, introduced by the move after which it holds."""
    line = puzzle_line(puzzle)
    after: dict[str, str] = {}
    for ply in range(line.plies):
        after.setdefault(
            line.after(ply).fen(),
            f"After {board_move_number(line.before(ply))} {line.before(ply).san(line.moves[ply])}",
        )
    start_fen = line.start.fen()
    sentences = []
    for fact in facts:
        fen = fact.position or ""
        intro = "In the puzzle position" if fen == start_fen else after.get(fen, "In the line")
        sentences.append(f"{intro}, {_lower_first(fact.text)}")
    return sentences


def _lower_first(text: str) -> str:
    """The text with its first letter in lower case, to follow a comma; a side's name stays capitalised."""
    if re.match(r"(?:White|Black)\b", text):
        return text
    return text[:1].lower() + text[1:]


def _article(name: str) -> str:
    return "an" if name[:1].lower() in "aeiou" else "a"


def legal_distractors(puzzle: Puzzle) -> list[chess.Move]:
    """An exercise's distractors that are legal in its position (a bad one is logged and left out: the exam
    reports it, an explanation does without it)."""
    board = puzzle.position()
    try:
        moves = distractor_moves(puzzle)
    except ValueError as exc:
        logger.warning("exercise %s: bad Distractors: %s", puzzle.id, exc)
        return []
    illegal = [m.uci() for m in moves if m not in board.legal_moves]
    if illegal:
        logger.warning("exercise %s: illegal distractor(s) left out: %s", puzzle.id, " ".join(illegal))
    return [m for m in moves if m in board.legal_moves]


def _exercise_paragraph(example: Example) -> str:
    """The best move of an exercise, what it brings, and why the distractors are worse (the recorded margin)."""
    board, best = example.first_move
    concept = get_concept(example.concept)
    parts = [f"The best move is {board_move_number(board)} {board.san(best)}.", *engine_sentences(example)]
    if example.brought:
        parts.append(
            f"What it brings for {concept.name.lower()}: " + " ".join(fact_sentences(example.puzzle, example.brought))
        )
    wrong = legal_distractors(example.puzzle)
    margin = example.puzzle.extra.get("Margin")
    if wrong:
        names = _and([board.san(m) for m in wrong])
        worse = (
            f" are each worse by at least {margin} in winning chances (on a scale from -1 to 1): the engine's margin"
            " between the best and the second-best move"
            if margin
            else " are worse in the engine's search"
        )
        parts.append(f"The tempting alternatives {names}{worse}.")
        also = [board.san(m) for m in wrong if _brought(example.puzzle.fen, m.uci(), example.concept)]
        if not also:
            parts.append(f"None of them brings {_article(concept.name)} {concept.name.lower()} fact.")
        else:
            parts.append(
                f"{_and(also)} {'brings' if len(also) == 1 else 'bring'} {_article(concept.name)}"
                f" {concept.name.lower()} fact too, and still {'loses' if len(also) == 1 else 'lose'} that much."
            )
    return " ".join(parts)


def worked_example(example: Example) -> str:
    """One example in words: its source, the position and the solution in SAN, each move in words, the facts
    that make it an example, and for an exercise its best move, what it brings and why the distractors are
    worse."""
    puzzle = example.puzzle
    concept = get_concept(example.concept)
    start = puzzle.position()
    to_move = side(start.turn)
    paragraphs: list[str] = []
    if example.source:
        paragraphs.append(f"From {example.source}.")
    if puzzle.setup:
        before = chess.Board(puzzle.fen)
        intro = (
            f"{side(before.turn)} has just played {board_move_number(before)} {before.san(puzzle.moves[0])}, reaching"
            f" the position `{start.fen()}`, and {to_move} is to move."
        )
    else:
        intro = f"In the position `{start.fen()}`, {to_move} is to move."
    solution = numbered_line(start, puzzle.moves[puzzle.setup_moves :])
    paragraphs.append(f"{intro} The solution is {solution}.")
    paragraphs.append("\n".join(f"- {narrate(board, move)}" for board, move in puzzle.boards()))
    shown = {f.text for f in example.brought}
    sentences = fact_sentences(puzzle, [f for f in example.facts if f.text not in shown])
    if sentences:
        if concept.family == POSITIONAL:
            lead = f"{concept.name} in this position: "
        else:
            lead = f"Why this is {_article(concept.name)} {concept.name.lower()}: "
        paragraphs.append(lead + " ".join(sentences))
    if is_exercise(puzzle) and not puzzle.setup:
        paragraphs.append(_exercise_paragraph(example))
    final = puzzle.final_board()
    if final.is_checkmate():
        paragraphs.append(f"The line ends in checkmate: {side(final.turn)} has no legal move.")
    return "\n\n".join(paragraphs)


# ------------------------------------------------------------------ what the examples share


def _and(words: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _in(k: int, n: int) -> str:
    """``In the example`` (one of one) or ``In 2 of 3 examples``."""
    return "In the example" if n == 1 else f"In {k} of {n} examples"


def _counted(counts: Counter[str], n: int) -> str:
    """``a knight in 2 and a rook in 1`` (or ``a knight`` for one example)."""
    if n == 1:
        return _and(sorted(counts))
    return _and([f"{what} in {k}" for what, k in sorted(counts.items(), key=lambda item: (-item[1], item[0]))])


def _piece_words(symbol: str) -> str:
    name = chess.piece_name(chess.Piece.from_symbol(symbol).piece_type)
    return f"{_article(name)} {name}"


def _mover_sentence(examples: Sequence[Example]) -> str:
    n = len(examples)
    by_piece: dict[str, list[str]] = {}
    for example in examples:
        board, move = example.first_move
        name = chess.piece_name(board.piece_type_at(move.from_square) or chess.PAWN)
        by_piece.setdefault(name, []).append(board.san(move))
    parts = [
        f"{_article(name)} {name} move{'' if n == 1 else f' in {len(sans)}'} ({', '.join(sans)})"
        for name, sans in sorted(by_piece.items(), key=lambda item: -len(item[1]))
    ]
    if n == 1:
        return f"In the example the key move is {parts[0]}."
    return f"Across the {n} examples the key move is {_and(parts)}."


def _journeys(examples: Sequence[Example]) -> list[str]:
    """Where each example's moving piece went from, and what it attacks once there (checked on the board after
    the move by the fact-checker: a piece on a square, a move to a square, attacks)."""
    sentences = []
    for number, example in enumerate(examples, 1):
        board, move = example.first_move
        piece = board.piece_at(move.from_square)
        assert piece is not None
        where = "In the example" if len(examples) == 1 else f"In example {number}"
        if board.is_castling(move):
            continue
        text = f"{where} {describe(piece, move.from_square)} moves to {chess.square_name(move.to_square)}"
        after = board.copy(stack=False)
        after.push(move)
        landed = after.piece_at(move.to_square)
        assert landed is not None
        targets = [
            describe(target, square)
            for square in sorted(after.attacks(move.to_square))
            if (target := after.piece_at(square)) is not None and target.color != piece.color
        ]
        if targets:
            text += f"; then {describe(landed, move.to_square)} attacks {_and(targets)}"
        sentences.append(text + ".")
    return sentences


def _kind_sentences(examples: Sequence[Example]) -> list[str]:
    """What kinds of fact make them examples, counted across the examples, with who does what for forks,
    pins and skewers, how outposts are used, and which mate patterns."""
    n = len(examples)
    sentences = []
    kinds: Counter[str] = Counter()
    for example in examples:
        kinds.update(list(dict.fromkeys(f.kind for f in example.key_facts)))
    for kind, k in kinds.most_common():
        facts = [
            next(f for f in e.key_facts if f.kind == kind) for e in examples if any(f.kind == kind for f in e.key_facts)
        ]
        words = KIND_WORDS.get(kind, kind.replace("_", " "))
        if kind in RELATION_ACTORS:
            actors = Counter(_piece_words(f.pieces[0]) for f in facts)
            targets: Counter[str] = Counter()
            for fact in facts:
                targets.update({_piece_words(p) for p in fact.pieces[1:]})
            sentences.append(
                f"{_in(k, n)} the motif is {words}: the {RELATION_ACTORS[kind]} is {_counted(actors, k)};"
                f" the pieces it hits include {_counted(targets, k)}."
            )
        elif kind == "outpost":
            statuses = Counter(f.status or "" for f in facts)
            pieces = Counter(_piece_words(f.pieces[0]) for f in facts)
            ranks = Counter(f"the {_ordinal(f.rank)} rank" for f in facts if f.rank)
            occupied = statuses.get("occupied", 0)
            text = f"{_in(k, n)} the facts show {words}"
            if occupied:
                text += f", with a piece standing on it in {occupied}" if k > 1 else ", with a piece standing on it"
            text += f"; the piece that stands on it or can go there is {_counted(pieces, k)}"
            if ranks:
                text += f"; the outpost is on {_counted(ranks, k)}"
            sentences.append(text + ".")
        elif kind == "mate_pattern":
            patterns = Counter(f.pattern or "a mate pattern" for f in facts)
            sentences.append(f"{_in(k, n)} the mate has a name: {_counted(patterns, k)}.")
        else:
            sentences.append(f"{_in(k, n)} the facts show {words}.")
    return sentences


def _ordinal(rank: int) -> str:
    return {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", 6: "sixth", 7: "seventh", 8: "eighth"}[rank]


def _mistake_sentences(examples: Sequence[Example]) -> list[str]:
    """What the examples show a student can get wrong: for exercises, the tempting alternatives and whether
    they bring the concept's fact; for tactics, key moves that are not checks or captures, and lines where
    the point comes after the opponent's reply."""
    n = len(examples)
    sentences = []
    exercises = [e for e in examples if is_exercise(e.puzzle) and legal_distractors(e.puzzle)]
    if exercises:
        concept = get_concept(examples[0].concept)
        missing = [
            e
            for e in exercises
            if not any(_brought(e.puzzle.fen, m.uci(), e.concept) for m in legal_distractors(e.puzzle))
        ]
        margins = sorted(float(e.puzzle.extra["Margin"]) for e in exercises if _is_number(e.puzzle.extra.get("Margin")))
        fact = f"{_article(concept.name)} {concept.name.lower()} fact"
        if missing:
            sentences.append(
                f"{_in(len(missing), n)} none of the tempting alternatives brings {fact}: a plausible move of"
                " the same piece is not enough."
            )
        if len(missing) < len(exercises):
            sentences.append(
                f"{_in(len(exercises) - len(missing), n)} some tempting alternatives bring {fact} too and still"
                f" lose: that fact alone does not make a move the best one."
            )
        if margins:
            spread = f"{margins[0]:.3f}" if margins[0] == margins[-1] else f"{margins[0]:.3f} to {margins[-1]:.3f}"
            sentences.append(
                f"The alternatives cost at least {spread} in winning chances (on a scale from -1 to 1), by the"
                " engine's margin over the second-best move."
            )
    quiet = checks = 0
    for example in examples:
        board, move = example.first_move
        if board.gives_check(move):
            checks += 1
        elif not board.is_capture(move):
            quiet += 1
    if quiet and not exercises:
        sentences.append(
            f"{_in(quiet, n)} the key move is neither a check nor a capture: looking only at forcing moves misses it."
        )
    if checks:
        sentences.append(f"{_in(checks, n)} the key move gives check: the opponent's reply is forced, so count it out.")
    longer = sum(len(e.puzzle.solver_moves) > 1 for e in examples)
    if longer:
        sentences.append(
            f"{_in(longer, n)} the point comes only after the opponent's reply: stopping after the first move"
            " misses it."
        )
    return sentences


def _is_number(text: str | None) -> bool:
    try:
        float(text or "")
    except ValueError:
        return False
    return True


def shared_sentences(examples: Sequence[Example]) -> dict[str, list[str]]:
    """Sentences about what the examples share, for the general sections: ``What it is`` gets where they come
    from, ``How to spot it`` the moving pieces, where they went and what they attack, and the kinds of fact
    counted across the examples; ``Common mistakes`` what a student could get wrong on them. Every sentence
    is derived from the examples' boards and checked facts."""
    if not examples:
        return {WHAT_IT_IS: [], HOW_TO_SPOT: [], COMMON_MISTAKES: []}
    n = len(examples)
    games = {_game_of(e.puzzle) for e in examples if e.source}
    what = []
    if games and n > 1:
        what.append(f"The {n} examples come from {len(games)} real game{'s' if len(games) > 1 else ''}.")
    return {
        WHAT_IT_IS: what,
        HOW_TO_SPOT: [_mover_sentence(examples), *_journeys(examples), *_kind_sentences(examples)],
        COMMON_MISTAKES: _mistake_sentences(examples),
    }


__all__ = [
    "DEFAULT_EXAMPLES",
    "ENGINE_LINE_PLIES",
    "KIND_WORDS",
    "Example",
    "NoExampleError",
    "brought_facts",
    "engine_line",
    "engine_prefers_another",
    "engine_sentences",
    "example_facts",
    "example_source",
    "fact_sentences",
    "gather_example",
    "legal_distractors",
    "narrate",
    "pick_example",
    "pick_examples",
    "shared_sentences",
    "side",
    "wants_engine_line",
    "worked_example",
]
