"""The engine pool, against the real Stockfish: reproducibility, the cache, histories, hung and crashing engines
(killed engines, interrupts and dead workers: tests/test_pool_faults.py)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import chess
import chess.engine
import chess.pgn
import pytest

from chessteach.engine import (
    Analysis,
    AnalysisCache,
    EngineConfig,
    EngineInput,
    EngineLimit,
    EngineLine,
    EnginePool,
    engine_board,
    load_config,
    position_key,
    repeated_positions,
)
from chessteach.games.read import game_inputs, game_positions
from chessteach.games.review import review_games

NODES = 20_000


def first_game_positions(pgn: Path, number: int = 1, limit: int | None = None) -> list[chess.Board]:
    with open(pgn) as fh:
        for _ in range(number - 1):
            chess.pgn.skip_game(fh)
        game = chess.pgn.read_game(fh)
    assert game is not None
    boards, _ = game_positions(game)
    return boards[:limit] if limit else boards


def solo_analysis(config: EngineConfig, boards: list[chess.Board]) -> list[tuple[str, list[str], int]]:
    """One engine, alone, analysing one game in order at the same limit and options, each position from a fresh
    state (a new game for python-chess: ``ucinewgame``)."""
    engine = chess.engine.SimpleEngine.popen_uci(config.path)
    try:
        engine.configure(config.options)
        out = []
        for board in boards:
            [info] = engine.analyse(
                chess.Board(board.fen()),
                chess.engine.Limit(nodes=NODES),
                multipv=1,
                game=object(),
                info=chess.engine.INFO_BASIC | chess.engine.INFO_SCORE | chess.engine.INFO_PV,
            )
            out.append((str(info["score"].white()), [m.uci() for m in info["pv"]], info["nodes"]))
        return out
    finally:
        engine.quit()


def summary(analyses: list) -> list[tuple[str, list[str], int]]:  # type: ignore[type-arg]
    return [(str(a.score.white()), [m.uci() for m in a.best.pv], a.nodes) for a in analyses]


@pytest.fixture(scope="module")
def config() -> EngineConfig:
    return load_config()


@pytest.fixture(scope="module")
def two_games(pgn_dir: Path) -> tuple[list[chess.Board], list[chess.Board]]:
    pgn = pgn_dir / "candidates-madrid-2022.pgn"
    return first_game_positions(pgn, 1, 40), first_game_positions(pgn, 2, 40)


def test_pool_matches_one_engine_analysing_the_game_alone(config: EngineConfig, two_games) -> None:  # type: ignore[no-untyped-def]
    game_a, game_b = two_games
    expected_a = solo_analysis(config, game_a)
    expected_b = solo_analysis(config, game_b)
    # Two workers, two games at once.
    with EnginePool(limit=EngineLimit(nodes=NODES), workers=2, config=config) as pool:
        got_a, got_b = pool.analyse_games([game_a, game_b])
    assert summary(got_a) == expected_a
    assert summary(got_b) == expected_b
    # One worker that analysed another game first: each search starts from a fresh state.
    with EnginePool(limit=EngineLimit(nodes=NODES), workers=1, config=config) as pool:
        _, got_a_after_b = pool.analyse_games([game_b, game_a])
    assert summary(got_a_after_b) == expected_a


def test_one_game_is_shared_out_between_the_workers(config: EngineConfig, two_games) -> None:  # type: ignore[no-untyped-def]
    """One game, two workers: each engine takes half of it; every search starts from a fresh state, so the result
    is exactly one solo engine's on the whole game, in the game's order."""
    game_a, _ = two_games
    expected = solo_analysis(config, game_a)
    with EnginePool(limit=EngineLimit(nodes=NODES), workers=2, config=config) as pool:
        [got] = pool.analyse_games([game_a])
        assert len(pool.engine_pids()) == 2  # both engines worked on the one game
    assert summary(got) == expected
    assert [a.fen for a in got] == [b.fen() for b in game_a]


def test_rerun_is_served_from_the_cache(config: EngineConfig, two_games, cache_path: Path) -> None:  # type: ignore[no-untyped-def]
    game_a, game_b = two_games
    with AnalysisCache(cache_path) as cache, EnginePool(
        limit=EngineLimit(nodes=NODES), workers=2, config=config, cache=cache
    ) as pool:
        first = pool.analyse_games([game_a, game_b])
        assert pool.engines_started >= 2
    with AnalysisCache(cache_path) as cache, EnginePool(
        limit=EngineLimit(nodes=NODES), workers=2, config=config, cache=cache
    ) as pool:
        second = pool.analyse_games([game_a, game_b])
        assert pool.engines_started == 0, "a rerun must not start any engine process"
    assert [summary(g) for g in second] == [summary(g) for g in first]
    # Another limit is another key: nothing is served for it.
    with AnalysisCache(cache_path) as cache:
        assert cache.get_many([b.epd() for b in game_a], pool.engine_id, "nodes=1", 1) == {}


def test_analyses_cached_under_the_old_hash_policy_are_not_reused(config: EngineConfig) -> None:
    """Earlier versions kept the hash within a game (results that depend on the run's history) and stored them
    under the bare limit; the key now names the search state, so those entries are never served."""
    board = chess.Board()
    cache = AnalysisCache(":memory:")
    with EnginePool(limit=EngineLimit(nodes=NODES), workers=1, config=config, cache=cache) as pool:
        assert pool.search_key() == f"nodes={NODES} state=position"
        stale = Analysis(board.fen(), [EngineLine(chess.engine.PovScore(chess.engine.Cp(999), chess.WHITE), [])], 1, 1,
                         pool.engine_id)
        cache.put(board.epd(), EngineLimit(nodes=NODES).key, 1, stale)  # as earlier versions stored it
        [fresh] = pool.analyse([board])
        assert pool.searches == 1
    assert fresh is not None and fresh.score.white() != chess.engine.Cp(999)


def test_hung_engine_times_out_and_is_restarted(config: EngineConfig, two_games) -> None:  # type: ignore[no-untyped-def]
    game_a, _ = two_games
    impatient = EngineConfig(config.path, config.options, timeout=1.0)
    stopped: list[int] = []
    with EnginePool(limit=EngineLimit(nodes=NODES), workers=1, config=impatient) as pool:

        def freeze(done: int, total: int) -> None:
            if done == 3 and not stopped:
                pid = pool.engine_pids()[0]
                os.kill(pid, signal.SIGSTOP)  # hangs: the process neither answers nor dies
                stopped.append(pid)

        [results] = pool.analyse_games([game_a[:8]], progress=freeze)
    assert stopped
    assert all(a is not None for a in results)
    with pytest.raises(ProcessLookupError):
        os.kill(stopped[0], 0)  # the frozen process was killed, not left behind


def test_position_that_crashes_the_engine_is_reported_and_the_run_goes_on(config: EngineConfig) -> None:
    no_black_king = chess.Board("8/8/8/8/8/8/8/K7 w - - 0 1")  # Stockfish dies on it (SIGSEGV)
    boards = [chess.Board(), no_black_king, chess.Board("8/8/8/8/8/8/1k6/K7 w - - 0 1")]
    with EnginePool(limit=EngineLimit(nodes=2_000), workers=1, config=config) as pool:
        results = pool.analyse(boards)
    assert results[0] is not None and results[2] is not None
    assert results[1] is None
    [failure] = pool.failures
    assert failure.fen == no_black_king.fen()
    assert "EngineTerminatedError" in failure.error


def test_positions_without_legal_moves_need_no_engine(config: EngineConfig) -> None:
    mate = chess.Board("7k/6Q1/6K1/8/8/8/8/8 b - - 0 1")
    stalemate = chess.Board("7k/5Q2/6K1/8/8/8/8/8 b - - 0 1")
    with EnginePool(limit=EngineLimit(nodes=NODES), workers=1, config=config) as pool:
        a, b = pool.analyse([mate, stalemate])
        assert pool.engines_started <= 1  # at most the one that tells the engine's name
    assert a is not None and a.score.white() == chess.engine.MateGiven
    assert b is not None and b.score.white() == chess.engine.Cp(0)


# Nepomniachtchi - Caruana, Madrid 2022 round 2 (game 7 of the file), before White's 33rd move, the last of the
# game (a draw): the position stands on the board for the second time. Black is better on the board; with the
# game's history the engine finds that repeating once more (Bc1, as played) draws.
REPETITION_GAME = 7
REPETITION_PLY = 64


def _repetition_game(pgn_dir: Path) -> chess.pgn.Game:
    with open(pgn_dir / "candidates-madrid-2022.pgn") as fh:
        for _ in range(REPETITION_GAME - 1):
            chess.pgn.skip_game(fh)
        game = chess.pgn.read_game(fh)
    assert game is not None
    return game


def test_repetitions_of_the_game_reach_the_engine(config: EngineConfig, pgn_dir: Path) -> None:
    game = _repetition_game(pgn_dir)
    played = game_inputs(game)[REPETITION_PLY]
    bare = game_positions(game)[0][REPETITION_PLY]
    assert played.board.fen() == bare.fen() == "1r2r3/5p1k/p2p1q1p/2b1nPpQ/p7/6RP/BBR2PPK/8 w - - 9 33"
    assert played.repeated and not repeated_positions(bare)
    assert position_key(bare) == bare.epd() and played.key.startswith(bare.epd() + " | repeated: ")
    # The same key and history from the board with its move stack, as from the walk over the game.
    stacked = played.engine_board()
    assert position_key(stacked) == played.key and repeated_positions(stacked) == list(played.repeated)
    assert engine_board(stacked).move_stack == stacked.move_stack == list(played.moves)
    with EnginePool(limit=EngineLimit(nodes=NODES), workers=1, config=config, cache=AnalysisCache(":memory:")) as pool:
        with_history, alone = pool.analyse([played, bare])
        assert pool.searches == 2  # two keys, two searches
    assert with_history is not None and alone is not None
    assert with_history.score.white() == chess.engine.Cp(0)  # Bc1 repeats: a draw
    assert (alone.score.white().score() or 0) <= -30  # without the history, Black is better


def test_review_judges_the_moves_with_the_game_history(config: EngineConfig, pgn_dir: Path) -> None:
    game = _repetition_game(pgn_dir)
    with EnginePool(limit=EngineLimit(nodes=NODES), workers=2, config=config, cache=AnalysisCache(":memory:")) as pool:
        [review] = review_games([game], pool)
    move = review.moves[REPETITION_PLY]  # White's 33rd move, from the position above
    assert move.fen_before == "1r2r3/5p1k/p2p1q1p/2b1nPpQ/p7/6RP/BBR2PPK/8 w - - 9 33"
    assert move.eval_before.white() == chess.engine.Cp(0)


def test_game_inputs_agree_with_each_board_and_its_move_stack(pgn_dir: Path) -> None:
    """The walk over the game (one EPD per position) gives every position the key and history that its board with
    the game's moves on its stack gives alone."""
    game = _repetition_game(pgn_dir)
    inputs = game_inputs(game)
    board = game.board()
    stacked = [board.copy()]
    for move in game.mainline_moves():
        board.push(move)
        stacked.append(board.copy())
    assert [EngineInput.of(b).key for b in stacked] == [i.key for i in inputs]
    assert [engine_board(b).move_stack for b in stacked] == [list(i.moves) for i in inputs]
    assert sum(bool(i.repeated) for i in inputs) >= 2


def shuffle_game(plies: int) -> chess.pgn.Game:
    """Knights out and back, for ``plies`` plies: no capture, no pawn move, and positions that come back again and
    again (python-chess plays on past a threefold repetition or the fifty moves: neither was claimed)."""
    cycle = ["g1f3", "g8f6", "b1c3", "b8c6", "f3g1", "f6g8", "c3b1", "c6b8", "g1h3", "g8h6", "h3g1", "h6g8"]
    game = chess.pgn.Game()
    node: chess.pgn.GameNode = game
    for ply in range(plies):
        node = node.add_variation(chess.Move.from_uci(cycle[ply % len(cycle)]))
    return game


def test_histories_of_a_long_game_are_prepared_in_linear_time() -> None:
    """2,000 plies without a capture or pawn move: walking back the whole stack for each position took minutes
    (69 s and more). Now one EPD per position: about what replaying the game and writing each EPD costs (measured
    alongside, as the machine's load varies)."""
    game = shuffle_game(2_000)
    start = time.perf_counter()
    board = game.board()
    for move in game.mainline_moves():
        board.push(move)
        board.epd()
    replay = time.perf_counter() - start
    start = time.perf_counter()
    inputs = game_inputs(game)
    seconds = time.perf_counter() - start
    assert len(inputs) == 2_001
    assert seconds < 3 * replay + 0.5 and seconds < 10, f"{seconds:.2f} s against {replay:.2f} s for the replay"
    assert all(i.repeated for i in inputs[8:]) and len(inputs[-1].moves) == 2_000
    board = game.end().board()  # the last position with its whole stack, alone: the same key and history
    assert EngineInput.of(board).key == inputs[-1].key
    assert engine_board(board).move_stack == list(inputs[-1].moves)
