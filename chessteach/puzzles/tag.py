"""Lichess puzzle themes computed from a puzzle's position and solution line, without the engine.

:func:`tag_puzzle` gives the themes of one puzzle, spelled as Lichess spells them and in the stable order
of :data:`THEMES`; :func:`tag_puzzles` tags many with a progress callback, :func:`tag_stream` a stream of them as
they come; :func:`theme_report` (:class:`ThemeScores`, a puzzle at a time) scores the
computed themes against the themes a puzzle set already carries (precision, recall, F1 per theme, and
micro-F1 over all of them).

Themes that need an engine (``advantage``, ``crushing``, ``equality``, ``zugzwang``) come from the
``engine_themes`` hook when one is given, and are otherwise neither computed nor scored. Themes from the
players' titles (``master``, ``masterVsMaster``, ``superGM``) are never computed.
"""

from __future__ import annotations

import copy
import itertools
import logging
import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor

import chess
import pandas as pd

from chessteach.concepts.catalog import get_concept
from chessteach.concepts.line import Line
from chessteach.concepts.phase import game_phase
from chessteach.concepts.registry import DETECTORS, LINE_THEMES
from chessteach.puzzles.puzzle import Puzzle

logger = logging.getLogger(__name__)

EngineThemes = Callable[[Puzzle], Iterable[str]]
"""A hook that returns a puzzle's engine themes (any of :data:`ENGINE_THEMES`)."""
Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)``."""

ENGINE_THEMES: tuple[str, ...] = ("advantage", "crushing", "equality", "zugzwang")

MATE_THEMES: tuple[str, ...] = tuple(t for t in LINE_THEMES if get_concept(t).subfamily == "mate")
"""The mate themes, from the concept registry (a new one is tagged once it has its entry there)."""
MOTIF_THEMES: tuple[str, ...] = tuple(t for t in LINE_THEMES if t not in MATE_THEMES)
"""The tactical motifs and special moves of a solution line, from the concept registry, in its order."""
LENGTH_THEMES: tuple[str, ...] = ("oneMove", "short", "long", "veryLong")
PHASE_THEMES: tuple[str, ...] = ("opening", "middlegame", "endgame")
ENDGAME_THEMES: tuple[str, ...] = (
    "pawnEndgame",
    "queenEndgame",
    "rookEndgame",
    "bishopEndgame",
    "knightEndgame",
    "queenRookEndgame",
)
THEMES: tuple[str, ...] = (*MATE_THEMES, *MOTIF_THEMES, *LENGTH_THEMES, *PHASE_THEMES, *ENDGAME_THEMES)
"""Every theme computed without the engine, in the order :func:`tag_puzzle` lists them."""

_ORDER = {theme: i for i, theme in enumerate((*THEMES, *ENGINE_THEMES))}

WING_THEMES: tuple[str, ...] = ("kingsideAttack", "queensideAttack")
"""Attacks on the castled king's wing: at most one, and neither beside a back-rank mate or a fork."""


def puzzle_line(puzzle: Puzzle) -> Line:
    """The puzzle's solution line, from its FEN, with its setup move when it has one."""
    return Line.from_moves(chess.Board(puzzle.fen), list(puzzle.moves), setup=puzzle.setup)


def length_theme(line: Line) -> str:
    """``oneMove``, ``short`` (2 solver moves), ``long`` (3) or ``veryLong`` (4 or more)."""
    return LENGTH_THEMES[min(len(line.solver_plies), 4) - 1]


def _only(board: chess.Board, piece_types: set[chess.PieceType]) -> bool:
    return all(piece.piece_type in piece_types for piece in board.piece_map().values())


def endgame_theme(line: Line) -> str | None:
    """The kind of endgame, judged on the solver's position and the one after its first move: only pawns;
    or only queens, rooks, bishops or knights of one kind (with pawns); or queens and rooks (with pawns,
    exactly one queen)."""
    boards = [line.start, line.after(line.first)]
    for theme, piece_type in zip(
        ENDGAME_THEMES[:5], (chess.PAWN, chess.QUEEN, chess.ROOK, chess.BISHOP, chess.KNIGHT), strict=True
    ):
        if all(
            board.pieces_mask(piece_type, chess.WHITE) | board.pieces_mask(piece_type, chess.BLACK) for board in boards
        ) and all(_only(board, {chess.KING, chess.PAWN, piece_type}) for board in boards):
            return theme
    if all(
        chess.popcount(board.queens) == 1
        and board.rooks
        and _only(board, {chess.KING, chess.PAWN, chess.QUEEN, chess.ROOK})
        for board in boards
    ):
        return "queenRookEndgame"
    return None


def tag_line(line: Line) -> list[str]:
    """The engine-free themes of a solution line, in the order of :data:`THEMES`: the mate and motif themes
    their registry detectors (:data:`~chessteach.concepts.registry.DETECTORS`) find, then its length, phase and
    kind of endgame."""
    themes = [t for t in (*MATE_THEMES, *MOTIF_THEMES) if t not in WING_THEMES and DETECTORS[t].finds(line)]
    if "backRankMate" not in themes and "fork" not in themes:
        themes += [t for t in WING_THEMES if DETECTORS[t].finds(line)][:1]
    themes.append(length_theme(line))
    themes.append(game_phase(line.start))
    endgame = endgame_theme(line)
    if endgame:
        themes.append(endgame)
    return sorted(themes, key=_ORDER.__getitem__)


def tag_puzzle(puzzle: Puzzle, *, engine_themes: EngineThemes | None = None) -> list[str]:
    """The Lichess themes of a puzzle, computed from its position and solution line.

    ``engine_themes``, when given, adds the themes that need an engine (see :data:`ENGINE_THEMES`).

    >>> p = Puzzle(id="x", fen="6k1/5ppp/8/8/8/8/5PPP/R5K1 b - - 0 1",
    ...            moves=[chess.Move.from_uci(m) for m in ("g8h8", "a1a8")])
    >>> tag_puzzle(p)
    ['mate', 'mateIn1', 'backRankMate', 'oneMove', 'endgame', 'rookEndgame']
    """
    themes = tag_line(puzzle_line(puzzle))
    if engine_themes is not None:
        extra = [t for t in engine_themes(puzzle) if t in ENGINE_THEMES and t not in themes]
        themes = sorted([*themes, *extra], key=_ORDER.__getitem__)
    return themes


def tag_puzzles(
    puzzles: Sequence[Puzzle],
    *,
    engine_themes: EngineThemes | None = None,
    progress: Progress | None = None,
    jobs: int = 1,
) -> list[list[str] | None]:
    """Tag many puzzles; ``progress(done, total)`` is called as they are done. A puzzle that cannot be tagged is
    logged and gets ``None``, and the count of such puzzles is logged at the end (see :func:`tag_stream`, which
    this collects).

    >>> from chessteach.puzzles import read_puzzles
    >>> puzzles = read_puzzles("tests/data/lichess-dev.csv").puzzles[:40]
    >>> tag_puzzles(puzzles, jobs=2) == tag_puzzles(puzzles)
    True
    """
    computed: list[list[str] | None] = []
    for _, themes in tag_stream(puzzles, engine_themes=engine_themes, jobs=jobs):
        computed.append(themes)
        if progress is not None:
            progress(len(computed), len(puzzles))
    return computed


def tag_stream(
    puzzles: Iterable[Puzzle], *, engine_themes: EngineThemes | None = None, jobs: int = 1
) -> Iterator[tuple[Puzzle, list[str] | None]]:
    """Tag a stream of puzzles as they come: yields each puzzle with its themes, in order. A puzzle that cannot be
    tagged is logged and gets ``None``, and the count of such puzzles is logged at the end.

    With ``jobs`` above 1, chunks of puzzles (of 8, then twice as many each time up to :data:`TAG_CHUNK`) are
    tagged in that many worker processes, at most two chunks a process ahead of the one yielded, so memory holds
    a few chunks however long the stream; the results are the same, in input order (a stream of one chunk is
    tagged here). ``engine_themes`` is asked here, for each puzzle as it is drawn from ``puzzles`` and before the
    next one is: a hook may follow a stream that works out its puzzles' engine themes a batch at a time.
    """
    failed = total = 0
    for puzzle, (themes, error) in _tagged(puzzles, engine_themes, max(1, jobs)):
        total += 1
        if error is not None:
            failed += 1
            logger.warning("cannot tag puzzle %s: %s", puzzle.id, error)
        yield puzzle, themes
    if failed:
        logger.warning("%d of %d puzzles could not be tagged", failed, total)


TAG_CHUNK = 256
"""The most puzzles a worker process tags at a time (see :func:`tag_stream`)."""
FIRST_CHUNK = 8
"""The first chunk's size; each chunk after holds twice as many, up to :data:`TAG_CHUNK`."""

_Work = tuple[Puzzle, "list[str] | None"]
_Outcome = tuple["list[str] | None", "str | None"]


def _tagged(puzzles: Iterable[Puzzle], hook: EngineThemes | None, jobs: int) -> Iterator[tuple[Puzzle, _Outcome]]:
    """Each puzzle with its outcome (themes, or None and why), tagged here or in ``jobs`` worker processes."""
    work = ((p, list(hook(p)) if hook is not None else None) for p in puzzles)  # the hook asked as each is drawn
    if jobs == 1:
        yield from ((p, _tag_one(p, engine)) for p, engine in work)
        return
    chunks = _chunks(work)
    first, second = next(chunks, None), next(chunks, None)
    if second is None:  # a few puzzles: no processes to start
        yield from ((p, _tag_one(p, engine)) for p, engine in first or [])
        return
    executor = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("forkserver"))
    try:
        ahead: deque[tuple[list[_Work], Future[list[_Outcome]]]] = deque()
        for chunk in itertools.chain([first or [], second], chunks):
            ahead.append((chunk, executor.submit(_tag_chunk, chunk)))
            if len(ahead) > 2 * jobs:
                done, future = ahead.popleft()
                yield from zip((p for p, _ in done), future.result(), strict=True)
        while ahead:
            done, future = ahead.popleft()
            yield from zip((p for p, _ in done), future.result(), strict=True)
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def _chunks(work: Iterator[_Work]) -> Iterator[list[_Work]]:
    size = FIRST_CHUNK
    while chunk := list(itertools.islice(work, size)):
        yield chunk
        size = min(TAG_CHUNK, 2 * size)


def _tag_one(puzzle: Puzzle, engine: list[str] | None) -> _Outcome:
    """One puzzle's themes, or None and why it cannot be tagged; ``engine`` its engine themes, when asked."""
    hook = (lambda _: engine) if engine is not None else None
    try:
        return tag_puzzle(puzzle, engine_themes=hook), None
    except (ValueError, AssertionError, IndexError) as exc:
        return None, str(exc)


def _tag_chunk(chunk: list[_Work]) -> list[_Outcome]:
    """A worker process's share of :func:`tag_stream`."""
    return [_tag_one(puzzle, engine) for puzzle, engine in chunk]


def with_computed_themes(puzzle: Puzzle, themes: list[str] | None) -> Puzzle:
    """A copy of the puzzle whose ``themes`` are the computed ones; its own move to ``extra["SourceThemes"]``."""
    tagged = copy.copy(puzzle)
    tagged.extra = {**puzzle.extra, "SourceThemes": " ".join(puzzle.themes)}
    tagged.themes = list(themes or [])
    return tagged


def scored_themes(*, engine: bool = False) -> tuple[str, ...]:
    """The themes a report scores: every computed theme, plus the engine's when an engine hook was used."""
    return (*THEMES, *ENGINE_THEMES) if engine else THEMES


def has_generator_themes(themes: Iterable[str]) -> bool:
    """Whether a puzzle's own themes come from Lichess's tagger at all: every tagged puzzle has a length
    theme; puzzles with only a phase (and title) theme were never tagged."""
    return any(t in LENGTH_THEMES for t in themes)


def theme_report(
    source: Sequence[Iterable[str]],
    predicted: Sequence[Iterable[str] | None],
    *,
    themes: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Precision, recall and F1 of each computed theme against the puzzles' own themes.

    ``source[i]`` and ``predicted[i]`` are the themes of puzzle ``i`` (a ``None`` prediction, a puzzle that
    could not be tagged, counts as predicting nothing). Columns: ``theme, support, predicted, tp,
    precision, recall, f1``, sorted by support; ``attrs`` holds ``micro_precision``, ``micro_recall``,
    ``micro_f1`` (over all scored themes) and ``puzzles``. (:class:`ThemeScores` counts a stream a puzzle at a
    time.)
    """
    if len(source) != len(predicted):
        raise ValueError(f"{len(source)} source theme lists but {len(predicted)} predictions")
    scores = ThemeScores(themes)
    for truth, guess in zip(source, predicted, strict=True):
        scores.add(truth, guess)
    return scores.table()


class ThemeScores:
    """The counts behind :func:`theme_report` (support, predicted and true positives of each scored theme,
    ``themes`` or :data:`THEMES`), a puzzle at a time: a report on millions of puzzles holds a row per theme."""

    def __init__(self, themes: Sequence[str] | None = None) -> None:
        self._scored = list(themes or THEMES)
        self._wanted = set(self._scored)
        self._counts = {theme: [0, 0, 0] for theme in self._scored}  # support, predicted, tp
        self.puzzles = 0

    def add(self, truth: Iterable[str], guess: Iterable[str] | None) -> None:
        """Count one puzzle: its own themes and the computed ones (None: it could not be tagged)."""
        self.puzzles += 1
        true_set = set(truth) & self._wanted
        guess_set = set(guess or ()) & self._wanted
        for theme in true_set:
            self._counts[theme][0] += 1
        for theme in guess_set:
            self._counts[theme][1] += 1
        for theme in true_set & guess_set:
            self._counts[theme][2] += 1

    def table(self) -> pd.DataFrame:
        """The report so far (see :func:`theme_report`)."""
        rows = []
        for theme, (support, guessed, tp) in self._counts.items():
            precision, recall = _ratio(tp, guessed), _ratio(tp, support)
            rows.append(
                {
                    "theme": theme,
                    "support": support,
                    "predicted": guessed,
                    "tp": tp,
                    "precision": precision,
                    "recall": recall,
                    "f1": _f1(precision, recall),
                }
            )
        table = pd.DataFrame(rows, columns=["theme", "support", "predicted", "tp", "precision", "recall", "f1"])
        table = table.sort_values(["support", "predicted"], ascending=False, kind="stable").reset_index(drop=True)
        support, guessed, tp = (int(table[c].sum()) for c in ("support", "predicted", "tp"))
        micro_p, micro_r = _ratio(tp, guessed), _ratio(tp, support)
        table.attrs.update(
            micro_precision=micro_p, micro_recall=micro_r, micro_f1=_f1(micro_p, micro_r), puzzles=self.puzzles
        )
        return table


def _ratio(num: int, den: int) -> float:
    return num / den if den else float("nan")


def _f1(precision: float, recall: float) -> float:
    if precision != precision or recall != recall or precision + recall == 0:  # NaN or both zero
        return float("nan") if precision != precision and recall != recall else 0.0
    return 2 * precision * recall / (precision + recall)
