"""Tables of a review: a row per move (``moves.csv``) and a row per game (``games.csv``), written whole or a batch
of games at a time (:class:`CsvAppender`)."""

from __future__ import annotations

import os
from collections.abc import Sequence

import chess
import pandas as pd

from chessteach.engine import clamp_cp
from chessteach.games.review import PHASES, GameReview, format_score


def moves_frame(reviews: Sequence[GameReview]) -> pd.DataFrame:
    """One row per reviewed move. Win% and centipawn loss are the mover's; evals are white's."""
    rows = []
    for review in reviews:
        for m in review.moves:
            rows.append(
                {
                    "game": review.number,
                    "ply": m.ply,
                    "move_number": m.move_number,
                    "color": "white" if m.color == chess.WHITE else "black",
                    "san": m.san,
                    "uci": m.uci,
                    "phase": m.phase,
                    "fen_before": m.fen_before,
                    "eval_before": format_score(m.eval_before),
                    "eval_after": format_score(m.eval_after),
                    "cp_before_white": clamp_cp(m.eval_before.white()),
                    "cp_after_white": clamp_cp(m.eval_after.white()),
                    "win_before": round(m.win_before, 3),
                    "win_after": round(m.win_after, 3),
                    "win_drop": round(m.win_drop, 3),
                    "accuracy": round(m.accuracy, 3),
                    "cp_loss": m.cp_loss,
                    "judgment": str(m.judgment) if m.judgment else "",
                    "best_san": m.best_san or "",
                    "best_line": " ".join(m.best_pv_san),
                    "critical": m.critical,
                    "refutation_line": " ".join(m.refutation.san) if m.refutation is not None else "",
                    "refutation_wins": (m.refutation.gain or "") if m.refutation is not None else "",
                    "concepts": " ".join(m.concepts),
                }
            )
    return pd.DataFrame(rows)


def games_frame(reviews: Sequence[GameReview]) -> pd.DataFrame:
    """One row per game: players, result, and per side accuracy, ACPL, judgments and accuracy by phase."""
    rows = []
    for review in reviews:
        h = review.headers
        row: dict[str, object] = {
            "game": review.number,
            "white": h.get("White", "?"),
            "black": h.get("Black", "?"),
            "result": h.get("Result", "*"),
            "event": h.get("Event", ""),
            "date": h.get("Date", ""),
            "plies": len(review.moves),
        }
        for side, stats in (("white", review.white), ("black", review.black)):
            row[f"{side}_accuracy"] = None if stats.accuracy is None else round(stats.accuracy, 2)
            row[f"{side}_acpl"] = None if stats.acpl is None else round(stats.acpl, 1)
            row[f"{side}_inaccuracies"] = stats.inaccuracies
            row[f"{side}_mistakes"] = stats.mistakes
            row[f"{side}_blunders"] = stats.blunders
            for phase in PHASES:
                value = stats.by_phase.get(phase)
                row[f"{side}_accuracy_{phase}"] = None if value is None else round(value, 2)
        row["errors"] = "; ".join(review.errors)
        rows.append(row)
    return pd.DataFrame(rows)


class CsvAppender:
    """Writes one table to a CSV file a frame at a time (a batch of games' :func:`moves_frame` or
    :func:`games_frame`), the header with the first frame that has rows: the same bytes as ``to_csv`` of one frame
    of all the rows, for frames whose columns keep their types from batch to batch, as these do (a value that may
    be missing is a float or text, never an integer). A file that gets no row holds what an empty frame writes.

    >>> import tempfile, pathlib
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = pathlib.Path(folder.name) / "t.csv"
    >>> with CsvAppender(path) as table:
    ...     table.write(pd.DataFrame([{"game": 1, "accuracy": 91.5}]))
    ...     table.write(pd.DataFrame([{"game": 2, "accuracy": None}]))
    >>> print(path.read_text(), end="")
    game,accuracy
    1,91.5
    2,
    >>> folder.cleanup()
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = path
        self._fh = open(path, "w", newline="", encoding="utf-8")  # noqa: SIM115 - closed by close()
        self._header = True

    def write(self, frame: pd.DataFrame) -> None:
        """Append the frame's rows (with the header, if none was written yet)."""
        if len(frame) == 0:
            return
        frame.to_csv(self._fh, index=False, header=self._header)
        self._header = False

    def close(self) -> None:
        """Finish the file."""
        if self._fh.closed:
            return
        if self._header:
            pd.DataFrame().to_csv(self._fh, index=False)
        self._fh.close()

    def __enter__(self) -> CsvAppender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
