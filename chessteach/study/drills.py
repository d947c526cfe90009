"""Drills: the player's own critical positions as "what would you play?" questions, and puzzles or positional
exercises of the concepts they keep missing; written as a PGN study (one chapter a drill) and a Lichess CSV.

An own position is the board before the player's move that went wrong; its answer is the engine's best move
(with its line), as a puzzle without a setup move (``setup=False``, like an exercise), so that
``chessteach exam`` and ``train`` take ``drills.csv``. Own positions come worst first (the most win% lost),
then the puzzles of each weak concept, easiest first (by rating).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import chess
import chess.pgn
import chess.svg

from chessteach.concepts.notation import move_label, move_number
from chessteach.puzzles.lichess_csv import DISTRACTORS_COLUMN, write_puzzles
from chessteach.puzzles.puzzle import Puzzle
from chessteach.study.profile import ConceptRow, Decision, PlayerStudy

OWN = "own"
PUZZLE = "puzzle"
EXERCISE = "exercise"

MAX_OWN = 24
"""The player's own positions drilled at most (the worst ones)."""
PER_CONCEPT = 3
"""Puzzles or exercises drilled per weak concept."""
MAX_CHAPTERS = 64
"""A Lichess study holds 64 chapters at most; ``study.pgn`` writes the first drills up to that."""
MAX_HIGHLIGHTS = 6
"""Squares a chapter highlights at most."""

LICHESS_ANALYSIS = "https://lichess.org/analysis/"


def lichess_url(fen: str) -> str:
    """The Lichess analysis board of a position (the FEN with its spaces as ``_``).

    >>> lichess_url(chess.STARTING_FEN)
    'https://lichess.org/analysis/rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR_w_KQkq_-_0_1'
    """
    return LICHESS_ANALYSIS + fen.replace(" ", "_")


@dataclass(frozen=True)
class Drill:
    """One drill: the position the solver faces, the question, the answer line (SAN) and what it is about.

    ``puzzle`` is the drill in the puzzle form ``drills.csv`` holds; ``decision`` the player's own decision an
    own position comes from."""

    kind: str
    puzzle: Puzzle
    title: str
    question: str
    answer_san: tuple[str, ...]
    concepts: tuple[str, ...]
    difficulty: str
    decision: Decision | None = None
    highlights: tuple[chess.Square, ...] = ()
    note: str = ""

    @property
    def board(self) -> chess.Board:
        """The board the solver faces."""
        return self.puzzle.position()

    @property
    def fen(self) -> str:
        return self.board.fen()

    @property
    def answer(self) -> chess.Move:
        """The move to find (the engine's best move for an own position)."""
        return self.puzzle.solver_moves[0]

    @property
    def played(self) -> chess.Move | None:
        """The move the player chose, for an own position."""
        return chess.Move.from_uci(self.decision.move.uci) if self.decision is not None else None

    @property
    def url(self) -> str:
        return lichess_url(self.fen)


def has_better_move(decision: Decision) -> bool:
    """Whether the engine gave a best move other than the one played (at a low node count it can judge its own
    best move an error, one search later)."""
    move = decision.move
    return bool(move.best_pv_san) and move.best_pv_san[0] != move.san


def own_drill(decision: Decision) -> Drill:
    """The player's decision that went wrong as a "what would you play?" question: the answer is the engine's
    best move, the line its best line."""
    move = decision.move
    if not move.best_pv_san:
        raise ValueError(f"game {decision.game}, ply {move.ply}: the engine gave no best move")
    line = list(move.best_pv_san)
    concepts = tuple(sorted(decision.concepts))
    label = move_label(move_number(move.move_number, move.color), move.san)
    puzzle = Puzzle.from_solution(
        move.fen_before,
        line[:1],
        id=f"own-g{decision.game}-p{move.ply}",
        themes=list(concepts),
    )
    puzzle.source = f"game {decision.game}, ply {move.ply}"
    puzzle.extra.update({
        "Line": " ".join(line),
        "Played": move.san,
        "WinLost": f"{move.win_drop:.1f}",
        "Errors": " ".join(e.replace(" ", "-") for e in decision.errors),
    })
    squares = [s for f in (*decision.better, *decision.refutation) for s in f.squares]
    return Drill(
        kind=OWN,
        puzzle=puzzle,
        title=f"Game {decision.game}, {label}",
        question=f"{chess.COLOR_NAMES[move.color].capitalize()} to move. What would you play? "
                 f"(In the game: {move.san}, a {' and a '.join(decision.errors)}.)",
        answer_san=tuple(line),
        concepts=concepts,
        difficulty=f"{move.win_drop:.0f}% win lost",
        decision=decision,
        highlights=tuple(dict.fromkeys(squares))[:MAX_HIGHLIGHTS],
        note=f"Winning chances {move.win_before:.0f}% before; {move.san} left {move.win_after:.0f}%.",
    )


def _as_drill(puzzle: Puzzle, concept: str) -> Drill:
    """A puzzle or an exercise of ``concept`` as a drill; in ``drills.csv`` an exercise is a puzzle without a
    setup move and without its multiple-choice column (which would make every row one)."""
    exercise = DISTRACTORS_COLUMN in puzzle.extra
    if exercise:
        extra = {k: v for k, v in puzzle.extra.items() if k != DISTRACTORS_COLUMN}
        puzzle = Puzzle(puzzle.id, puzzle.fen, list(puzzle.moves), puzzle.rating, list(puzzle.themes),
                        puzzle.source, extra, setup=False)
    else:
        puzzle = copy.deepcopy(puzzle)
    board = puzzle.position()
    side = chess.COLOR_NAMES[board.turn].capitalize()
    what = "the best move" if exercise else "the winning line"
    return Drill(
        kind=EXERCISE if exercise else PUZZLE,
        puzzle=puzzle,
        title=f"{concept}: {'exercise' if exercise else 'puzzle'} {puzzle.id}",
        question=f"{side} to move: find {what}.",
        answer_san=tuple(puzzle.solution_san()),
        concepts=(concept,),
        difficulty=f"rating {puzzle.rating}" if puzzle.rating is not None else "unrated",
        highlights=(puzzle.moves[0].to_square,) if puzzle.setup else (),
        note=f"Themes: {' '.join(puzzle.themes)}.",
    )


def _spread(puzzles: Sequence[Puzzle], count: int) -> list[Puzzle]:
    """``count`` puzzles spread evenly over a list sorted by difficulty (its easiest and its hardest among them).

    >>> [p.rating for p in _spread([Puzzle.from_solution(chess.STARTING_FEN, ["e4"], rating=r) for r in range(10)], 3)]
    [0, 4, 9]
    """
    if len(puzzles) <= count:
        return list(puzzles)
    if count == 1:
        return [puzzles[len(puzzles) // 2]]
    return [puzzles[round(i * (len(puzzles) - 1) / (count - 1))] for i in range(count)]


def concept_drills(concepts: Sequence[str], pool: Iterable[Puzzle], *, per_concept: int = PER_CONCEPT) -> list[Drill]:
    """Up to ``per_concept`` puzzles or exercises of each concept from ``pool`` (one puzzle drilled once), the
    spread over the concept's range of difficulty and easiest first: rated puzzles by rating, then the unrated ones
    in the pool's order."""
    puzzles = list(pool)
    used: set[str] = set()
    drills = []
    for concept in concepts:
        having = [p for p in puzzles if concept in p.themes and p.id not in used]
        having.sort(key=lambda p: (p.rating is None, p.rating or 0))
        for puzzle in _spread(having, per_concept):
            used.add(puzzle.id)
            drills.append(_as_drill(puzzle, concept))
    return drills


def study_drills(
    study: PlayerStudy, weak: Sequence[ConceptRow], pool: Iterable[Puzzle], *, max_own: int = MAX_OWN,
    per_concept: int = PER_CONCEPT,
) -> list[Drill]:
    """The drills of a study: the player's worst positions, then puzzles of the weak concepts."""
    own = [own_drill(d) for d in study.errors if has_better_move(d)][:max_own]
    return own + concept_drills([r.concept for r in weak], pool, per_concept=per_concept)


def _clean(text: str) -> str:
    """Comment text that cannot break PGN (no braces; one line) nor start a command (no ``[%``).

    >>> _clean("a } b\\n [%cal Ge2e4]")
    'a b cal Ge2e4]'
    """
    return " ".join(text.replace("{", "").replace("}", "").replace("[%", "").split())


def drill_chapter(drill: Drill, number: int, *, study_name: str) -> chess.pgn.Game:
    """A drill as a PGN chapter: the solver's position ([FEN], [SetUp "1"]), the question as the first comment,
    the answer line as the main line with the answer's arrow (green; the player's move in red) and the squares
    of its facts highlighted."""
    board = drill.board
    game = chess.pgn.Game()
    chapter = f"{number}. {drill.title}"
    game.headers["Event"] = f"{study_name}: {chapter}"  # as Lichess exports a study's chapter
    game.headers["Site"] = drill.url
    del game.headers["White"], game.headers["Black"]  # no players: Lichess would name the chapter "? - ?"
    game.headers["Result"] = "*"
    game.headers["StudyName"] = study_name
    game.headers["ChapterName"] = chapter
    game.headers["Annotator"] = "chessteach study"
    game.setup(board)
    game.comment = _clean(
        f"{drill.question} Concepts: {', '.join(drill.concepts) or 'none found'}. ({drill.difficulty})")
    node: chess.pgn.GameNode = game
    line = board.copy(stack=False)
    for index, san in enumerate(drill.answer_san):
        move = line.parse_san(san)
        node = node.add_variation(move)
        line.push(move)
        if index == 0:
            node.comment = _clean(drill.note)
            arrows = [chess.svg.Arrow(move.from_square, move.to_square, color="green")]
            played = drill.played
            if played is not None and played != move:
                arrows.append(chess.svg.Arrow(played.from_square, played.to_square, color="red"))
                game.add_variation(played, comment="Played in the game.")
            squares = drill.highlights or (move.to_square,)
            node.set_arrows([*arrows, *(chess.svg.Arrow(s, s, color="red") for s in squares)])
    return game


def write_study_pgn(path: str | os.PathLike[str], drills: Sequence[Drill], *, study_name: str) -> int:
    """Write the drills as a PGN study, one chapter each (the first :data:`MAX_CHAPTERS`); returns how many."""
    chapters = [drill_chapter(d, i, study_name=study_name) for i, d in enumerate(drills[:MAX_CHAPTERS], start=1)]
    with open(path, "w", encoding="utf-8") as fh:
        for game in chapters:
            print(game, file=fh, end="\n\n")
    return len(chapters)


def write_drills_csv(path: str | os.PathLike[str], drills: Sequence[Drill]) -> None:
    """Write the drills in the Lichess puzzle CSV format (own positions and exercises without a setup move)."""
    write_puzzles(path, [d.puzzle for d in drills])


__all__ = [
    "EXERCISE", "OWN", "PUZZLE", "Drill", "concept_drills", "drill_chapter", "has_better_move", "lichess_url", "own_drill",
    "study_drills", "write_drills_csv", "write_study_pgn",
]
