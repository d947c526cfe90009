"""Game review end to end, with the real Stockfish on real tournament games."""

from __future__ import annotations

import io
import math
import subprocess
import sys
from pathlib import Path

import chess
import chess.pgn
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from chessteach.cli import app
from chessteach.concepts.facts import check_fact
from chessteach.concepts.notation import numbered_sans, ply_label
from chessteach.concepts.positional import PAWN_PLAY_KINDS
from chessteach.concepts.registry import positional_facts
from chessteach.engine import AnalysisCache, EngineLimit, EnginePool, Judgment
from chessteach.games.annotate import annotate_game
from chessteach.games.moments import new_positional_facts
from chessteach.games.read import game_positions, read_games
from chessteach.games.review import review_games
from chessteach.teaching.moments import moment_writeups

NODES = "20000"
MINIATURE = """[Event "Miniature"]
[White "Attacker"]
[Black "Victim"]
[Result "1-0"]

1. e4 e5 2. Bc4 Nc6 3. Qh5 Nf6 4. Qxf7# 1-0
"""


def first_games(pgn: Path, n: int) -> str:
    """The text of the first ``n`` games of a PGN file."""
    text = pgn.read_text()
    chunks = text.split("\n[Event ")
    return chunks[0] + "".join("\n[Event " + c for c in chunks[1:n])


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory: pytest.TempPathFactory, pgn_dir: Path) -> Path:
    """Three real games plus a miniature, reviewed through the CLI at a low node limit."""
    out = tmp_path_factory.mktemp("review")
    pgn = out / "games.pgn"
    pgn.write_text(first_games(pgn_dir / "norway-chess-2022-classical.pgn", 3) + "\n\n" + MINIATURE)
    result = CliRunner().invoke(
        app,
        ["analyze", str(pgn), "-o", str(out / "out"), "--nodes", NODES, "--workers", "2", "--cache",
         str(out / "cache.sqlite")],
    )
    assert result.exit_code == 0, result.output
    return out


def test_annotated_pgn_reparses_with_the_same_mainline_and_evals(reviewed: Path) -> None:
    originals = [r.game for r in read_games(reviewed / "games.pgn")]
    with open(reviewed / "out" / "annotated.pgn") as fh:
        annotated = []
        while (game := chess.pgn.read_game(fh)) is not None:
            assert game.errors == []
            annotated.append(game)
    assert len(annotated) == len(originals) == 4
    for original, game in zip(originals, annotated, strict=True):
        assert original is not None
        assert list(game.mainline_moves()) == list(original.mainline_moves())
        for node in game.mainline():
            if node.board().is_checkmate():
                continue  # a finished game has no eval (as in Lichess's exports)
            assert node.eval() is not None, f"no eval at ply {node.ply()}"
        assert "chessteach" in game.headers["Annotator"]
        for node in game.mainline():
            assert not ({2, 4, 6} & node.nags) or "was best" in node.comment or "Inaccuracy" in node.comment


def test_judgments_agree_with_the_win_drops(reviewed: Path) -> None:
    moves = pd.read_csv(reviewed / "out" / "moves.csv", keep_default_na=False)
    assert len(moves) > 100
    # Without mates and inside +/-1000 cp, Lichess's judgment is the drop of the mover's win% (clamped
    # curve = unclamped curve there): 5 / 10 / 15 points.
    plain = moves[
        moves.eval_before.str.match(r"^[+-]\d")
        & moves.eval_after.str.match(r"^[+-]\d")
        & (moves.cp_before_white.abs() < 1000)
        & (moves.cp_after_white.abs() < 1000)
    ]
    assert len(plain) > 100
    for row in plain.itertuples():
        drop = row.win_before - row.win_after
        expected = "Blunder" if drop >= 15 else "Mistake" if drop >= 10 else "Inaccuracy" if drop >= 5 else ""
        if not math.isclose(drop, 5, abs_tol=1e-3) and not math.isclose(drop, 10, abs_tol=1e-3):
            assert row.judgment == expected, (row.game, row.ply, row.san, drop, row.judgment)
    assert set(moves.judgment) <= {"", "Inaccuracy", "Mistake", "Blunder"}


def test_moves_csv_has_the_refutation_of_each_critical_move(reviewed: Path) -> None:
    moves = pd.read_csv(reviewed / "out" / "moves.csv", keep_default_na=False)
    critical = moves[moves.critical.astype(str) == "True"]
    assert len(critical) >= 2
    assert (moves[moves.critical.astype(str) != "True"].refutation_line == "").all()
    for row in critical.itertuples():
        board = chess.Board(row.fen_before)
        board.push_uci(row.uci)
        if board.is_game_over():
            continue
        for san in row.refutation_line.split():
            board.push_san(san)  # a legal line from the position after the move
        assert row.refutation_line, (row.game, row.ply)
    assert "mate in 1" in set(critical.refutation_wins)  # the miniature's 3... Nf6, refuted by 4. Qxf7#


def test_the_refutation_is_a_variation_where_the_game_went_another_way() -> None:
    """After 3... Nf6?? White missed 4. Qxf7#: the annotated PGN has the mate as a variation of 4. Qf3, and says
    so in the comment; the main line stays the game's."""
    game = chess.pgn.read_game(io.StringIO(MINIATURE.replace("4. Qxf7# 1-0", "4. Qf3 *")))
    assert game is not None
    with EnginePool(limit=EngineLimit(nodes=5000), workers=1, cache=AnalysisCache(":memory:")) as pool:
        [review] = review_games([game], pool)
    annotated = annotate_game(game, review)
    assert list(annotated.mainline_moves()) == list(game.mainline_moves())
    nf6 = [node for node in annotated.mainline() if node.ply() == 6][0]
    assert "Qxf7# refutes it, with mate in 1." in nf6.comment
    assert [nf6.board().san(v.move) for v in nf6.variations] == ["Qf3", "Qxf7#"]


def test_accuracies_and_the_crushed_side(reviewed: Path) -> None:
    games = pd.read_csv(reviewed / "out" / "games.csv")
    assert len(games) == 4
    for column in ("white_accuracy", "black_accuracy"):
        assert games[column].between(0, 100).all()
    miniature = games[games.white == "Attacker"].iloc[0]
    assert miniature.black_accuracy < miniature.white_accuracy
    assert miniature.black_blunders >= 1


def test_report_and_outputs_exist(reviewed: Path) -> None:
    for name in ("annotated.pgn", "moves.csv", "games.csv", "report.html"):
        assert (reviewed / "out" / name).stat().st_size > 0


OUTPUTS = ("annotated.pgn", "moves.csv", "games.csv", "report.html")


def test_a_game_at_a_time_writes_the_same_files(reviewed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``analyze`` reviews and writes a batch of games at a time: batches of one game give the same bytes as the
    fixture's one batch (served from its cache); ``--report-games`` bounds the report and the table alone."""
    from chessteach.games import review

    monkeypatch.setattr(review, "GAME_BATCH", 1)
    common = ["analyze", str(reviewed / "games.pgn"), "--nodes", NODES, "--workers", "2", "--cache",
              str(reviewed / "cache.sqlite")]
    result = CliRunner().invoke(app, [*common, "-o", str(reviewed / "one-by-one")])
    assert result.exit_code == 0, result.output
    for name in OUTPUTS:
        assert (reviewed / "one-by-one" / name).read_bytes() == (reviewed / "out" / name).read_bytes(), name
    bounded = CliRunner().invoke(app, [*common, "-o", str(reviewed / "bounded"), "--report-games", "2"])
    assert bounded.exit_code == 0, bounded.output
    for name in OUTPUTS[:3]:
        assert (reviewed / "bounded" / name).read_bytes() == (reviewed / "out" / name).read_bytes(), name
    report = (reviewed / "bounded" / "report.html").read_text(encoding="utf-8")
    assert "The first 2 of 4 games reviewed" in report and report.count('<section class="game"') == 2
    assert "the first 2 of 4 games" in bounded.output and "4 game(s) reviewed" in bounded.output
    assert "The first" not in (reviewed / "out" / "report.html").read_text(encoding="utf-8")


def test_broken_game_in_the_middle_is_reported_and_the_rest_analysed(tmp_path: Path, pgn_dir: Path) -> None:
    games = first_games(pgn_dir / "candidates-madrid-2022.pgn", 3).split("\n[Event ")
    second = games[1].replace(" 5. ", " 5. Qxh8 ", 1)  # an illegal move in game 2
    assert second != games[1]
    pgn = tmp_path / "broken.pgn"
    pgn.write_text(games[0] + "\n[Event " + second + "\n[Event " + games[2])
    records = list(read_games(pgn))
    assert [r.number for r in records] == [1, 2, 3]
    assert records[1].error is not None and "game 2" in records[1].error and "Qxh8" in records[1].error
    assert records[1].headers["White"] in records[1].error
    result = CliRunner().invoke(
        app,
        ["analyze", str(pgn), "-o", str(tmp_path / "out"), "--nodes", "5000", "--workers", "2",
         "--game", "1", "--game", "2", "--cache", str(tmp_path / "c.sqlite")],
    )
    assert result.exit_code == 0, result.output
    assert "skipped" in result.output and "game 2" in result.output
    assert list(pd.read_csv(tmp_path / "out" / "games.csv").game) == [1]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_damaged_pgn_never_crashes_the_reader(data: st.DataObject, tmp_path: Path, pgn_dir: Path) -> None:
    raw = bytearray(first_games(pgn_dir / "candidates-zurich-1953.pgn", 3).encode())
    for _ in range(data.draw(st.integers(1, 12))):
        kind = data.draw(st.sampled_from(["flip", "delete", "insert"]))
        at = data.draw(st.integers(0, len(raw) - 1))
        if kind == "flip":
            raw[at] = data.draw(st.integers(0, 255))
        elif kind == "delete":
            del raw[at : at + data.draw(st.integers(1, 40))]
        else:
            raw[at:at] = data.draw(st.binary(min_size=1, max_size=20))
    path = tmp_path / "damaged.pgn"
    path.write_bytes(bytes(raw))
    for record in read_games(path):
        if record.error is not None:
            assert str(path) in record.error and f"game {record.number}" in record.error
        if record.game is not None:
            boards, moves = game_positions(record.game)  # what the review would analyse
            assert len(boards) == len(moves) + 1


def test_review_library_on_a_miniature() -> None:
    game = chess.pgn.read_game(io.StringIO(MINIATURE))
    assert game is not None
    with EnginePool(limit=EngineLimit(nodes=5000), workers=1, cache=AnalysisCache(":memory:")) as pool:
        [review] = review_games([game], pool)
    assert [m.san for m in review.moves][-1] == "Qxf7#"
    nf6 = review.moves[5]
    assert nf6.san == "Nf6" and nf6.judgment is not None and nf6.critical
    assert nf6.best_san != "Nf6" and moment_writeups(review)[nf6.ply].startswith("3... Nf6")
    assert nf6.refutation is not None and nf6.refutation.san == ["Qxf7#"] and nf6.refutation.mate == 1
    assert [f.kind for f in nf6.refutation.facts][:1] == ["checkmate"]
    assert "White's best reply is 4. Qxf7#, with mate in 1: " in moment_writeups(review)[nf6.ply]


def test_each_mistake_and_blunder_has_a_checked_refutation(pgn_dir: Path, tmp_path: Path) -> None:
    """On a real game, every mistake and blunder has a refutation: its first move is the engine's best reply
    in the position after the move, its line is legal, and each fact holds on a board along the line. A rerun
    from the cache with another number of engines gives the same refutations."""
    [record] = [r for r in read_games(pgn_dir / "candidates-2022-sample.pgn") if r.number == 1]
    assert record.game is not None
    cache = AnalysisCache(tmp_path / "cache.sqlite")
    with EnginePool(limit=EngineLimit(nodes=20000), workers=2, cache=cache) as pool:
        [review] = review_games([record.game], pool)
        bad = [m for m in review.moves if m.judgment in (Judgment.MISTAKE, Judgment.BLUNDER)]
        assert len(bad) >= 2
        afters = []
        for m in bad:
            board = chess.Board(m.fen_before)
            board.push_uci(m.uci)
            afters.append(board.copy(stack=False))
        replies = [a.best_move for a in pool.analyse(afters)]
    writeups = moment_writeups(review)
    for m, after, reply in zip(bad, afters, replies, strict=True):
        refutation = m.refutation
        assert refutation is not None and reply is not None, m.san
        assert refutation.san[0] == after.san(reply)
        line = after.copy(stack=False)
        positions = set()
        for san in refutation.san:
            line.push_san(san)  # raises on an illegal move
            positions.add(line.fen())
        for fact in refutation.facts:
            assert fact.position in positions, (m.san, fact)
            assert check_fact(chess.Board(fact.position), fact), (m.san, fact)
        reply_label = ply_label(m.ply + 1, refutation.reply_san)
        assert f"best reply is {reply_label} (line: {numbered_sans(m.ply + 1, refutation.san)})" in writeups[m.ply]
    assert any(m.refutation and m.refutation.facts for m in bad)
    with EnginePool(limit=EngineLimit(nodes=20000), workers=1, cache=cache) as pool:
        [again] = review_games([record.game], pool)
    assert [m.refutation for m in again.moves] == [m.refutation for m in review.moves]


def test_moment_write_ups_name_structure_changes_not_pieces_against_pawns() -> None:
    """Nf3-d4 blockades Black's isolated d5: the fact exists, but a moment's write-up states only what changed in
    the pawn structure (here: nothing), not which pieces attack, blockade or defend which pawn."""
    before = chess.Board("6k1/5ppp/8/3p4/8/5N2/5PPP/6K1 w - - 0 1")
    after = before.copy()
    after.push(chess.Move.from_uci("f3d4"))
    assert {"blockade"} <= {f.kind for f in positional_facts(after)}
    assert not {f.kind for f in new_positional_facts(before, after)} & set(PAWN_PLAY_KINDS)
    # c4-c5 passes the b5 pawn: the write-up states the pawn on its new square, isolated (as on c4) and passed.
    pushed = chess.Board("8/5k2/8/1p6/P1P5/8/5K2/8 w - - 0 1")
    then = pushed.copy()
    then.push(chess.Move.from_uci("c4c5"))
    assert [f.kind for f in new_positional_facts(pushed, then)] == ["isolated_pawn", "passed_pawn"]


def test_a_game_review_is_data_only() -> None:
    """Importing the games layer loads neither teaching, the language models nor Jinja2: write-ups are composed
    above the review (chessteach.teaching.moments)."""
    code = (
        "import chessteach.games, sys; "
        "print([m for m in sys.modules if m.startswith(('chessteach.teaching', 'chessteach.llm', 'jinja2'))])"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
