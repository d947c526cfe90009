"""Reviewing a game move by move: evaluations, win%, Lichess judgments and accuracy.

Each position of the game is analysed once; the position after one move is the position before the
next, so ``n`` moves need ``n + 1`` analyses.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import chess
import chess.engine
import chess.pgn

from chessteach.engine import Analysis, EnginePool, Judgment, clamp_cp, game_accuracy, judge, move_accuracy
from chessteach.engine.pool import Progress
from chessteach.engine.score import score_win_percent

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MoveReview:
    """The engine's verdict on one move. Win% and centipawns are from the mover's point of view."""

    ply: int
    san: str
    uci: str
    color: chess.Color
    fen_before: str
    eval_before: chess.engine.PovScore
    eval_after: chess.engine.PovScore
    win_before: float
    win_after: float
    accuracy: float
    cp_loss: int
    judgment: Judgment | None
    best_san: str | None
    best_pv_san: list[str]

    @property
    def move_number(self) -> int:
        return (self.ply + 1) // 2

    @property
    def win_drop(self) -> float:
        return self.win_before - self.win_after


@dataclass
class SideStats:
    """Per side: Lichess accuracy, average centipawn loss and the judgments' counts."""

    accuracy: float | None
    acpl: float | None
    inaccuracies: int = 0
    mistakes: int = 0
    blunders: int = 0


@dataclass
class GameReview:
    headers: dict[str, str]
    moves: list[MoveReview]
    white: SideStats
    black: SideStats
    errors: list[str] = field(default_factory=list)


def game_positions(game: chess.pgn.Game) -> tuple[list[chess.Board], list[chess.Move]]:
    """The boards before each mainline move plus the final board, and the moves."""
    board = game.board()
    boards = [board.copy(stack=False)]
    moves = []
    for move in game.mainline_moves():
        moves.append(move)
        board.push(move)
        boards.append(board.copy(stack=False))
    return boards, moves


def _side_stats(moves: Sequence[MoveReview], color: chess.Color, accuracy: float | None) -> SideStats:
    own = [m for m in moves if m.color == color]
    return SideStats(
        accuracy=accuracy,
        acpl=(sum(m.cp_loss for m in own) / len(own)) if own else None,
        inaccuracies=sum(m.judgment is Judgment.INACCURACY for m in own),
        mistakes=sum(m.judgment is Judgment.MISTAKE for m in own),
        blunders=sum(m.judgment is Judgment.BLUNDER for m in own),
    )


def review_game(game: chess.pgn.Game, analyses: Sequence[Analysis | None]) -> GameReview:
    """Review a game from the analyses of its positions (``len(moves) + 1`` of them, in order).

    A move whose position before or after has no analysis (the engine failed twice) is skipped and noted
    in ``errors``.
    """
    boards, moves = game_positions(game)
    if len(analyses) != len(boards):
        raise ValueError(f"expected {len(boards)} analyses (moves + 1), got {len(analyses)}")
    start_ply = boards[0].ply()
    reviews: list[MoveReview] = []
    errors: list[str] = []
    white_cps: list[int] = []
    for i, move in enumerate(moves):
        board, before, after = boards[i], analyses[i], analyses[i + 1]
        ply = start_ply + i + 1
        if before is None or after is None:
            errors.append(f"ply {ply}: no engine analysis; move skipped")
            continue
        mover = board.turn
        eval_before, eval_after = before.score, after.score
        win_before = score_win_percent(eval_before, mover)
        win_after = score_win_percent(eval_after, mover)
        cp_before, cp_after = clamp_cp(eval_before.pov(mover)), clamp_cp(eval_after.pov(mover))
        white_cps.append(clamp_cp(eval_after.white()))
        best = before.best_move
        reviews.append(
            MoveReview(
                ply=ply,
                san=board.san(move),
                uci=move.uci(),
                color=mover,
                fen_before=board.fen(),
                eval_before=eval_before,
                eval_after=eval_after,
                win_before=win_before,
                win_after=win_after,
                accuracy=move_accuracy(win_before, win_after),
                cp_loss=max(0, cp_before - cp_after),
                judgment=judge(eval_before, eval_after, mover),
                best_san=board.san(best) if best is not None else None,
                best_pv_san=_pv_san(board, before.best.pv),
            )
        )
    accuracy = game_accuracy(white_cps, start_color=boards[0].turn) if not errors else game_accuracy([])
    if errors:
        logger.warning("%s: %d move(s) without analysis; game accuracy not computed", _title(game), len(errors))
    return GameReview(
        headers=dict(game.headers),
        moves=reviews,
        white=_side_stats(reviews, chess.WHITE, accuracy.white),
        black=_side_stats(reviews, chess.BLACK, accuracy.black),
        errors=errors,
    )


def review_games(
    games: Sequence[chess.pgn.Game], pool: EnginePool, *, progress: Progress | None = None
) -> list[GameReview]:
    """Analyse every position of every game through the pool, then review each game."""
    positions = [game_positions(g)[0] for g in games]
    analyses = pool.analyse_games(positions, progress=progress)
    return [review_game(g, a) for g, a in zip(games, analyses, strict=True)]


def _pv_san(board: chess.Board, pv: Sequence[chess.Move], limit: int = 8) -> list[str]:
    out = []
    b = board.copy(stack=False)
    for move in pv[:limit]:
        if move not in b.legal_moves:
            break
        out.append(b.san(move))
        b.push(move)
    return out


def _title(game: chess.pgn.Game) -> str:
    h = game.headers
    return f"{h.get('White', '?')} - {h.get('Black', '?')}"


def format_score(score: chess.engine.PovScore) -> str:
    """White's point of view, as players write it: ``+0.35``, ``-1.20``, ``#3``, ``#-2``; a mate on the board
    as the result (``1-0`` or ``0-1``)."""
    if score.relative.is_mate() and score.relative.mate() == 0:
        return "1-0" if score.turn == chess.BLACK else "0-1"
    white = score.white()
    mate = white.mate()
    if mate is not None:
        return f"#{mate}"
    cp = white.score()
    assert cp is not None
    return f"{cp / 100:+.2f}"
