"""The Lichess puzzle CSV: every column kept, bad rows reported with their line and id, the rest loaded."""

from __future__ import annotations

import csv
from pathlib import Path

import chess
import pytest

from chessteach.errors import BadRecordError
from chessteach.puzzles import LICHESS_COLUMNS, Puzzle, read_puzzles, write_puzzles


def test_reads_the_real_file(lichess_csv: Path) -> None:
    puzzles = read_puzzles(lichess_csv)
    assert puzzles.errors == []
    assert len(puzzles.puzzles) == 2462
    assert puzzles.columns == LICHESS_COLUMNS
    first = puzzles.puzzles[0]
    assert first.id == "00008"
    assert first.moves[0] == chess.Move.from_uci("f2g3")  # the opponent's setup move
    assert [m.uci() for m in first.solver_moves] == ["e6e7", "b3c1", "h6c1"]
    assert first.position().turn == chess.WHITE
    assert first.extra["GameUrl"].startswith("https://lichess.org/")


def test_round_trip_keeps_every_column(lichess_csv: Path, tmp_path: Path) -> None:
    source = read_puzzles(lichess_csv)
    out = tmp_path / "out.csv"
    write_puzzles(out, source.puzzles[:50], columns=source.columns)
    with open(lichess_csv, newline="") as a, open(out, newline="") as b:
        original = list(csv.DictReader(a))[:50]
        written = list(csv.DictReader(b))
    assert written == original


def test_bad_rows_are_reported_and_skipped(lichess_csv: Path, tmp_path: Path) -> None:
    lines = lichess_csv.read_text().splitlines()
    header, good = lines[0], lines[1:6]
    bad_fen = "BADFEN,r6k/pp2r2p/4Rp1Q/3p4/8/1N1P2R1/PqP2bPP/7 b - - 0 24,f2g3 e6e7,1800,77,95,8421,fork,,"
    illegal = "BADMOVE,r6k/pp2r2p/4Rp1Q/3p4/8/1N1P2R1/PqP2bPP/7K b - - 0 24,f2g3 e6e8,1800,77,95,8421,fork,,"
    short = "SHORT,r6k/pp2r2p/4Rp1Q/3p4/8/1N1P2R1/PqP2bPP/7K b - - 0 24"
    path = tmp_path / "mixed.csv"
    path.write_text("\n".join([header, good[0], bad_fen, good[1], illegal, good[2], short, *good[3:]]) + "\n")
    result = read_puzzles(path)
    assert [p.id for p in result.puzzles] == [line.split(",")[0] for line in good]
    assert [(e.line, e.record) for e in result.errors] == [(3, "BADFEN"), (5, "BADMOVE"), (7, "SHORT")]
    assert "bad FEN" in str(result.errors[0]) and str(path) in str(result.errors[0])
    assert "illegal move e6e8 (move 2 of Moves)" in str(result.errors[1])
    assert "columns" in str(result.errors[2])


def test_missing_column_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "nomoves.csv"
    path.write_text("PuzzleId,FEN\n1,8/8/8/8/8/8/8/K6k w - - 0 1\n")
    with pytest.raises(BadRecordError, match=r"nomoves.csv:1: missing column\(s\) Moves"):
        read_puzzles(path)


def test_puzzle_from_the_command_line_form() -> None:
    puzzle = Puzzle.from_solution("6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1", ["Ra8#"])
    assert not puzzle.setup
    assert puzzle.solver_moves == [chess.Move.from_uci("a1a8")]
    assert puzzle.final_board().is_checkmate()
    with pytest.raises(ValueError, match="bad solution move 'Ra9'"):
        Puzzle.from_solution("6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1", ["Ra9"])


def test_one_puzzle_on_the_command_line() -> None:
    from typer.testing import CliRunner

    from chessteach.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["puzzles", "tag", "--fen", "6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1", "--solution", "Ra8#"])
    assert result.exit_code == 0, result.output
    assert "mateIn1" in result.output and "backRankMate" in result.output
    bad = runner.invoke(app, ["puzzles", "tag", "--fen", "8/8/8/8/8/8/8/K6k w - - 0 1", "--solution", "Ka9"])
    assert bad.exit_code == 2 and "bad solution move 'Ka9'" in bad.output
    neither = runner.invoke(app, ["puzzles", "tag"])
    assert neither.exit_code == 2 and "--fen" in neither.output


def test_a_repeat_after_the_ids_move_to_disk_names_the_first_line(
    lichess_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Beyond ``IN_MEMORY`` ids the index lives in a temporary SQLite table; a repeat of an id stored there, and
    of one still in memory, is reported with the line of the first one, as before."""
    from chessteach.puzzles import seen_ids

    monkeypatch.setattr(seen_ids, "IN_MEMORY", 3)
    lines = lichess_csv.read_text().splitlines()
    rows = lines[1:11]  # lines 2..11 of the file below
    repeat_old = rows[1]  # line 3: moved to disk after line 4
    repeat_new = rows[9]  # line 11: still in memory
    path = tmp_path / "repeats.csv"
    path.write_text("\n".join([lines[0], *rows, repeat_old, repeat_new, *lines[11:13]]) + "\n")
    result = read_puzzles(path)
    assert [p.id for p in result.puzzles] == [r.split(",")[0] for r in [*rows, *lines[11:13]]]
    assert [(e.line, e.record) for e in result.errors] == [
        (12, repeat_old.split(",")[0]), (13, repeat_new.split(",")[0])
    ]
    assert "repeats the one in line 3" in str(result.errors[0])
    assert "repeats the one in line 11" in str(result.errors[1])


def test_seen_ids_hold_at_most_their_bound_in_memory() -> None:
    from chessteach.puzzles.seen_ids import SeenIds

    with SeenIds(in_memory=100) as seen:
        for i in range(1050):
            assert seen.line_of(f"id{i}") is None
            seen.add(f"id{i}", i + 2)
        assert len(seen._recent) < 100 and len(seen) == 1050
        assert [seen.line_of(f"id{i}") for i in (0, 99, 100, 1049)] == [2, 101, 102, 1051]
    assert len(seen) == 0 and seen.line_of("id0") is None  # closed: the temporary table is gone


def test_a_writer_fixes_its_header_with_the_first_batch(lichess_csv: Path, tmp_path: Path) -> None:
    """``PuzzleWriter`` writes batches as they come: the same bytes as ``write_puzzles`` of them all; a later
    puzzle that fills a column the header lacks is an error, not a value silently lost."""
    puzzles = read_puzzles(lichess_csv).puzzles[:30]
    for puzzle in puzzles:
        puzzle.extra["Verified"] = "true"
    write_puzzles(tmp_path / "whole.csv", puzzles)
    from chessteach.puzzles import PuzzleWriter

    with PuzzleWriter(tmp_path / "batches.csv") as writer:
        for start in range(0, 30, 7):
            writer.write(puzzles[start : start + 7])
    assert (tmp_path / "batches.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()
    puzzles[10].extra["Extra"] = "late"
    with PuzzleWriter(tmp_path / "late.csv") as writer, pytest.raises(ValueError, match="fills column Extra"):
        writer.write(puzzles[:10])
        writer.write(puzzles[10:])
