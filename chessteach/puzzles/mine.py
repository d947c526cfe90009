"""Mining puzzles from games: engine-verified only-move wins and forced mates after an opponent's mistake.

The definitions, applied to every game of a PGN file:

1. **Scan.** Every position of the game is analysed (multipv 1, through the pool, so a rerun is served
   from the cache).
2. **Candidates.** A candidate is the position after a move that Lichess judges a mistake or a blunder
   (:func:`~chessteach.engine.score.judge`), provided the side now to move (the *solver*) was not already
   winning before it: its winning chances were below :data:`WINNING_CHANCES` (0.6 on the -1..1 scale,
   about +375 cp). A position already mined from the same file is skipped.
3. **Line.** From the candidate, with multipv 2 analyses, each solver step must be an only move:

   - in a mating line (the first best move mates by force), every best move mates by force and the second
     best does not mate, or mates more slowly; after the first move, any move that mates at once will do
     (the verifier accepts every mating move), but a mate in one as the whole puzzle must be the only one;
     a mate found inside an advantage line ends that line before it;
   - otherwise the best move's winning chances are more than :data:`ONLY_MOVE_MARGIN` (0.7) above the
     second best's, and the solver wins: at the first step by Lichess's generator's rule
     (:func:`advantage_ok`: at least +200 cp, and +400 cp unless the solver is down in material), and later
     never :data:`MAX_ADVANTAGE_DROP` below the first step's winning chances (the verifier's "keeps the
     advantage" rule).

   A step that fails at the pool's node limit is searched again at :data:`RECHECK_FACTORS` times the nodes
   before the line gives up (Lichess generated its puzzles at 25 to 40 million nodes; the candidates are few).

   The best move is played, then the opponent's best reply (from a multipv 1 analysis of the position after
   the solver's move), and the line goes on while the steps pass, up to :data:`MAX_SOLVER_MOVES`. It ends on
   a solver move: a step that fails drops the opponent's reply before it. A mating line must end in
   checkmate; a one-mover is kept only when it mates; the first solver move may not be the only legal move.
4. **Verification.** Every puzzle goes through :func:`~chessteach.puzzles.verify.verify_puzzles` with the
   same pool; those that fail are dropped and counted.

A puzzle's ``fen`` is the position before the opponent's mistake and ``moves[0]`` is that mistake (the
setup move), as in Lichess's CSV. Its id is a short hash of the source file's name, the game's number and
the setup move's ply, so a rerun gives the same ids.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import chess
import chess.engine

from chessteach.batches import RunningProgress, batched, stage_progress
from chessteach.concepts.pieces import material_balance
from chessteach.engine import Analysis, EngineLimit, EnginePool, position_key, score_chances, win_chance
from chessteach.engine.score import Judgment, judge
from chessteach.games.filters import GameFilter
from chessteach.games.read import game_positions, read_games
from chessteach.puzzles.lichess_csv import LICHESS_COLUMNS
from chessteach.puzzles.puzzle import Puzzle, mates_at_once
from chessteach.puzzles.seen_ids import SeenIds
from chessteach.puzzles.tag import tag_puzzle
from chessteach.puzzles.verify import BLUNDER_MARGIN, Verdict, mate_for, verify_puzzles

logger = logging.getLogger(__name__)

WINNING_CHANCES = 0.6
"""Winning chances (-1..1) from which a side counts as winning (about +375 cp)."""

ADVANTAGE_CP = 200
"""The least an advantage puzzle's first move must win, in centipawns for the solver (Lichess's generator)."""

CLEAR_CP = 400
"""Below this (and from :data:`ADVANTAGE_CP`) the solver must be down in material before the first move (Lichess's
generator: "not clearly winning and not from being down in material")."""

ONLY_MOVE_MARGIN = 0.7
"""How far (in winning chances, -1..1) the best move must be above the second best to be an only move."""

MAX_ADVANTAGE_DROP = 0.3
"""A later solver step may not be this much below the first step's winning chances (the verifier's rule)."""

RECHECK_FACTORS = (4, 16)
"""A solver step that fails is searched again at these multiples of the node limit, in turn, before it fails."""

MAX_SOLVER_MOVES = 8
"""The longest solution mined, in solver moves."""

MISTAKES = (Judgment.MISTAKE, Judgment.BLUNDER)
"""The judgments of the opponent's move that make a candidate."""

MINED_COLUMNS = [*LICHESS_COLUMNS, "SourceFile", "SourceGame", "SourcePly"]
"""The columns of a mined puzzle file."""

MineProgress = Callable[[str, int, int], None]
"""Called as ``progress(stage, done, total)``; the stages are :data:`MINE_STAGES`."""

MINE_STAGES = ("games", "lines", "verify")
"""The stages of mining, as :data:`MineProgress` names them: the scan of every position, the line rounds, the
verification."""

GAME_BATCH = 200
"""Games mined at a time by :func:`mine_batches` (their boards and analyses are what memory holds)."""


@dataclass(frozen=True)
class Candidate:
    """A position after the opponent's mistake, where the solver may have an only-move win."""

    game: int
    ply: int
    """1-based ply of the opponent's mistake (the setup move) in the game's mainline."""
    before: chess.Board
    """The position before the mistake."""
    mistake: chess.Move
    source: str = ""
    """The PGN file's name."""
    site: str = ""
    """The game's Site header."""


@dataclass
class MineResult:
    """What mining a file gave: the verified puzzles and the counts behind them."""

    puzzles: list[Puzzle] = field(default_factory=list)
    games: int = 0
    bad_games: list[str] = field(default_factory=list)
    candidates: int = 0
    found: int = 0
    rejected: list[Verdict] = field(default_factory=list)

    @property
    def verified(self) -> int:
        return len(self.puzzles)

    @property
    def per_100_games(self) -> float:
        """Verified puzzles per 100 games read."""
        return 100 * self.verified / self.games if self.games else 0.0

    def add(self, other: MineResult) -> None:
        """Add another batch's puzzles and counts to these."""
        self.puzzles += other.puzzles
        self.games += other.games
        self.bad_games += other.bad_games
        self.candidates += other.candidates
        self.found += other.found
        self.rejected += other.rejected


def puzzle_id(source: str, game: int, ply: int) -> str:
    """A short, stable id from the source file's name, the game's number and the ply.

    >>> puzzle_id("games.pgn", 3, 41) == puzzle_id("/elsewhere/games.pgn", 3, 41)
    True
    """
    text = f"{os.path.basename(source)}:{game}:{ply}"
    return hashlib.sha1(text.encode()).hexdigest()[:8]


def find_candidates(
    boards: Sequence[chess.Board],
    moves: Sequence[chess.Move],
    analyses: Sequence[Analysis | None],
    *,
    game: int,
    source: str = "",
    site: str = "",
) -> list[Candidate]:
    """The positions of one game after a mistake or blunder by the side that just moved (see the module doc).

    ``boards`` and ``moves`` come from :func:`~chessteach.games.read.game_positions`; ``analyses`` has one
    (multipv 1) analysis per board.
    """
    out: list[Candidate] = []
    for i, move in enumerate(moves):
        before, after = analyses[i], analyses[i + 1]
        if before is None or after is None or not after.lines or not any(boards[i + 1].generate_legal_moves()):
            continue
        mover = boards[i].turn
        if judge(before.score, after.score, mover) not in MISTAKES:
            continue
        if win_chance(before.score, not mover) >= WINNING_CHANCES:
            continue  # the solver was already winning
        out.append(Candidate(game, i + 1, boards[i], move, source, site))
    return out


@dataclass
class _Line:
    """A line being built from a candidate."""

    candidate: Candidate
    solution: list[chess.Move] = field(default_factory=list)
    first_chances: float | None = None
    mating: bool = False
    done: bool = False
    failed: bool = False

    @property
    def solver(self) -> chess.Color:
        return not self.candidate.before.turn

    def end(self, *, drop_reply: bool = False) -> None:
        if drop_reply and len(self.solution) % 2 == 0 and self.solution:
            self.solution.pop()
        self.done = True


def _step_ok(line: _Line, board: chess.Board, analysis: Analysis, margin: float) -> bool:
    """Whether the engine's best move here is an only move that keeps the solver winning."""
    best = analysis.lines[0]
    if best.move is None:
        return False
    first = not line.solution
    if len(analysis.lines) < 2:  # the only legal move: fine inside a line, no puzzle if it is the first
        return not first and not line.mating
    best_score = best.score.pov(line.solver)
    alt_score = analysis.lines[1].score.pov(line.solver)
    best_mate = mate_for(best_score)
    if first:
        line.mating = best_mate is not None
    if line.mating:
        if best_mate is None:
            return False
        if not first and mates_at_once(board, best.move):
            return True  # any mate in one ends a longer line (the verifier accepts every mating move)
        alt_mate = mate_for(alt_score)
        return alt_mate is None or alt_mate > best_mate
    if best_mate is not None:
        return False  # a mate inside an advantage line: the line stops before it
    chances = score_chances(best_score)
    if chances - score_chances(alt_score) <= margin:
        return False
    if first:
        line.first_chances = chances
        return advantage_ok(board, best_score, line.solver)
    assert line.first_chances is not None
    return line.first_chances - chances < MAX_ADVANTAGE_DROP


def advantage_ok(board: chess.Board, score: chess.engine.Score, solver: chess.Color) -> bool:
    """Lichess's rule for the first move of an advantage puzzle: the best move wins at least
    :data:`ADVANTAGE_CP` for the solver, and at least :data:`CLEAR_CP` unless the solver, to move in ``board``,
    is down in material (a piece back by force is a puzzle; a small edge from level material is not).

    >>> board = chess.Board("4k3/8/8/8/8/8/4P3/4K3 w - - 0 1")
    >>> advantage_ok(board, chess.engine.Cp(450), chess.WHITE), advantage_ok(board, chess.engine.Cp(250), chess.WHITE)
    (True, False)
    >>> advantage_ok(board, chess.engine.Cp(250), chess.BLACK)
    True
    """
    cp = score.score(mate_score=100_000)
    assert cp is not None
    if cp < ADVANTAGE_CP:
        return False
    return cp >= CLEAR_CP or material_balance(board, solver) <= -1


def build_lines(
    candidates: Sequence[Candidate],
    pool: EnginePool,
    *,
    margin: float = ONLY_MOVE_MARGIN,
    progress: Callable[[int, int], None] | None = None,
    recheck: Sequence[int] = RECHECK_FACTORS,
) -> list[Puzzle]:
    """Extend each candidate into a puzzle line (see the module doc); candidates without one give none.

    All live lines advance together, one solver step and one reply per round, so the pool works on many
    positions at once. ``progress(round, max_rounds)`` is called after each round.
    """
    lines = [_Line(candidate) for candidate in candidates]
    for step in range(MAX_SOLVER_MOVES):
        live = [line for line in lines if not line.done]
        if not live:
            break
        boards = [_position(line) for line in live]
        analyses, passed = _solver_step(live, boards, pool, margin, recheck)
        for line, board, analysis, ok in zip(live, boards, analyses, passed, strict=True):
            if analysis is None or not ok:
                line.failed = not line.solution or line.mating
                line.end(drop_reply=True)
                continue
            move = analysis.lines[0].move
            assert move is not None
            line.solution.append(move)
            board.push(move)
            if board.is_game_over(claim_draw=False) or step + 1 == MAX_SOLVER_MOVES:
                line.failed = line.mating and not board.is_checkmate()
                line.end()
        replying = [line for line in lines if not line.done]
        boards = [_position(line) for line in replying]
        for line, board, analysis in zip(replying, boards, pool.analyse(boards, multipv=1), strict=True):
            reply = analysis.best_move if analysis is not None else None
            if reply is None:
                line.failed = line.mating
                line.end()
                continue
            line.solution.append(reply)
            board.push(reply)
            if not any(board.generate_legal_moves()):
                line.failed = line.mating
                line.end(drop_reply=True)
        if progress is not None:
            progress(step + 1, MAX_SOLVER_MOVES)
    puzzles = []
    for line in lines:
        if line.failed or not line.solution:
            continue
        if len(line.solution) == 1 and not line.mating:
            continue  # a one-mover only when it mates
        puzzles.append(_puzzle(line))
    return puzzles


def _solver_step(
    lines: Sequence[_Line], boards: Sequence[chess.Board], pool: EnginePool, margin: float, recheck: Sequence[int]
) -> tuple[list[Analysis | None], list[bool]]:
    """The multipv-2 analyses of the solver's positions, and whether each step passes (:func:`_step_ok`).

    A step that fails at the pool's node limit is searched again at :data:`RECHECK_FACTORS` times the nodes, one
    factor after the other, before the line is given up: the candidates are few, and an only move that a short
    search misses (Lichess searched its puzzles at 25 to 40 million nodes) is the puzzle the mining is for
    (``recheck`` gives the factors; empty, a failed step fails at once). A
    position with one legal move is not searched again (its step cannot change)."""
    analyses = pool.analyse(boards, multipv=2)
    passed = [a is not None and _step_ok(line, board, a, margin) for line, board, a in zip(lines, boards, analyses,
                                                                                           strict=True)]
    nodes = pool.limit.nodes
    for factor in recheck if nodes is not None else ():
        again = [i for i, ok in enumerate(passed) if not ok and (a := analyses[i]) is not None and len(a.lines) > 1]
        if not again:
            break
        assert nodes is not None
        deeper = pool.analyse([boards[i] for i in again], multipv=2, limit=EngineLimit(nodes=nodes * factor))
        for i, analysis in zip(again, deeper, strict=True):
            if analysis is not None:
                analyses[i] = analysis
                passed[i] = _step_ok(lines[i], boards[i], analysis, margin)
    return analyses, passed


def _position(line: _Line) -> chess.Board:
    """The line's current position: the candidate's, then the solution so far."""
    board = line.candidate.before.copy(stack=False)
    board.push(line.candidate.mistake)
    for move in line.solution:
        board.push(move)
    return board


def _puzzle(line: _Line) -> Puzzle:
    """The finished line as a tagged puzzle with its source columns."""
    c = line.candidate
    puzzle = Puzzle(id=puzzle_id(c.source, c.game, c.ply), fen=c.before.fen(), moves=[c.mistake, *line.solution])
    puzzle.extra = {
        "GameUrl": c.site if c.site.startswith(("http://", "https://")) else "",
        "SourceFile": c.source,
        "SourceGame": str(c.game),
        "SourcePly": str(c.ply),
    }
    puzzle.themes = tag_puzzle(puzzle)
    return puzzle


def mine_batches(
    path: str | os.PathLike[str],
    pool: EnginePool,
    *,
    margin: float = ONLY_MOVE_MARGIN,
    progress: MineProgress | None = None,
    only: GameFilter | None = None,
    size: int = GAME_BATCH,
    recheck: Sequence[int] = RECHECK_FACTORS,
) -> Iterator[MineResult]:
    """Mine a PGN file a batch of ``size`` games at a time: yields each batch's :class:`MineResult` (its puzzles,
    verified, and its counts) before the next batch is read, so memory holds one batch however large the file
    (a ``.pgn.zst`` of a month of Lichess games) and the caller can write each batch's puzzles as they come.

    The candidates already mined (by the position after the mistake) are remembered across batches in bounded
    memory (:class:`~chessteach.puzzles.seen_ids.SeenIds`), so a position repeated anywhere in the file is mined
    once, as in one batch. The results do not depend on ``size``: each game's analyses depend on the game alone,
    and each line's on its candidate. ``progress(stage, done, total)`` counts on over the batches (see
    :func:`mine_puzzles`).
    """
    if margin < BLUNDER_MARGIN:
        raise ValueError(f"the only-move margin must be at least {BLUNDER_MARGIN}, got {margin}")
    source = os.path.basename(os.fspath(path))
    stages = {name: RunningProgress(stage_progress(progress, name)) for name in MINE_STAGES}
    with SeenIds() as seen:
        for batch in batched(read_games(path, only=only), size):  # ``only`` passes games over at their headers
            result = MineResult(games=len(batch))
            games: list[tuple[int, str, list[chess.Board], list[chess.Move]]] = []
            for record in batch:
                if record.error is not None or record.game is None:
                    result.bad_games.append(record.error or f"{source}: game {record.number}: unreadable")
                    continue
                boards, moves = game_positions(record.game)
                games.append((record.number, record.headers.get("Site", ""), boards, moves))
            analyses = pool.analyse_games([boards for _, _, boards, _ in games], multipv=1, progress=stages["games"])
            candidates: list[Candidate] = []
            for (number, site, boards, moves), game_analyses in zip(games, analyses, strict=True):
                for candidate in find_candidates(boards, moves, game_analyses, game=number, source=source, site=site):
                    after = candidate.before.copy(stack=False)
                    after.push(candidate.mistake)
                    key = position_key(after)
                    if seen.line_of(key) is not None:
                        continue
                    seen.add(key, number)
                    candidates.append(candidate)
            del games, analyses
            result.candidates = len(candidates)
            found = (
                build_lines(candidates, pool, margin=margin, progress=stages["lines"], recheck=recheck)
                if candidates
                else []
            )
            result.found = len(found)
            verdicts = verify_puzzles(found, pool, progress=stages["verify"]) if found else []
            for puzzle, verdict in zip(found, verdicts, strict=True):
                if verdict.verified:
                    result.puzzles.append(puzzle)
                else:
                    result.rejected.append(verdict)
                    logger.warning(
                        "puzzle %s (game %s, ply %s) failed verification: %s",
                        puzzle.id,
                        puzzle.extra["SourceGame"],
                        puzzle.extra["SourcePly"],
                        verdict.reason,
                    )
            for running in stages.values():
                running.next_call()
            logger.info(
                "%s: a batch of %d games, %d candidates, %d puzzles found, %d verified",
                source, result.games, result.candidates, result.found, result.verified,
            )
            yield result


def mine_puzzles(
    path: str | os.PathLike[str],
    pool: EnginePool,
    *,
    margin: float = ONLY_MOVE_MARGIN,
    progress: MineProgress | None = None,
    only: GameFilter | None = None,
    size: int = GAME_BATCH,
    recheck: Sequence[int] = RECHECK_FACTORS,
) -> MineResult:
    """Mine verified, tagged puzzles from every game of a PGN file; bad games are reported and skipped.
    With ``only``, the games its headers filter drops are not counted and never analysed.

    ``margin`` is the only-move margin (winning chances, -1..1); it may not be below the verifier's
    :data:`~chessteach.puzzles.verify.BLUNDER_MARGIN`, or mined puzzles could not pass it; ``recheck``, the node
    factors a failing step is searched again at (:data:`RECHECK_FACTORS`). The work goes a batch
    of ``size`` games at a time (:func:`mine_batches`, which a caller that writes as it goes uses); this collects
    every batch's puzzles and counts. The example is not run as a doctest (minutes of engine time;
    ``tests/test_mine.py`` mines real games):

    >>> from chessteach.engine import EngineLimit
    >>> with EnginePool(limit=EngineLimit(nodes=100_000), workers=2) as pool:  # doctest: +SKIP
    ...     result = mine_puzzles("games.pgn", pool)
    """
    total = MineResult()
    for batch in mine_batches(path, pool, margin=margin, progress=progress, only=only, size=size, recheck=recheck):
        total.add(batch)
    source = os.path.basename(os.fspath(path))
    logger.info(
        "%s: %d games, %d candidates, %d puzzles found, %d verified, %d rejected",
        source, total.games, total.candidates, total.found, total.verified, len(total.rejected),
    )
    return total
