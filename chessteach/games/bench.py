"""The game-review benchmark: a whole PGN reviewed at a fixed node limit, against the engine-bound limit.

The limit is the time the searches alone need: ``positions x nodes / (single-thread nodes/s x workers)``,
with Stockfish's own ``bench`` speed measured in the same run. The ratio is that time over the measured
one (1.0: the review costs nothing beyond the searches).
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import chess
import chess.engine

from chessteach.engine import (
    AnalysisCache,
    EngineInput,
    EngineLimit,
    EnginePool,
    Judgment,
    judge,
)
from chessteach.engine.bench import solo_run, stockfish_bench_nps
from chessteach.engine.config import EngineConfig
from chessteach.engine.pool import Progress
from chessteach.games.budget import AdaptiveBudget, adaptive_analyses
from chessteach.games.read import game_inputs, read_games
from chessteach.games.review import MoveReview, review_game, review_games

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReviewBenchResult:
    games: int
    positions: int
    engine_positions: int
    nodes: int
    nodes_searched: int
    workers: int
    seconds: float
    single_thread_nps: int
    bare_positions: int = 0
    bare_seconds: float = 0.0
    bare_nodes: int = 0

    @property
    def bare_nps(self) -> float:
        """One engine alone (python-chess, no pool) on a sample of the same positions, by wall clock."""
        return self.bare_nodes / self.bare_seconds if self.bare_seconds else 0.0

    @property
    def bare_ratio(self) -> float:
        """Nodes searched per second by the pool against ``workers x`` one bare engine on these positions."""
        return self.nodes_searched / self.seconds / (self.workers * self.bare_nps) if self.bare_nps else 0.0

    @property
    def games_per_minute(self) -> float:
        return 60 * self.games / self.seconds

    @property
    def limit_seconds(self) -> float:
        """positions x nodes / (nps x workers): the searches alone, at the full node limit."""
        return self.engine_positions * self.nodes / (self.single_thread_nps * self.workers)

    @property
    def ratio(self) -> float:
        return self.limit_seconds / self.seconds

    @property
    def node_ratio(self) -> float:
        """Nodes actually searched per second against ``nps x workers``."""
        return self.nodes_searched / self.seconds / (self.single_thread_nps * self.workers)


def run_review_bench(
    pgn: Path,
    *,
    config: EngineConfig,
    nodes: int,
    workers: int,
    bare_sample: int = 20,
    progress: Progress | None = None,
) -> ReviewBenchResult:
    """Review every readable game of ``pgn`` with a fresh cache; time it against the engine-bound limit.

    Side by side in the same run: Stockfish's own ``bench`` speed, and one bare engine (python-chess, no
    pool, no cache) on every ``bare_sample``-th position, which gives Stockfish's real speed on these
    positions (balanced game positions search slower than ``bench``'s).
    """
    nps = stockfish_bench_nps(config.path)
    games = [r.game for r in read_games(pgn) if r.game is not None and r.error is None]
    inputs = [i for g in games for i in game_inputs(g)]
    sample = [i.engine_board() for i in inputs[::bare_sample] if any(i.board.generate_legal_moves())]
    bare_seconds, bare_nodes = solo_run(config, sample, EngineLimit(nodes=nodes))
    engine_positions = sum(1 for i in inputs if any(i.board.generate_legal_moves()))
    with tempfile.TemporaryDirectory() as tmp, AnalysisCache(Path(tmp) / "bench.sqlite") as cache, EnginePool(
        limit=EngineLimit(nodes=nodes), workers=workers, config=config, cache=cache
    ) as pool:
        _ = pool.engine_id
        start = time.perf_counter()
        reviews = review_games(games, pool, progress=progress)
        seconds = time.perf_counter() - start
        # Every distinct position was analysed once; read the nodes back from the cache.
        searched = 0
        seen = set()
        for position in inputs:
            key = position.key
            if key in seen:
                continue
            seen.add(key)
            analysis = cache.get(key, pool.engine_id, pool.search_key(), 1)
            searched += analysis.nodes if analysis is not None else 0
    assert len(reviews) == len(games)
    return ReviewBenchResult(
        games=len(games),
        positions=len(inputs),
        engine_positions=engine_positions,
        nodes=nodes,
        nodes_searched=searched,
        workers=workers,
        seconds=seconds,
        single_thread_nps=nps,
        bare_positions=len(sample),
        bare_seconds=bare_seconds,
        bare_nodes=bare_nodes,
    )


@dataclass(frozen=True)
class NodeStudyRow:
    """How a review under one budget (a fixed node limit, or an adaptive budget) compares with the review at the
    reference (the largest fixed limit). ``seconds`` is measured for a fixed limit (its own searches, a fresh
    cache); for an adaptive budget it is :meth:`modelled`: its searches at each step, counted, times the time a
    search at that node limit took in the fixed runs (``measured`` says which)."""

    scheme: str
    seconds: float
    measured: bool
    searches: dict[int, int]
    """Searches run at each node limit."""
    moves: int
    judgment_agreement: float
    flagged_agreement: float
    flagged_same: float
    best_move_agreement: float
    mean_win_error: float

    @property
    def nodes(self) -> int:
        """The nodes of all its searches."""
        return sum(nodes * count for nodes, count in self.searches.items())


def run_nodes_study(
    pgn: Path,
    *,
    config: EngineConfig,
    node_limits: list[int],
    workers: int,
    games: int,
    budgets: Sequence[AdaptiveBudget] = (),
    progress: Progress | None = None,
) -> list[NodeStudyRow]:
    """Review the first ``games`` games at each node limit and under each adaptive budget, and compare each
    review with the one at the largest limit (the reference).

    Each fixed limit runs with its own pool and a fresh cache, timed; their searches stay in one cache (keyed by
    the node limit, so no fixed run is served another's), from which the adaptive budgets take the searches of
    their steps: an adaptive budget's steps must be among ``node_limits``, and its time is modelled from the
    fixed runs' time per search at each step (:class:`NodeStudyRow`).

    ``judgment_agreement``: the share of moves with the same judgment (none included); ``flagged_agreement``:
    of the moves either review judges a mistake or a blunder, the share both do (``flagged_same``: with the same
    one of the two); ``mean_win_error``: the mean absolute difference of the mover's win% after the move.
    """
    chosen = [r.game for r in read_games(pgn) if r.game is not None and r.error is None][:games]
    limits = sorted(set(node_limits))
    for budget in budgets:
        missing = [n for n in budget.steps if n not in limits]
        if missing:
            raise ValueError(f"{budget.key}: its steps {missing} are not among the node limits {limits}")
        if budget.nodes != limits[-1]:
            raise ValueError(f"{budget.key}: its full budget must be the reference, {limits[-1]:,} nodes")
    runs: dict[str, tuple[float, bool, dict[int, int], list[MoveReview]]] = {}
    per_search: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as tmp, AnalysisCache(Path(tmp) / "study.sqlite") as cache:
        for nodes in limits:
            with EnginePool(limit=EngineLimit(nodes=nodes), workers=workers, config=config, cache=cache) as pool:
                _ = pool.engine_id
                start = time.perf_counter()
                reviews = review_games(chosen, pool, progress=progress)
                seconds = time.perf_counter() - start
                per_search[nodes] = seconds / max(1, pool.searches)
                runs[f"{nodes:,}"] = (seconds, True, {nodes: pool.searches}, [m for r in reviews for m in r.moves])
        inputs = [game_inputs(g) for g in chosen]
        for budget in budgets:
            searches: Counter[int] = Counter()
            with EnginePool(limit=EngineLimit(nodes=budget.nodes), workers=workers, config=config, cache=cache) as pool:
                analyses = adaptive_analyses(inputs, pool, budget, progress=progress, searches=searches)
            reviews = [review_game(g, a) for g, a in zip(chosen, analyses, strict=True)]
            modelled = sum(count * per_search[nodes] for nodes, count in searches.items())
            runs[budget.key] = (modelled, False, dict(searches), [m for r in reviews for m in r.moves])
    _, _, _, reference = runs[f"{limits[-1]:,}"]
    rows = []
    for scheme, (seconds, measured, counts, moves) in runs.items():
        pairs = list(zip(moves, reference, strict=True))
        flagged = [(a, b) for a, b in pairs if _serious(a.judgment) or _serious(b.judgment)]
        rows.append(
            NodeStudyRow(
                scheme=scheme,
                seconds=seconds,
                measured=measured,
                searches=counts,
                moves=len(pairs),
                judgment_agreement=sum(a.judgment == b.judgment for a, b in pairs) / len(pairs),
                flagged_agreement=_share(flagged, lambda a, b: _serious(a.judgment) and _serious(b.judgment)),
                flagged_same=_share(flagged, lambda a, b: a.judgment == b.judgment),
                best_move_agreement=sum(a.best_san == b.best_san for a, b in pairs) / len(pairs),
                mean_win_error=sum(abs(a.win_after - b.win_after) for a, b in pairs) / len(pairs),
            )
        )
    return rows


def _share(pairs: Sequence[tuple[MoveReview, MoveReview]], same: Callable[[MoveReview, MoveReview], bool]) -> float:
    return sum(same(a, b) for a, b in pairs) / len(pairs) if pairs else 1.0


def _serious(judgment: Judgment | None) -> bool:
    return judgment in (Judgment.MISTAKE, Judgment.BLUNDER)


@dataclass(frozen=True)
class HistoryBenchResult:
    """What sending the game's repetitions to the engine changes (see :func:`run_history_bench`)."""

    games: int
    positions: int
    """Positions of all the games (each ply, and the final one)."""
    with_repetitions: int
    """Positions whose history holds a repeated position (:func:`~chessteach.engine.repeated_positions`)."""
    games_with_repetitions: int
    eval_changed: int
    """Of those, how many get another evaluation (white's view) with the history than without."""
    drawn_with_history: int
    """Of those, how many the engine scores exactly 0.00 with the history and not without: a repetition draw."""
    moves_judged: int
    """Moves into or out of such a position, judged both ways."""
    judgments_changed: int
    """Of those, how many get another Lichess judgment (inaccuracy, mistake, blunder or none)."""
    seconds: float


def run_history_bench(
    pgns: Sequence[Path], pool: EnginePool, *, progress: Progress | None = None
) -> HistoryBenchResult:
    """Analyse every position whose history holds a repeated position, and its neighbours, with the game's
    history (as a review does) and as a bare FEN (as before), side by side through the same pool; count the
    evaluations and the judgments that differ."""
    start = time.perf_counter()
    games = [r.game for pgn in pgns for r in read_games(pgn) if r.game is not None and r.error is None]
    positions = 0
    jobs: list[tuple[list[EngineInput], set[int]]] = []  # a game's positions, and where they hold repetitions
    for game in games:
        boards = game_inputs(game)
        positions += len(boards)
        repeated = {i for i, position in enumerate(boards) if position.repeated}
        if repeated:
            jobs.append((boards, repeated))
    wanted = [
        (j, i)
        for j, (boards, repeated) in enumerate(jobs)
        for i in sorted({k + step for k in repeated for step in (-1, 0, 1)})
        if 0 <= i < len(boards)
    ]
    history = pool.analyse([jobs[j][0][i] for j, i in wanted], progress=progress)
    with_history = dict(zip(wanted, history, strict=True))
    # A neighbour without repetitions goes to the engine as a bare FEN either way: only the others twice.
    repeated_at = [(j, i) for j, i in wanted if i in jobs[j][1]]
    bare = pool.analyse([jobs[j][0][i].board for j, i in repeated_at], progress=progress)
    without = {**with_history, **dict(zip(repeated_at, bare, strict=True))}
    changed = drawn = judged = judgments = 0
    for j, (boards, repeated) in enumerate(jobs):
        for i in repeated:
            h, b = with_history[j, i], without[j, i]
            if h is not None and b is not None:
                changed += h.score.white() != b.score.white()
                drawn += h.score.white() == chess.engine.Cp(0) != b.score.white()
        for i in range(len(boards) - 1):  # the move from board i to board i + 1
            if i not in repeated and i + 1 not in repeated:
                continue
            hb, ha, bb, ba = with_history[j, i], with_history[j, i + 1], without[j, i], without[j, i + 1]
            if hb is None or ha is None or bb is None or ba is None:
                continue
            mover = boards[i].board.turn
            judged += 1
            judgments += judge(hb.score, ha.score, mover) is not judge(bb.score, ba.score, mover)
    return HistoryBenchResult(
        games=len(games),
        positions=positions,
        with_repetitions=sum(len(repeated) for _, repeated in jobs),
        games_with_repetitions=len(jobs),
        eval_changed=changed,
        drawn_with_history=drawn,
        moves_judged=judged,
        judgments_changed=judgments,
        seconds=time.perf_counter() - start,
    )


@dataclass(frozen=True)
class ReproducibilityRun:
    """One review of the chosen games under one search-state policy (see :func:`run_reproducibility_bench`)."""

    scheme: str
    seconds: float
    load: tuple[float, float]
    """The 1-minute load average before and after the run (the machine is shared)."""
    failures: int = 0
    """Positions the engine failed on twice (their moves are left out of every comparison)."""


@dataclass(frozen=True)
class ReproducibilityRow:
    """A scheme's agreement with the reference review, move by move (the position before each move), over the
    moves every run reviewed."""

    scheme: str
    runs: list[ReproducibilityRun]
    moves: int
    same_best_move: list[bool]
    same_judgment: list[bool]
    eval_close: list[bool]
    """The mover's winning chances (-1..1) before the move within 0.1 of the reference's."""
    same_as_clean: float | None = None
    """For the interrupted scheme: the share of moves with exactly the clean run's analysis (eval and best move)."""


REPRODUCIBILITY_SCHEMES = ("position", "game", "game, resumed mid-game")

_Moves = dict[tuple[int, int], MoveReview]
"""A review's moves by (game, ply)."""


def _agreement(moves: _Moves, reference: _Moves, keys: Sequence[tuple[int, int]]) -> tuple[list[bool], ...]:
    """Per move of ``keys``: the same best move, the same judgment, the eval within 0.1 winning chances."""
    pairs = [(moves[k], reference[k]) for k in keys]
    return (
        [a.best_san == b.best_san for a, b in pairs],
        [a.judgment == b.judgment for a, b in pairs],
        [abs(a.win_before - b.win_before) <= 5.0 for a, b in pairs],  # 5 win% points = 0.1 winning chances
    )


def run_reproducibility_bench(
    pgn: Path,
    *,
    config: EngineConfig,
    nodes: int,
    reference_nodes: int,
    workers: int,
    games: int,
    rounds: int = 2,
    progress: Progress | None = None,
) -> list[ReproducibilityRow]:
    """The search-state policies side by side in one process, on the first ``games`` games of ``pgn``.

    ``position``: a fresh search state for every position; ``game``: the hash kept within a game (cleared between
    games); ``game, resumed mid-game``: the same with the last two thirds of each game searched as a game of its
    own, as after an engine restart or a resume from the cache. The reference is the ``game`` policy at
    ``reference_nodes`` (the best-informed search: it favours ``game``, if anything). The two policies run
    ``rounds`` times each, interleaved (ABBA...), so that a change of the machine's load hits both; the resumed
    scheme runs last, once. No cache: every run searches every position. Each run is logged with its agreement as
    it ends. A position the engine fails on (a process killed by the system, say) leaves its moves out.
    """
    chosen = [r.game for r in read_games(pgn) if r.game is not None and r.error is None][:games]
    positions = [game_inputs(g) for g in chosen]
    reference: _Moves = {}

    def review(state: str, limit: int, *, resumed: bool = False) -> tuple[_Moves, ReproducibilityRun]:
        load = os.getloadavg()[0]
        with EnginePool(
            limit=EngineLimit(nodes=limit), workers=workers, config=config, search_state=state  # type: ignore[arg-type]
        ) as pool:
            _ = pool.engine_id
            start = time.perf_counter()
            if resumed:
                cut = [len(boards) // 3 for boards in positions]
                halves = [part for b, c in zip(positions, cut, strict=True) for part in (b[:c], b[c:])]
                parts = pool.analyse_games(halves, progress=progress)
                analyses = [parts[2 * i] + parts[2 * i + 1] for i in range(len(positions))]
            else:
                analyses = pool.analyse_games(positions, progress=progress)
            seconds = time.perf_counter() - start
            failures = len(pool.failures)
        reviews = [review_game(g, a) for g, a in zip(chosen, analyses, strict=True)]
        moves = {(gi, m.ply): m for gi, r in enumerate(reviews) for m in r.moves}
        run = ReproducibilityRun(
            "game, resumed mid-game" if resumed else state, seconds, (load, os.getloadavg()[0]), failures
        )
        if reference:
            common = [k for k in moves if k in reference]
            best, judgment, close = (sum(v) / len(v) for v in _agreement(moves, reference, common))
            logger.info(
                "%s, %d nodes: %.1f s, load %.1f-%.1f, %d failed; against the reference: best move %.3f, "
                "judgment %.3f, eval within 0.1 %.3f (%d moves)",
                run.scheme, limit, seconds, *run.load, failures, best, judgment, close, len(common),
            )
        else:
            logger.info("reference (%s, %d nodes): %.1f s, load %.1f-%.1f, %d failed", state, limit, seconds,
                        *run.load, failures)
        return moves, run

    reference, _ = review("game", reference_nodes)
    runs: dict[str, list[ReproducibilityRun]] = {name: [] for name in REPRODUCIBILITY_SCHEMES}
    results: dict[str, _Moves] = {}
    order = [("position", "game") if r % 2 == 0 else ("game", "position") for r in range(rounds)]
    for pair in order:
        for state in pair:
            got, run = review(state, nodes)
            if state in results:
                same = [k for k in got if k in results[state]]
                if any(got[k] != results[state][k] for k in same):
                    raise RuntimeError(f"two clean runs of the {state!r} policy differ: is the engine deterministic?")
                got = {k: got[k] for k in same}
            results[state] = got
            runs[state].append(run)
    results["game, resumed mid-game"], run = review("game", nodes, resumed=True)
    runs["game, resumed mid-game"].append(run)

    common = [k for k in reference if all(k in r for r in results.values())]
    rows = []
    for name in REPRODUCIBILITY_SCHEMES:
        best, judgment, close = _agreement(results[name], reference, common)
        same_as_clean = None
        if name == "game, resumed mid-game":
            clean = results["game"]
            same_as_clean = sum(
                (results[name][k].eval_before, results[name][k].best_san) == (clean[k].eval_before, clean[k].best_san)
                for k in common
            ) / len(common)
        rows.append(ReproducibilityRow(name, runs[name], len(common), best, judgment, close, same_as_clean))
    return rows
