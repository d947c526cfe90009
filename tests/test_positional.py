"""Positional detectors on real positions (Lichess puzzles, Candidates 2022 games) and textbook ones.

Every expected answer below was worked out by hand from the diagram in the comment; the facts' checkers
are tested both ways: they accept every emitted fact and reject facts whose pieces moved or whose claim
no longer holds.
"""

from __future__ import annotations

import csv
import dataclasses
import itertools
from collections.abc import Callable
from pathlib import Path

import chess
import chess.pgn
import pytest

from chessteach.concepts import check_fact, fact_kinds, get_concept
from chessteach.concepts.catalog import UnknownConceptError
from chessteach.concepts.facts import Fact
from chessteach.concepts.positional import (
    detect_backward_pawn,
    detect_isolated_pawn,
    detect_outpost,
    mobility,
    space,
)
from chessteach.concepts.registry import (
    DETECTORS,
    POSITIONAL_DETECTORS,
    positional_facts,
    verified_positional_facts,
)
from chessteach.puzzles.lichess_csv import iter_puzzles

POSITIONAL_KINDS = [
    "isolated_pawn",
    "doubled_pawns",
    "backward_pawn",
    "passed_pawn",
    "pawn_islands",
    "open_file",
    "half_open_file",
    "outpost",
    "bishop_pair",
    "pawn_shield",
    "king_attackers",
    "mobility",
    "space",
    "weak_square",
    "overloaded_defender",
    "pawn_target",
    "blockade",
    "passed_pawn_support",
]

# Real positions: (source, game or puzzle, ply) -> the position. Games by PGN file, round and White player.
GAMES = {
    # Duda-Nakamura, Candidates Madrid 2022, round 7: after 10...Nd5 (ply 20), an isolated queen's pawn.
    # r1bq1rk1/pp3ppp/2nbp3/3n4/3P4/P1NB4/1P2NPPP/R1BQ1RK1 w - - 1 11
    #   r . b q . r k .
    #   p p . . . p p p
    #   . . n b p . . .
    #   . . . n . . . .
    #   . . . P . . . .
    #   P . N B . . . .
    #   . P . . N P P P
    #   R . B Q . R K .
    "iqp": ("candidates-madrid-2022.pgn", "7.2", "Duda, Jan-Krzysztof", 20),
    # Radjabov-Firouzja, Candidates Madrid 2022, round 1: after 13...Nd5 (ply 26), a French-like chain.
    # 1rbq1rk1/p1p1bppp/4p3/n2nP3/2pP4/P1N1BN2/1PQ1BPPP/R4RK1 w - - 3 14
    #   . r b q . r k .
    #   p . p . b p p p
    #   . . . . p . . .
    #   n . . n P . . .
    #   . . p P . . . .
    #   P . N . B N . .
    #   . P Q . B P P P
    #   R . . . . R K .
    "chain": ("candidates-madrid-2022.pgn", "1.4", "Radjabov, Teimour", 26),
    # Caruana-Duda, Candidates Madrid 2022, round 3: after 11...b5 (ply 22), a Najdorf with ...e5.
    # r2qk2r/3nbpp1/p2pbn2/1p2p2p/4P3/1NN1BP2/PPPQ2PP/1K1R1B1R w kq - 0 12
    #   r . . q k . . r
    #   . . . n b p p .
    #   p . . p b n . .
    #   . p . . p . . p
    #   . . . . P . . .
    #   . N N . B P . .
    #   P P P Q . . P P
    #   . K . R . B . R
    "najdorf": ("candidates-madrid-2022.pgn", "3.2", "Caruana, Fabiano", 22),
}

PUZZLES = {
    # Lichess puzzle 005Ep (its FEN, before the setup move):
    # 5kr1/ppR3p1/3R3p/8/1r1n4/8/1P3PPP/2K5 b - - 4 31
    #   . . . . . k r .
    #   p p R . . . p .
    #   . . . R . . . p
    #   . . . . . . . .
    #   . r . n . . . .
    #   . . . . . . . .
    #   . P . . . P P P
    #   . . K . . . . .
    "overloaded_rook": "005Ep",
    # 00CbV: 2r3k1/5p2/p3p1nQ/3pPP2/2qN4/2b3BP/7K/4R3 b - - 0 33 (f7 alone guards e6 and g6, both hit)
    "overloaded_pawn": "00CbV",
    # 00H8a: 5bk1/2R4p/6p1/8/2b1NP1P/4P1K1/r7/8 b - - 2 45 (Black: Bc4 light, Bf8 dark; White: no bishop)
    "bishops": "00H8a",
    # 00347: 8/2p5/8/2pPk2p/8/4K2P/6P1/8 w - - 1 42
    #   . . . . . . . .
    #   . . p . . . . .
    #   . . . . . . . .
    #   . . p P k . . p
    #   . . . . . . . .
    #   . . . . K . . P
    #   . . . . . . P .
    #   . . . . . . . .
    "pawn_ending": "00347",
    # 00GuG: 2R5/7p/1K4k1/8/5p2/5n2/8/8 w - - 0 63 (White has no pawns: both black pawns are passed)
    "no_white_pawns": "00GuG",
}


def _game_board(pgn_dir: Path, file: str, round: str, white: str, ply: int) -> chess.Board:
    with open(pgn_dir / file) as fh:
        while (game := chess.pgn.read_game(fh)) is not None:
            if game.headers.get("Round") == round and game.headers.get("White") == white:
                board = game.board()
                for move in itertools.islice(game.mainline_moves(), ply):
                    board.push(move)
                return board
    raise LookupError(f"no game of round {round} with White {white!r} in {file}")


def _puzzle_boards(lichess_csv: Path, ids: set[str]) -> dict[str, chess.Board]:
    with open(lichess_csv, newline="") as fh:
        return {row["PuzzleId"]: chess.Board(row["FEN"]) for row in csv.DictReader(fh) if row["PuzzleId"] in ids}


@pytest.fixture(scope="module")
def positions(lichess_csv: Path, pgn_dir: Path) -> dict[str, chess.Board]:
    boards = {name: _game_board(pgn_dir, *where) for name, where in GAMES.items()}
    by_id = _puzzle_boards(lichess_csv, set(PUZZLES.values()))
    boards.update({name: by_id[pid] for name, pid in PUZZLES.items()})
    return boards


@pytest.fixture(scope="module")
def puzzle_positions(lichess_csv: Path) -> list[chess.Board]:
    """The solver's positions of the first 300 real puzzles."""
    return [puzzle.position() for puzzle in itertools.islice(iter_puzzles(lichess_csv), 300)]


def _key(fact: Fact) -> str:
    """A short name for a fact, to compare with the hand-made answers."""
    color = "" if fact.color is None else ("w" if fact.color == chess.WHITE else "b")
    first = fact.square_names[0] if fact.squares else ""
    file = chess.FILE_NAMES[fact.file] if fact.file is not None else None
    square = chess.square_name(fact.square) if fact.square is not None else None
    keys: dict[str, Callable[[], str]] = {
        "isolated_pawn": lambda: first,
        "passed_pawn": lambda: first,
        "backward_pawn": lambda: first,
        "doubled_pawns": lambda: f"{color}:{file}",
        "open_file": lambda: f"{file}",
        "half_open_file": lambda: f"{color}:{file}",
        "outpost": lambda: f"{color}:{square}:{fact.status}",
        "bishop_pair": lambda: color,
        "pawn_islands": lambda: f"{color}:{' '.join(fact.islands)}",
        "pawn_shield": lambda: f"{color}:{fact.count}",
        "weak_square": lambda: f"{color}:{square}",
        "overloaded_defender": lambda: first,
        "king_attackers": lambda: f"{color}:{' '.join(fact.square_names[1:])}",
        "pawn_target": lambda: f"{fact.weakness}:{first}:{' '.join(fact.square_names[1:])}",
        "blockade": lambda: f"{fact.weakness}:{first}>{fact.square_names[-1]}",
        "passed_pawn_support": lambda: f"{first}:{' '.join(fact.square_names[1:])}",
    }
    return keys[fact.kind]()


def _keys(board: chess.Board, kind: str) -> set[str]:
    return {_key(f) for f in positional_facts(board) if f.kind == kind}


# (position, kind, expected facts by _key). Worked out by hand from the diagrams above.
REAL_CASES = [
    # IQP: White's d4 has no pawn on c or e; Black's pawns (a7 b7 | e6 f7 g7 h7) all have neighbours.
    ("iqp", "isolated_pawn", {"d4"}),
    # No pawn is passed: e6 blocks d4's path on the e-file, and every other pawn faces one on its file.
    ("iqp", "passed_pawn", set()),
    ("iqp", "backward_pawn", set()),
    ("iqp", "doubled_pawns", set()),
    ("iqp", "open_file", {"c"}),
    ("iqp", "half_open_file", {"w:e", "b:d"}),
    # The blockade square d5: e6 protects it, White has no c- or e-pawn left to chase the knight.
    # White's e5 is no outpost: f7-f6 can still hit it.
    ("iqp", "outpost", {"b:d5:occupied"}),
    ("iqp", "bishop_pair", set()),  # both sides keep both bishops
    ("iqp", "pawn_islands", {"w:a-b d f-h", "b:a-b e-h"}),
    ("iqp", "pawn_shield", {"w:3", "b:3"}),
    # Black's only attacked pieces are d5 (guarded by e6 alone) and h7 (by the king): nobody does two jobs.
    ("iqp", "overloaded_defender", set()),
    # Black's d6 has lost its pawn cover (no c-pawn, e6 level with it), but no white piece uses it.
    ("iqp", "weak_square", set()),
    # Black's Nc6 hits the isolated d4 (Qd8 is blocked by Bd6), and Nd5 stands on its stop square.
    ("iqp", "pawn_target", {"isolated:d4:c6"}),
    ("iqp", "blockade", {"isolated:d5>d4"}),
    # Chain: c4 and c7 (no b- or d-pawn) and a7 (no b-pawn) are isolated; White's a3-b2, d4-h2 are not.
    ("chain", "isolated_pawn", {"a7", "c4", "c7"}),
    ("chain", "doubled_pawns", {"b:c"}),
    # b2: a3 is ahead and c4 guards b3; d4: e5 is ahead, no c-pawn, and e6 guards d5.
    ("chain", "backward_pawn", {"b2", "d4"}),
    ("chain", "passed_pawn", set()),
    ("chain", "open_file", set()),
    ("chain", "half_open_file", {"w:c", "b:b", "b:d"}),
    # d5 (knight, e6 protects, White's e5 is level and there is no c-pawn) and b3 (c4 protects, a3 is
    # level, no c-pawn; the a5 knight can jump in). White's c5 is an outpost no white piece can reach.
    ("chain", "outpost", {"b:d5:occupied", "b:b3:reachable"}),
    # d3: White's e5 has passed it, there is no c-pawn, and Black's c4 attacks it.
    ("chain", "weak_square", {"w:d3"}),
    ("chain", "overloaded_defender", set()),
    # The queen on c2 looks at h7 along c2-h7: the only piece near Black's king; none near White's.
    ("chain", "king_attackers", {"b:c2"}),
    # Be2 hits c4 (isolated and doubled) over the empty d3; Rb8 looks down the empty b-file at the backward b2.
    ("chain", "pawn_target", {"isolated:c4:e2", "doubled:c4:e2", "backward:b2:b8"}),
    # Nc3 blockades the isolated c4, Nd5 the backward d4.
    ("chain", "blockade", {"isolated:c3>c4", "backward:d5>d4"}),
    # Najdorf: d6 trails e5, has no c-pawn, and White's e4 guards d5.
    ("najdorf", "backward_pawn", {"d6"}),
    ("najdorf", "isolated_pawn", set()),
    ("najdorf", "open_file", set()),
    ("najdorf", "half_open_file", {"w:d", "b:c"}),
    # d5: e4 protects it, Black's e5 is level and the c-pawn is gone; the c3 knight can go there.
    ("najdorf", "outpost", {"w:d5:reachable"}),
    # ... and d5 is the hole in Black's camp that White's queen, knight and e-pawn all hit.
    ("najdorf", "weak_square", {"b:d5"}),
    ("najdorf", "pawn_shield", {"w:3", "b:2"}),
    # The backward d6 is hit by the queen on d2 up the empty d-file (the d1 rook behind her does not count).
    ("najdorf", "pawn_target", {"backward:d6:d2"}),
    ("najdorf", "blockade", set()),
    # 005Ep: Rb4 alone guards Nd4 (hit by Rd6) and b7 (hit by Rc7).
    ("overloaded_rook", "overloaded_defender", {"b4"}),
    ("overloaded_rook", "isolated_pawn", {"b2"}),
    ("overloaded_rook", "open_file", {"c", "d", "e"}),
    # 00CbV: f7 alone guards e6 (hit by f5) and g6 (hit by f5 and Qh6).
    ("overloaded_pawn", "overloaded_defender", {"f7"}),
    ("bishops", "bishop_pair", {"b"}),
    # 00347: c5 is passed (d5 is level with it, not in front); d5 faces c7; h5 faces h3.
    ("pawn_ending", "passed_pawn", {"c5"}),
    ("pawn_ending", "doubled_pawns", {"b:c"}),
    ("pawn_ending", "isolated_pawn", {"c5", "c7", "d5", "h5"}),
    ("pawn_ending", "bishop_pair", set()),
    ("pawn_ending", "pawn_shield", set()),  # both kings are up on their third and fifth rank
    # Black's king on e5 attacks the isolated d5; c5 and h5 are untouched, and no piece blockades.
    ("pawn_ending", "pawn_target", {"isolated:d5:e5"}),
    ("pawn_ending", "blockade", set()),
    ("no_white_pawns", "passed_pawn", {"f4", "h7"}),
    ("no_white_pawns", "pawn_islands", {"b:f h"}),
    # The king on g6 defends the h7 passer; nothing defends f4 (the f3 knight does not reach it).
    ("no_white_pawns", "passed_pawn_support", {"h7:g6"}),
    ("iqp", "passed_pawn_support", set()),
]


@pytest.mark.parametrize(("position", "kind", "expected"), REAL_CASES, ids=lambda v: str(v) if v else "none")
def test_real_positions(positions: dict[str, chess.Board], position: str, kind: str, expected: set[str]) -> None:
    assert _keys(positions[position], kind) == expected


def test_real_position_sentences(positions: dict[str, chess.Board]) -> None:
    iqp = positions["iqp"]
    assert iqp.fen() == "r1bq1rk1/pp3ppp/2nbp3/3n4/3P4/P1NB4/1P2NPPP/R1BQ1RK1 w - - 1 11"
    (isolated,) = detect_isolated_pawn(iqp)
    assert isolated.text == "White's pawn on d4 is isolated: no white pawn stands on the c- or e-file."
    assert (isolated.squares, isolated.pieces, isolated.concept) == ((chess.D4,), ("P",), "isolatedPawn")
    (outpost,) = detect_outpost(iqp)
    assert outpost.text == (
        "Black's knight on d5 stands on an outpost: protected by the pawn on e6, and no white pawn can ever attack it."
    )
    assert outpost.square_names == ["d5", "e6"] and outpost.pieces == ("n", "p")
    (backward,) = detect_backward_pawn(positions["najdorf"])
    assert backward.square_names == ["d6", "e4"] and backward.pieces == ("p", "P")
    assert backward.square == chess.D5


def test_real_position_counts(positions: dict[str, chess.Board]) -> None:
    chain = positions["chain"]
    # White's space: safe squares of c2-f4 are c2 d2 e2 c3 e3 f3 c4 e4 f4 (f2 and d4 hold own pawns, c4
    # attacks d3) = 9, plus d2 e2 e4 again (behind d4/e5 and not attacked by Black; e3 is hit by Nd5) = 12.
    assert space(chain, chess.WHITE) == 12
    (white_space,) = [f for f in positional_facts(chain, ["space"]) if f.color == chess.WHITE]
    assert (white_space.count, white_space.opponent_count) == (12, 7)
    # The e2 bishop has two safe moves, Bd1 and Bxc4: f1 and f3 hold its own pieces, d3 is hit by c4.
    counts = mobility(chain, chess.WHITE)
    assert counts[chess.E2] == 2
    assert sum(counts.values()) == 32


def test_starting_position_has_no_weaknesses() -> None:
    board = chess.Board()
    found = {kind: _keys(board, kind) for kind in POSITIONAL_KINDS if kind not in ("mobility", "space")}
    assert found == {
        "isolated_pawn": set(),
        "doubled_pawns": set(),
        "backward_pawn": set(),
        "passed_pawn": set(),
        "pawn_islands": {"w:a-h", "b:a-h"},
        "open_file": set(),
        "half_open_file": set(),
        "outpost": set(),
        "bishop_pair": set(),
        "pawn_shield": {"w:3", "b:3"},
        "king_attackers": set(),
        "weak_square": set(),
        "overloaded_defender": set(),
        "pawn_target": set(),
        "blockade": set(),
        "passed_pawn_support": set(),
    }
    # Each knight has two moves (a3/c3, f3/h3); nothing else can move. Space: c3-f4, 8 squares each.
    assert mobility(board, chess.WHITE) == {
        chess.B1: 2,
        chess.C1: 0,
        chess.D1: 0,
        chess.F1: 0,
        chess.G1: 2,
        chess.A1: 0,
        chess.H1: 0,
    }
    assert space(board, chess.WHITE) == space(board, chess.BLACK) == 8


TEXTBOOK_CASES = [
    # The classic backward d6: e5 has moved on, there is no c-pawn, and both c4 and e4 guard d5.
    ("4k3/8/3p4/4p3/2P1P3/8/8/4K3 w - - 0 1", "backward_pawn", {"d6"}),
    # Same, but with a black pawn on c7 that can still come to c6 and support d6-d5: not backward.
    ("4k3/2p5/3p4/4p3/2P1P3/8/8/4K3 w - - 0 1", "backward_pawn", set()),
    # Passed: d5 with no black pawn on c-e ahead; the a-pawns block each other.
    ("4k3/p7/8/3P4/P7/8/8/4K3 w - - 0 1", "passed_pawn", {"d5"}),
    # Doubled and tripled pawns.
    ("4k3/8/8/8/2P5/2P5/2P1P3/4K3 w - - 0 1", "doubled_pawns", {"w:c"}),
    # Knight on d5 with e4 behind it and Black's c- and e-pawns gone past: an outpost, and the hole of d5.
    ("4k3/8/3p4/3Np3/4P3/8/8/4K3 w - - 0 1", "outpost", {"w:d5:occupied"}),
    # Holes: d5, f5 (no f-pawn, e5 has passed) and f6 for Black, used by Nd5 and e4; d4 and f4 for White,
    # hit by e5. c6, e6, d3 and f3 are just as uncovered, but no enemy piece uses them.
    ("4k3/8/3p4/3Np3/4P3/8/8/4K3 w - - 0 1", "weak_square", {"b:d5", "b:f5", "b:f6", "w:d4", "w:f4"}),
    # Bishop pair against bishop and knight.
    ("4k3/8/2n1b3/8/8/2B1B3/8/4K3 w - - 0 1", "bishop_pair", set()),  # both white bishops on dark squares
    ("4k3/8/2n1b3/8/8/2B2B2/8/4K3 w - - 0 1", "bishop_pair", {"w"}),
    # After h3 and g4 the king's shield is f2 and h3: g4 stands three ranks up, too far to count.
    ("6k1/5ppp/8/8/6P1/7P/5P2/6K1 w - - 0 1", "pawn_shield", {"w:2", "b:3"}),
    # Queen and knight both hit squares next to the castled king.
    # Ng5 hits f7 and h7, Qh4 hits h7 up the h-file (listed in square order, h4 before g5).
    ("6k1/5ppp/8/6N1/7Q/8/8/6K1 w - - 0 1", "king_attackers", {"b:h4 g5"}),
    # The isolated (and passed) d5: Nd4 blockades it, the d1 rook behind the knight does not attack it.
    ("3r2k1/8/8/3p4/3N4/8/8/3R2K1 w - - 0 1", "blockade", {"isolated:d4>d5", "passed:d4>d5"}),
    ("3r2k1/8/8/3p4/3N4/8/8/3R2K1 w - - 0 1", "pawn_target", set()),
    # With the knight on f4 instead, it and the rook both hit d5, which the d8 rook defends; no blockade.
    ("3r2k1/8/8/3p4/5N2/8/8/3R2K1 w - - 0 1", "pawn_target", {"isolated:d5:d1 f4", "passed:d5:d1 f4"}),
    ("3r2k1/8/8/3p4/5N2/8/8/3R2K1 w - - 0 1", "blockade", set()),
    # A pawn on a pawn's stop square is no blockade: the d4 pawn stops d5 (neither is passed or isolated now).
    ("6k1/8/8/3p4/3P4/8/8/6K1 w - - 0 1", "blockade", set()),
    # A rook behind the passed d5 defends it up the d-file; a knight on b4 defends it too.
    ("6k1/8/8/3P4/1N6/8/8/3R2K1 w - - 0 1", "passed_pawn_support", {"d5:d1 b4"}),
    # With the knight on d4 instead, between them: the rook no longer sees d5, and the knight does not defend it.
    ("6k1/8/8/3P4/3N4/8/8/3R2K1 w - - 0 1", "passed_pawn_support", set()),
    # Doubled f-pawns (not isolated: g6 stands beside them; not passed: g2 is in front), the front one hit by
    # the bishop on d3 and the knight on g3; the one on f7 stays out of reach behind it.
    ("6k1/5p2/6p1/5p2/8/3B2N1/6P1/6K1 w - - 0 1", "pawn_target", {"doubled:f5:d3 g3"}),
]


@pytest.mark.parametrize(("fen", "kind", "expected"), TEXTBOOK_CASES)
def test_textbook_positions(fen: str, kind: str, expected: set[str]) -> None:
    assert _keys(chess.Board(fen), kind) == expected


def test_every_fact_on_300_real_positions_checks(puzzle_positions: list[chess.Board]) -> None:
    seen: set[str] = set()
    for board in puzzle_positions:
        for fact in positional_facts(board):
            assert check_fact(board, fact), (board.fen(), fact)
            assert fact.kind in DETECTORS[get_concept(fact.concept or "").id].kinds
            assert len(fact.pieces) <= len(fact.squares)
            assert fact.text.endswith(".") and " " in fact.text
            assert fact.color in (chess.WHITE, chess.BLACK) or fact.kind == "open_file"
            assert fact.count is None or isinstance(fact.count, int)
            seen.add(fact.kind)
    assert seen == set(POSITIONAL_KINDS)
    assert set(POSITIONAL_KINDS) <= set(fact_kinds())


def test_a_fact_fails_once_its_piece_moves(puzzle_positions: list[chess.Board]) -> None:
    """Play each legal move of a piece a fact names: the fact no longer holds on the new board."""
    tried = 0
    for board in puzzle_positions[:120]:
        for fact in positional_facts(board):
            named = fact.squares[: len(fact.pieces)]
            for move in board.legal_moves:
                if move.from_square in named:
                    after = board.copy(stack=False)
                    after.push(move)
                    assert not check_fact(after, fact), (board.fen(), move.uci(), fact)
                    tried += 1
                    break
    assert tried > 300


# (position, kind, fact selector, pieces put on the board): the change leaves the fact's pieces where they
# are but makes its claim false, so the checker must reject it.
BREAKING_CHANGES = [
    ("iqp", "isolated_pawn", "d4", {chess.E3: "P"}),  # a white e-pawn beside d4
    ("pawn_ending", "doubled_pawns", "b:c", {chess.C6: "p"}),  # now three pawns on the c-file
    ("najdorf", "backward_pawn", "d6", {chess.C7: "p"}),  # c7 can support d6 now
    ("no_white_pawns", "passed_pawn", "f4", {chess.E2: "P"}),  # e2 stands in front of f4 (from Black's side)
    ("iqp", "pawn_islands", "w:a-b d f-h", {chess.C2: "P"}),  # c2 joins a-b and d into one island
    ("iqp", "open_file", "c", {chess.C7: "p"}),
    ("iqp", "half_open_file", "w:e", {chess.E3: "P"}),
    ("najdorf", "outpost", "w:d5:reachable", {chess.C7: "p"}),  # c7-c6 could now hit d5
    ("iqp", "outpost", "b:d5:occupied", {chess.E2: "P"}),  # e2-e4 could now hit d5 (the knight on e2 gone)
    ("bishops", "bishop_pair", "b", {chess.D2: "B", chess.E2: "B"}),  # White gets a pair too
    ("iqp", "pawn_shield", "w:3", {chess.H3: "P"}),  # a fourth shield pawn
    ("chain", "king_attackers", "b:c2", {chess.E4: "N"}),  # the knight blocks the c2-h7 diagonal
    ("najdorf", "weak_square", "b:d5", {chess.C7: "p"}),  # c7-c6 could defend d5 again
    ("overloaded_rook", "overloaded_defender", "b4", {chess.C5: "b"}),  # a second defender of d4
    ("chain", "space", "w", {chess.F5: "p"}),  # f5 attacks e4
    ("iqp", "mobility", "w", {chess.E5: "p"}),  # e5 attacks f4, taking squares from Bc1 and Ne2
    ("iqp", "pawn_target", "isolated:d4:c6", {chess.E3: "P"}),  # a white e-pawn: d4 is no longer isolated
    ("iqp", "pawn_target", "isolated:d4:c6", {chess.E5: "p"}),  # a second attacker: the list is wrong
    ("iqp", "blockade", "isolated:d5>d4", {chess.C2: "P"}),  # a white c-pawn: d4 is no longer isolated
    ("chain", "blockade", "backward:d5>d4", {chess.C2: "P"}),  # c2-c3 could support d4 now
    ("no_white_pawns", "passed_pawn_support", "h7:g6", {chess.G2: "P"}),  # a white g-pawn: h7 is not passed
    ("no_white_pawns", "passed_pawn_support", "h7:g6", {chess.H8: "r"}),  # a second defender: the list is wrong
]


def _select(board: chess.Board, kind: str, key: str) -> Fact:
    facts = [f for f in positional_facts(board) if f.kind == kind]
    if kind in ("space", "mobility"):
        return next(f for f in facts if ("w" if f.color == chess.WHITE else "b") == key)
    return next(f for f in facts if _key(f) == key)


@pytest.mark.parametrize(("position", "kind", "key", "changes"), BREAKING_CHANGES)
def test_checker_rejects_a_claim_that_no_longer_holds(
    positions: dict[str, chess.Board], position: str, kind: str, key: str, changes: dict[chess.Square, str]
) -> None:
    board = positions[position].copy(stack=False)
    fact = _select(board, kind, key)
    assert check_fact(board, fact)
    for square, symbol in changes.items():
        board.set_piece_at(square, chess.Piece.from_symbol(symbol))
    assert _pieces_still_there(board, fact)
    assert not check_fact(board, fact)


def _pieces_still_there(board: chess.Board, fact: Fact) -> bool:
    return all(
        (piece := board.piece_at(s)) is not None and piece.symbol() == symbol
        for s, symbol in zip(fact.squares, fact.pieces, strict=False)
    )


# Kinds whose claim lives in the squares alone; every other kind needs its data (side, file, square, counts).
_SQUARES_ONLY = {"isolated_pawn", "passed_pawn", "backward_pawn", "overloaded_defender"}


def test_checkers_reject_malformed_facts(positions: dict[str, chess.Board]) -> None:
    for board in positions.values():
        for fact in positional_facts(board):
            if fact.kind not in _SQUARES_ONLY:
                assert not check_fact(board, Fact(fact.kind, fact.squares, fact.pieces, fact.text)), fact
            if fact.pieces:
                swapped = tuple(p.swapcase() for p in fact.pieces)
                assert not check_fact(board, dataclasses.replace(fact, pieces=swapped))


def test_concept_filter_and_unknown_ids(positions: dict[str, chess.Board]) -> None:
    board = positions["iqp"]
    facts = positional_facts(board, ["isolatedPawn", "outpost"])
    assert [f.kind for f in facts] == ["isolated_pawn", "pawn_target", "blockade", "outpost"]
    assert {f.concept for f in positional_facts(board, ["kingSafety"])} == {"kingSafety"}
    with pytest.raises(UnknownConceptError, match="isolatedPawn"):
        positional_facts(board, ["isolatedPawns"])
    with pytest.raises(ValueError, match="no positional detector"):
        positional_facts(board, ["fork"])
    assert verified_positional_facts(board) == positional_facts(board)
    assert len(positional_facts(board)) == sum(len(detect(board)) for detect in POSITIONAL_DETECTORS.values())
