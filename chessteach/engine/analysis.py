"""Typed engine work: the limit of a search, what one search is sent (the position, its history, its cache key),
the lines it found, one analysis of one position."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import chess
import chess.engine


@dataclass(frozen=True)
class EngineLimit:
    """How long one search runs. Exactly one of ``nodes``, ``depth`` or ``time`` is set.

    A ``nodes`` limit with ``Threads=1`` makes Stockfish's results reproducible; ``time`` does not.

    >>> EngineLimit(nodes=250_000).key
    'nodes=250000'
    """

    nodes: int | None = None
    depth: int | None = None
    time: float | None = None

    def __post_init__(self) -> None:
        given = [name for name in ("nodes", "depth", "time") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"EngineLimit takes exactly one of nodes, depth, time; got {given or 'none'}")
        value = getattr(self, given[0])
        if value <= 0:
            raise ValueError(f"EngineLimit {given[0]} must be positive, got {value!r}")

    @property
    def key(self) -> str:
        """A stable text form, used in cache keys."""
        if self.nodes is not None:
            return f"nodes={self.nodes}"
        if self.depth is not None:
            return f"depth={self.depth}"
        return f"time={self.time:g}"

    def to_chess(self) -> chess.engine.Limit:
        """The same limit as python-chess expects it."""
        return chess.engine.Limit(nodes=self.nodes, depth=self.depth, time=self.time)

    @classmethod
    def parse(cls, text: str) -> EngineLimit:
        """Parse ``nodes=N``, ``depth=N`` or ``time=S`` (the form of :attr:`key`).

        >>> EngineLimit.parse("depth=12")
        EngineLimit(nodes=None, depth=12, time=None)
        """
        name, _, value = text.partition("=")
        name = name.strip()
        if name == "nodes":
            return cls(nodes=int(value))
        if name == "depth":
            return cls(depth=int(value))
        if name == "time":
            return cls(time=float(value))
        raise ValueError(f"bad engine limit {text!r}: expected nodes=N, depth=N or time=SECONDS")


def _score_to_json(score: chess.engine.Score) -> dict[str, int]:
    mate = score.mate()
    if mate is not None:
        # Mate(0) is "the side to move is mated"; MateGiven never appears relative to the side to move.
        return {"mate": mate}
    cp = score.score()
    assert cp is not None
    return {"cp": cp}


def _score_from_json(data: dict[str, int]) -> chess.engine.Score:
    if "mate" in data:
        return chess.engine.Mate(data["mate"])
    return chess.engine.Cp(data["cp"])


@dataclass(frozen=True)
class EngineLine:
    """One principal variation: its score (with its point of view) and its moves."""

    score: chess.engine.PovScore
    pv: list[chess.Move] = field(default_factory=list)

    @property
    def move(self) -> chess.Move | None:
        """The first move of the line, or None in a finished position."""
        return self.pv[0] if self.pv else None


@dataclass(frozen=True)
class Analysis:
    """The engine's view of one position: one or more lines, best first.

    ``fen`` is the full FEN that was analysed; ``nodes`` and ``depth`` are what the search reached;
    ``engine`` names the engine and the options that can change its results.
    """

    fen: str
    lines: list[EngineLine]
    nodes: int
    depth: int
    engine: str

    @property
    def turn(self) -> chess.Color:
        return chess.WHITE if self.fen.split()[1] == "w" else chess.BLACK

    @property
    def best(self) -> EngineLine:
        """The engine's best line."""
        return self.lines[0]

    @property
    def score(self) -> chess.engine.PovScore:
        """The evaluation of the position (the best line's score)."""
        return self.lines[0].score

    @property
    def best_move(self) -> chess.Move | None:
        return self.lines[0].move

    def to_json(self) -> str:
        """Serialise with scores relative to the side to move, as UCI reports them."""
        payload: dict[str, Any] = {
            "lines": [
                {**_score_to_json(line.score.relative), "pv": [m.uci() for m in line.pv]} for line in self.lines
            ],
            "nodes": self.nodes,
            "depth": self.depth,
        }
        return json.dumps(payload, separators=(",", ":"))

    @classmethod
    def from_json(cls, fen: str, engine: str, text: str) -> Analysis:
        data = json.loads(text)
        turn = chess.WHITE if fen.split()[1] == "w" else chess.BLACK
        lines = [
            EngineLine(
                score=chess.engine.PovScore(_score_from_json(item), turn),
                pv=[chess.Move.from_uci(u) for u in item["pv"]],
            )
            for item in data["lines"]
        ]
        return cls(fen=fen, lines=lines, nodes=int(data["nodes"]), depth=int(data["depth"]), engine=engine)

    @classmethod
    def from_infos(cls, board: chess.Board, infos: list[chess.engine.InfoDict], engine: str) -> Analysis:
        """Build from python-chess's analysis results (one InfoDict per multipv line)."""
        lines = []
        for info in infos:
            score = info.get("score")
            if score is None:
                raise chess.engine.EngineError(f"engine gave no score for {board.fen()}")
            lines.append(EngineLine(score=score, pv=list(info.get("pv", []))))
        first = infos[0]
        return cls(
            fen=board.fen(),
            lines=lines,
            nodes=int(first.get("nodes", 0)),
            depth=int(first.get("depth", 0)),
            engine=engine,
        )

    @classmethod
    def terminal(cls, board: chess.Board, engine: str) -> Analysis:
        """The analysis of a finished game, computed from the rules alone (no engine is asked).

        Checkmate: the side to move is mated (``Mate(0)``); any other end (stalemate, insufficient
        material) scores 0.
        """
        score: chess.engine.Score = chess.engine.Mate(0) if board.is_checkmate() else chess.engine.Cp(0)
        return cls(
            fen=board.fen(),
            lines=[EngineLine(score=chess.engine.PovScore(score, board.turn), pv=[])],
            nodes=0,
            depth=0,
            engine=engine,
        )


@dataclass(frozen=True)
class EngineInput:
    """One search as the engine gets it: the position, the history it is sent with, and its cache key.

    The history is the moves since the last capture or pawn move (from ``root``), sent only when those positions
    hold one that occurred twice (:attr:`repeated`): only those change Stockfish's search (it scores a return
    to such a position as a draw). Everything else goes as a bare FEN.
    """

    board: chess.Board
    """The position, without a move stack (its FEN has the move counters)."""
    key: str
    """The cache key: the EPD (legal en passant only), then the repeated positions if any (see
    :func:`position_key`)."""
    repeated: tuple[str, ...] = ()
    """The positions (EPD, sorted) that occur at least twice since the last capture or pawn move, this one
    included."""
    root: chess.Board | None = None
    """Where the history starts (the position after the last capture or pawn move); None without history."""
    moves: tuple[chess.Move, ...] = ()
    """The history's moves, from ``root`` to ``board``."""

    @classmethod
    def of(cls, board: chess.Board) -> EngineInput:
        """The input for a board whose move stack holds its history (the stack beyond the last capture or
        pawn move is ignored)."""
        plies = min(len(board.move_stack), board.halfmove_clock)
        if plies < 4:  # a position cannot come back in fewer than four plies
            bare = board.copy(stack=False)
            return cls(bare, bare.epd())
        walk = board.copy(stack=plies)
        moves = walk.move_stack
        return list(line_inputs(walk.root(), moves))[-1]

    def engine_board(self) -> chess.Board:
        """The board to send the engine: the bare position, or the root with the history's moves pushed."""
        if self.root is None:
            return self.board.copy(stack=False)
        board = self.root.copy(stack=False)
        for move in self.moves:
            board.push(move)
        return board


def line_inputs(start: chess.Board, moves: Iterable[chess.Move]) -> Iterator[EngineInput]:
    """The :class:`EngineInput` of each position of a line: ``start`` (its own move stack ignored), then the
    position after each move. Linear in the line's length: one EPD per position, the repetitions counted as the
    line is walked.

    >>> start = chess.Board()
    >>> inputs = list(line_inputs(start, [chess.Move.from_uci(u) for u in ["g1f3", "g8f6", "f3g1", "f6g8"]]))
    >>> [len(i.repeated) for i in inputs], inputs[-1].key == start.epd() + " | repeated: " + start.epd()
    ([0, 0, 0, 0, 1], True)
    """
    board = start.copy(stack=False)
    root = board.copy(stack=False)
    window: list[chess.Move] = []
    seen: Counter[str] = Counter()
    repeated: tuple[str, ...] = ()
    suffix = ""

    def current(epd: str) -> EngineInput:
        nonlocal repeated, suffix
        seen[epd] += 1
        if seen[epd] == 2:  # a position newly repeated: the key's list grows (kept sorted)
            repeated = tuple(sorted((*repeated, epd)))
            suffix = " | repeated: " + " ; ".join(repeated)
        bare = board.copy(stack=False)
        if not repeated:
            return EngineInput(bare, epd)
        return EngineInput(bare, epd + suffix, repeated, root, tuple(window))

    yield current(board.epd())
    for move in moves:
        board.push(move)
        if board.halfmove_clock == 0:  # a capture or a pawn move: no earlier position can come back
            root = board.copy(stack=False)
            window.clear()
            seen.clear()
            repeated, suffix = (), ""
        else:
            window.append(move)
        yield current(board.epd())


def repeated_positions(board: chess.Board) -> list[str]:
    """The positions (EPD) that occur at least twice on the board's move stack since the last capture or pawn
    move, the current one included; sorted.

    Only those change an engine's search: Stockfish scores a return to a position as a draw when it stands twice
    in the history before the search (a third time), or once within the search itself. A board without a move
    stack has none.

    >>> board = chess.Board()
    >>> for uci in ["g1f3", "g8f6", "f3g1", "f6g8", "g1f3"]:
    ...     _ = board.push_uci(uci)
    >>> repeated_positions(board)  # the position after 1.Nf3 (now) and the starting one, each seen twice
    ['rnbqkbnr/pppppppp/8/8/8/5N2/PPPPPPPP/RNBQKB1R b KQkq -', 'rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR w KQkq -']
    """
    return list(EngineInput.of(board).repeated)


def position_key(board: chess.Board) -> str:
    """The cache key of a position: its FEN without the move counters (EPD, legal en passant only), followed,
    when its move stack holds :func:`repeated_positions`, by those (they change the search, so the analysis).

    >>> position_key(chess.Board())
    'rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR w KQkq -'
    """
    return EngineInput.of(board).key


def engine_board(board: chess.Board) -> chess.Board:
    """The board to send the engine: the bare position, or, when :func:`repeated_positions` finds any, the
    position with the moves since the last capture or pawn move, so that the engine knows the repetitions."""
    return EngineInput.of(board).engine_board()
