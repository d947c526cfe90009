"""The annotated PGN: the original games with ``[%eval]`` on every move, judgments as NAGs, and at each
inaccuracy, mistake and blunder a comment with the better move, its line and the concept at play, and the
move's refutation (the opponent's best reply, what it wins, and its line as a variation of the next move where
the game went another way).

Standard PGN only (the form Lichess exports), so that it imports into Lichess studies and ChessBase:
``{ [%eval 0.35] }`` comments, NAGs ``$6`` / ``$2`` / ``$4``, the engine's line as a variation. A move that
mates gets no eval (python-chess and Lichess write none for a finished game).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from typing import TextIO

import chess
import chess.pgn

from chessteach.games.review import GameReview, MoveReview

_ASSESSMENT_NAGS = {1, 2, 3, 4, 5, 6}  # !, ?, !!, ??, !?, ?!
_UNSAFE = re.compile(r"[{}]")


def _clean(text: str) -> str:
    """Comment text that cannot break PGN: no braces, one line."""
    return " ".join(_UNSAFE.sub("", text).split())


def _comment(move: MoveReview) -> str:
    assert move.judgment is not None
    text = f"{move.judgment}."
    if move.best_san and move.best_san != move.san:
        text += f" {move.best_san} was best."
    refutation = move.refutation
    if refutation is not None:
        played_best = move.best_san == move.san
        text += f" The best reply is {refutation.reply_san}" if played_best else f" {refutation.reply_san} refutes it"
        text += "." if refutation.wins is None else f", {refutation.wins}."
    if move.concepts:
        text += " Concepts: " + ", ".join(move.concepts) + "."
    return _clean(text)


def annotate_game(game: chess.pgn.Game, review: GameReview, *, annotator: str | None = None) -> chess.pgn.Game:
    """A copy of ``game`` with the review written into it (the original is left untouched)."""
    annotated = copy.deepcopy(game)
    if annotator:
        annotated.headers["Annotator"] = annotator
    by_ply = {m.ply: m for m in review.moves}
    node: chess.pgn.GameNode = annotated
    while node.variations:
        parent, node = node, node.variations[0]
        move = by_ply.get(node.ply())
        if move is None:
            continue
        node.set_eval(move.eval_after)
        if move.judgment is None:
            continue
        node.nags = {n for n in node.nags if n not in _ASSESSMENT_NAGS} | {move.judgment.nag}
        node.comment = _clean(f"{node.comment} {_comment(move)}")
        _add_best_line(parent, move)
        _add_refutation(node, move)
    return annotated


def _add_best_line(parent: chess.pgn.GameNode, move: MoveReview) -> None:
    """The engine's line from the position before the move, as a variation."""
    if not move.best_san or move.best_san == move.san or not move.best_pv_san:
        return
    _add_line(parent, move.best_pv_san)


def _add_refutation(node: chess.pgn.GameNode, move: MoveReview) -> None:
    """The refutation's line from the position after the move, as a variation of the game's next move (none
    where the game ends there: a variation would become its main line)."""
    if move.refutation is not None and node.variations:
        _add_line(node, move.refutation.san)


def _add_line(parent: chess.pgn.GameNode, sans: Sequence[str]) -> None:
    """``sans`` played from ``parent`` as a new variation; none where ``parent`` already has the first move (the
    game or another variation goes that way)."""
    board = parent.board()
    variation: chess.pgn.GameNode = parent
    for san in sans:
        try:
            chess_move = board.parse_san(san)
        except ValueError:
            break
        if variation is parent and parent.has_variation(chess_move):
            return
        variation = variation.add_variation(chess_move)
        board.push(chess_move)


def write_annotated_pgn(
    path: str, games: Sequence[chess.pgn.Game], reviews: Sequence[GameReview], *, annotator: str | None = None
) -> None:
    """Write every reviewed game, annotated, to one PGN file."""
    with open(path, "w", encoding="utf-8") as fh:
        write_annotated_games(fh, games, reviews, annotator=annotator)


def write_annotated_games(
    handle: TextIO, games: Sequence[chess.pgn.Game], reviews: Sequence[GameReview], *, annotator: str | None = None
) -> None:
    """Write reviewed games, annotated, to an open PGN file (a batch at a time: the file is the same as one
    :func:`write_annotated_pgn` of them all)."""
    if len(games) != len(reviews):
        raise ValueError(f"{len(games)} games but {len(reviews)} reviews")
    for game, review in zip(games, reviews, strict=True):
        exporter = chess.pgn.FileExporter(handle)
        annotate_game(game, review, annotator=annotator).accept(exporter)
