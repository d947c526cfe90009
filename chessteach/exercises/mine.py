"""Mining positional exercises: "find the best plan" positions where a quiet move is clearly best.

An exercise is a position from a real game where the engine's best move

- is **clearly best**: its winning chances (-1..1) stand at least :data:`EXERCISE_MARGIN` above the second
  best move's, so every other move loses at least that much (0.1, 5 points of win%, is Lichess's inaccuracy
  threshold, :func:`~chessteach.engine.score.judge`: Lichess would judge every alternative an inaccuracy or
  worse), and the full search must show :data:`SELECTION_BUFFER` more;
- is **quiet** (:func:`~chessteach.concepts.changes.is_quiet`): not a capture (so not a recapture), not a
  check, not a promotion; and the side to move is not in check;
- **changes a positional fact** in the mover's favour (:func:`~chessteach.concepts.changes.positional_changes`):
  the exercise's themes are the concepts of those facts.

The stages, each through the engine pool and its cache (so a rerun resumes where it stopped):

1. **Positions.** Every position of every game from ply :data:`MIN_PLY` on (the opening is skipped), not in
   check, with more than one legal move; a position already seen (in any game) is skipped.
2. **Screen.** A multipv-2 search of every position at ``nodes / SCREEN_FACTOR``: its best move must be quiet,
   change a positional fact, and stand at least :data:`SCREEN_MARGIN` above the second best. This cheap search
   replaces a full one of every position; it only saves the full search on hopeless positions.
3. **Clearly best.** A multipv-2 search at the full node count: the best move must still be quiet and
   positional, and its margin at least the selection margin, :data:`EXERCISE_MARGIN` plus
   :data:`SELECTION_BUFFER` (the buffer absorbs the search noise between this search and the next).
4. **Re-verification.** The same search at :data:`REVERIFY_FACTOR` times the nodes: the exercise is kept
   only if the best move is the same and its margin at least :data:`EXERCISE_MARGIN`. The share kept is the
   exercise set's stability; the margin recorded is this search's.
5. **Distractors.** :data:`DISTRACTORS` legal moves that look plausible (the same piece type as the best move,
   or a square near its target; quiet moves first) and that the engine ranks clearly lower: each is searched
   (the position after it, at the full node count) and must be at least :data:`EXERCISE_MARGIN` below the best
   move. The highest ranked of those are kept, the most tempting wrong answers.

Every position that reaches stage 3 is kept as a :class:`Trial` with its margins at both node counts, so the
choice of margins can be studied from one run (``chessteach bench exercises``).

An exercise is a setup-less :class:`~chessteach.puzzles.puzzle.Puzzle`: ``fen`` is the solver's position and
``moves`` the best move alone; ``extra`` holds the ``Distractors`` (UCI), the ``Margin`` at the
re-verification, the ``Facts`` the move changes and the source columns.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace

import chess
import chess.engine

from chessteach.batches import RunningProgress, batched, stage_progress
from chessteach.concepts.changes import FactChange, changed_concepts, is_quiet, positional_changes
from chessteach.engine import Analysis, EngineLimit, EnginePool, position_key, win_chance
from chessteach.games.filters import GameFilter
from chessteach.games.read import GameRecord, game_positions, read_games
from chessteach.puzzles.lichess_csv import DISTRACTORS, DISTRACTORS_COLUMN
from chessteach.puzzles.mine import puzzle_id
from chessteach.puzzles.puzzle import Puzzle
from chessteach.puzzles.seen_ids import SeenIds

logger = logging.getLogger(__name__)

EXERCISE_MARGIN = 0.1
"""How far (winning chances, -1..1) the best move must stand above every alternative at the re-verification:
Lichess's inaccuracy threshold (0.2 is its mistake, 0.3 its blunder)."""

REVERIFY_FACTOR = 4
"""The re-verification searches this many times the nodes."""

SELECTION_BUFFER = 0.1
"""Added to the margin at the full node count, so that positions near the margin are not selected on noise
(margin plus buffer is 0.2 at the defaults: at the full node count every alternative is a Lichess mistake)."""

SCREEN_FACTOR = 5
"""The screen searches ``nodes / SCREEN_FACTOR`` nodes."""

SCREEN_MARGIN = 0.05
"""The margin the screen asks for (a quarter of the selection margin, margin plus buffer: the screen is noisy)."""

MIN_PLY = 16
"""Positions before this many plies (the opening) are not mined."""


DISTRACTOR_BATCH = 6
"""Candidate distractors searched at a time; a second batch is searched when too few of the first qualify."""

EXERCISE_COLUMNS = [
    "PuzzleId",
    "FEN",
    "Moves",
    "Themes",
    "Distractors",
    "Margin",
    "SourceFile",
    "SourceGame",
    "SourcePly",
    "Facts",
]
"""The columns of an exercise file (a Lichess-like CSV; see :mod:`chessteach.puzzles.lichess_csv`)."""

ExerciseProgress = Callable[[str, int, int], None]
"""Called as ``progress(stage, done, total)``; the stages are :data:`EXERCISE_STAGES`."""

EXERCISE_STAGES = ("screen", "search", "reverify", "distractors")
"""The engine stages of mining exercises, as :data:`ExerciseProgress` names them."""

GAME_BATCH = 200
"""Games mined at a time by :func:`exercise_batches` (their positions are what memory holds)."""


@dataclass(frozen=True)
class Position:
    """A game position where the side to move may have a clearly best quiet move."""

    source: str
    game: int
    ply: int
    """1-based ply of the move to find."""
    board: chess.Board


@dataclass(frozen=True)
class Trial:
    """A position that reached the full-node search: its best move, what that move changes, and its margins
    at both node counts."""

    position: Position
    best: chess.Move
    changes: tuple[FactChange, ...]
    chances: float
    """The best move's winning chances (-1..1) at the full node count."""
    margin: float
    """The margin at the full node count."""
    verified_margin: float | None = None
    """The margin at ``REVERIFY_FACTOR`` times the nodes (None when that search was not run)."""
    same_best: bool = False
    """Whether the re-verification found the same best move."""

    @property
    def concepts(self) -> list[str]:
        """The concepts whose facts the best move changes."""
        return changed_concepts(self.changes)

    def stable(self, margin: float) -> bool:
        """Still clearly best at the re-verification, by ``margin``."""
        return self.same_best and self.verified_margin is not None and self.verified_margin >= margin


@dataclass
class ExerciseResult:
    """What mining gave: the exercises and the counts behind them."""

    exercises: list[Puzzle] = field(default_factory=list)
    games: int = 0
    bad_games: list[str] = field(default_factory=list)
    positions: int = 0
    """Positions searched by the screen."""
    screened: int = 0
    """Positions whose screen best move is quiet, positional and :data:`SCREEN_MARGIN` above the second."""
    clearly_best: int = 0
    """Positions selected at the full node count: the exercises before re-verification."""
    stable: int = 0
    """Of those, how many stayed clearly best at the re-verification's node count."""
    without_distractors: int = 0
    trials: list[Trial] = field(default_factory=list)
    """Every position searched at the full node count."""

    def add(self, other: ExerciseResult, *, keep: bool = True) -> None:
        """Add another batch's counts to these, and its exercises and trials unless ``keep`` is false (a caller
        that has written them)."""
        for name in ("games", "positions", "screened", "clearly_best", "stable", "without_distractors"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.bad_games += other.bad_games
        if keep:
            self.exercises += other.exercises
            self.trials += other.trials

    @property
    def stability(self) -> float:
        """Share of the clearly-best positions still clearly best at ``REVERIFY_FACTOR`` times the nodes."""
        return self.stable / self.clearly_best if self.clearly_best else 1.0

    def concepts(self) -> Counter[str]:
        """How many exercises each concept tags."""
        return Counter(theme for exercise in self.exercises for theme in exercise.themes)


def margin_of(analysis: Analysis, color: chess.Color) -> float | None:
    """Winning chances of the best line minus the second's, for ``color``; None without two lines."""
    if len(analysis.lines) < 2 or analysis.lines[0].move is None:
        return None
    best, second = (win_chance(line.score, color) for line in analysis.lines[:2])
    return best - second


def _positional_move(fen: str, uci: str) -> list[FactChange]:
    """What a move changes (run in worker processes; boards travel as FENs)."""
    return positional_changes(chess.Board(fen), chess.Move.from_uci(uci))


def _quiet_candidate(board: chess.Board, move: chess.Move | None) -> bool:
    return move is not None and not board.is_check() and is_quiet(board, move)


def plausible_moves(board: chess.Board, best: chess.Move) -> list[chess.Move]:
    """The legal moves other than ``best``, most plausible first: quiet moves before captures and checks, then
    the same piece type as the best move, then nearness (king distance) of the target square to the best
    move's target square.
    """
    piece = board.piece_type_at(best.from_square)

    def order(move: chess.Move) -> tuple[int, int, int, str]:
        return (
            0 if is_quiet(board, move) else 1,
            0 if board.piece_type_at(move.from_square) == piece else 1,
            chess.square_distance(move.to_square, best.to_square),
            move.uci(),
        )

    return sorted((m for m in board.legal_moves if m != best), key=order)


def _exercise(trial: Trial, distractors: Sequence[chess.Move]) -> Puzzle:
    position = trial.position
    assert trial.verified_margin is not None
    exercise = Puzzle.from_solution(
        position.board.fen(),
        [trial.best.uci()],
        id=puzzle_id(position.source, position.game, position.ply),
        themes=trial.concepts,
    )
    exercise.extra.update(
        {
            DISTRACTORS_COLUMN: " ".join(m.uci() for m in distractors),
            "Margin": f"{trial.verified_margin:.3f}",
            "SourceFile": position.source,
            "SourceGame": str(position.game),
            "SourcePly": str(position.ply),
            "Facts": " | ".join(c.text for c in trial.changes),
        }
    )
    return exercise


def game_records(
    paths: Sequence[str | os.PathLike[str]], only: GameFilter | None = None
) -> Iterator[tuple[str, GameRecord]]:
    """Every game of some PGN files, with its file's name, in order; the games ``only``'s headers filter drops are
    passed over at their headers, neither counted nor read further."""
    for path in paths:
        source = os.path.basename(os.fspath(path))
        for record in read_games(path, only=only):
            yield source, record


def collect_positions(
    records: Iterable[tuple[str, GameRecord]], result: ExerciseResult, seen: SeenIds
) -> list[Position]:
    """Stage 1: the positions of every readable game from :data:`MIN_PLY` on, not in check, with a choice of
    moves, each once: ``seen`` holds the positions met before (in this call or an earlier one) and receives the
    new ones. Bad games are recorded in ``result`` and skipped."""
    positions: list[Position] = []
    for source, record in records:
        result.games += 1
        if record.error is not None or record.game is None:
            result.bad_games.append(record.error or f"{source}: game {record.number}: unreadable")
            continue
        boards, _ = game_positions(record.game)
        for index, board in enumerate(boards[:-1]):
            if index + 1 < MIN_PLY or board.is_check() or board.legal_moves.count() < 2:
                continue
            key = position_key(board)
            if seen.line_of(key) is None:
                seen.add(key, record.number)
                positions.append(Position(source, record.number, index + 1, board))
    result.positions += len(positions)
    return positions


def _changes_of(jobs: Sequence[tuple[str, str]], processes: int) -> list[list[FactChange]]:
    """What each (FEN, UCI move) changes, in worker processes when there are many."""
    if processes > 1 and len(jobs) > 50:
        context = multiprocessing.get_context("forkserver")
        with ProcessPoolExecutor(processes, mp_context=context) as executor:
            return list(executor.map(_positional_move, *zip(*jobs, strict=True), chunksize=32))
    return [_positional_move(fen, uci) for fen, uci in jobs]


def exercise_batches(
    paths: Sequence[str | os.PathLike[str]],
    pool: EnginePool,
    *,
    margin: float = EXERCISE_MARGIN,
    selection_buffer: float = SELECTION_BUFFER,
    processes: int | None = None,
    progress: ExerciseProgress | None = None,
    only: GameFilter | None = None,
    size: int = GAME_BATCH,
) -> Iterator[ExerciseResult]:
    """Mine exercises a batch of ``size`` games at a time (see :func:`mine_exercises`): yields each batch's
    :class:`ExerciseResult` before the next batch is read, so memory holds one batch however large the files.
    The positions met are remembered across batches in bounded memory
    (:class:`~chessteach.puzzles.seen_ids.SeenIds`), so a position is mined once in the whole run, and the
    results do not depend on ``size`` (each position's searches depend on the position alone)."""
    if pool.limit.nodes is None:
        raise ValueError("mining exercises needs a node limit (the screen and re-verification scale it)")
    stages = {name: RunningProgress(stage_progress(progress, name)) for name in EXERCISE_STAGES}
    with SeenIds() as seen:
        for batch in batched(game_records(paths, only), size):
            result = ExerciseResult()
            positions = collect_positions(batch, result, seen)
            del batch
            _mine_positions(positions, pool, result, margin, selection_buffer, processes or pool.workers, stages)
            for running in stages.values():
                running.next_call()
            yield result


def mine_exercises(
    paths: Sequence[str | os.PathLike[str]],
    pool: EnginePool,
    *,
    margin: float = EXERCISE_MARGIN,
    selection_buffer: float = SELECTION_BUFFER,
    processes: int | None = None,
    progress: ExerciseProgress | None = None,
    only: GameFilter | None = None,
    size: int = GAME_BATCH,
) -> ExerciseResult:
    """Mine verified positional exercises from every game of some PGN files (see the module doc).

    ``pool``'s node limit is the full node count. ``processes`` computes the positional facts in that many
    worker processes (default: the pool's worker count). ``only`` keeps the games its headers filter matches.
    Bad games are reported and skipped. The work goes a batch of ``size`` games at a time
    (:func:`exercise_batches`, which a caller that writes as it goes uses); this collects every batch's
    exercises, trials and counts. The example is not run as a doctest (minutes of engine time;
    ``tests/test_exercises.py`` mines real games):

    >>> with EnginePool(limit=EngineLimit(nodes=250_000), workers=2) as pool:  # doctest: +SKIP
    ...     result = mine_exercises(["games.pgn"], pool)
    """
    total = ExerciseResult()
    for batch in exercise_batches(paths, pool, margin=margin, selection_buffer=selection_buffer,
                                  processes=processes, progress=progress, only=only, size=size):
        total.add(batch)
    logger.info("%d exercises (%d without enough distractors)", len(total.exercises), total.without_distractors)
    return total


def _mine_positions(
    positions: Sequence[Position],
    pool: EnginePool,
    result: ExerciseResult,
    margin: float,
    selection_buffer: float,
    processes: int,
    stages: Mapping[str, Callable[[int, int], None]],
) -> None:
    """Stages 2 to 5 on one batch's positions, into ``result``."""
    assert pool.limit.nodes is not None
    nodes = pool.limit.nodes

    # Stage 2: the screen, then the positional facts of the quiet best moves that pass it.
    screen_limit = EngineLimit(nodes=max(1, nodes // SCREEN_FACTOR))
    screens = pool.analyse([p.board for p in positions], multipv=2, limit=screen_limit, progress=stages["screen"])
    quiet: list[tuple[Position, chess.Move]] = []
    for position, analysis in zip(positions, screens, strict=True):
        if analysis is None or not analysis.lines:
            continue
        move = analysis.lines[0].move
        found = margin_of(analysis, position.board.turn)
        if move is not None and found is not None and found >= SCREEN_MARGIN and _quiet_candidate(position.board, move):
            quiet.append((position, move))
    changes = _changes_of([(p.board.fen(), m.uci()) for p, m in quiet], processes)
    screened = [(p, m, found) for (p, m), found in zip(quiet, changes, strict=True) if found]
    result.screened = len(screened)
    logger.info("%d positions, %d pass the screen", result.positions, result.screened)

    # Stage 3: clearly best at the full node count.
    searches = pool.analyse([p.board for p, _, _ in screened], multipv=2, progress=stages["search"])
    trials: list[Trial] = []
    for (position, screen_move, screen_changes), analysis in zip(screened, searches, strict=True):
        if analysis is None:
            continue
        found = margin_of(analysis, position.board.turn)
        best = analysis.lines[0].move
        if found is None or best is None or not _quiet_candidate(position.board, best):
            continue
        changed = screen_changes if best == screen_move else positional_changes(position.board, best)
        if changed:
            chances = win_chance(analysis.lines[0].score, position.board.turn)
            trials.append(Trial(position, best, tuple(changed), chances, found))
    selected = [i for i, t in enumerate(trials) if t.margin >= margin + selection_buffer]
    result.clearly_best = len(selected)

    # Stage 4: re-verification at REVERIFY_FACTOR times the nodes.
    verify_limit = EngineLimit(nodes=nodes * REVERIFY_FACTOR)
    checks = pool.analyse([trials[i].position.board for i in selected], multipv=2, limit=verify_limit,
                          progress=stages["reverify"])
    for i, check in zip(selected, checks, strict=True):
        if check is not None:
            trial = trials[i]
            trials[i] = replace(trial, verified_margin=margin_of(check, trial.position.board.turn),
                                same_best=check.lines[0].move == trial.best)
    result.trials = trials
    stable = [t for t in trials if t.stable(margin)]
    result.stable = len(stable)
    logger.info("%d clearly best, %d stable at %dx the nodes", result.clearly_best, result.stable, REVERIFY_FACTOR)

    # Stage 5: distractors, searched in batches over all exercises at once.
    chosen = _distractors(stable, pool, margin, stages["distractors"])
    for trial, distractors in zip(stable, chosen, strict=True):
        if len(distractors) < DISTRACTORS:
            result.without_distractors += 1
            continue
        result.exercises.append(_exercise(trial, distractors))


def _distractors(
    stable: Sequence[Trial],
    pool: EnginePool,
    margin: float,
    progress: Callable[[int, int], None] | None,
) -> list[list[chess.Move]]:
    """For each exercise, up to :data:`DISTRACTORS` plausible moves ranked clearly lower, best ranked first."""
    plausible = [plausible_moves(t.position.board, t.best) for t in stable]
    scored: list[list[tuple[float, chess.Move]]] = [[] for _ in stable]
    for batch in range(2):
        todo: list[tuple[int, chess.Move, chess.Board]] = []
        for i, trial in enumerate(stable):
            if batch and len(scored[i]) >= DISTRACTORS:
                continue
            for move in plausible[i][batch * DISTRACTOR_BATCH : (batch + 1) * DISTRACTOR_BATCH]:
                after = trial.position.board.copy(stack=False)
                after.push(move)
                todo.append((i, move, after))
        if not todo:
            break
        analyses = pool.analyse([after for _, _, after in todo], progress=progress)
        for (i, move, _), analysis in zip(todo, analyses, strict=True):
            if analysis is None:
                continue
            chances = win_chance(analysis.score, stable[i].position.board.turn)
            if stable[i].chances - chances >= margin:
                scored[i].append((chances, move))
    return [[move for _, move in sorted(s, key=lambda x: (-x[0], x[1].uci()))[:DISTRACTORS]] for s in scored]


__all__ = [
    "DISTRACTORS",
    "EXERCISE_COLUMNS",
    "EXERCISE_MARGIN",
    "MIN_PLY",
    "REVERIFY_FACTOR",
    "SCREEN_MARGIN",
    "SELECTION_BUFFER",
    "EXERCISE_STAGES",
    "ExerciseResult",
    "Position",
    "Trial",
    "margin_of",
    "exercise_batches",
    "mine_exercises",
    "plausible_moves",
]
