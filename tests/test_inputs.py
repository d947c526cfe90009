"""Reading PGN and puzzle CSVs zstd-compressed and from standard input (chessteach/inputs.py): the same records
as the plain files, streamed, and damaged compressed data as one line naming the file and the byte."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import zstandard

from chessteach.data import bundled
from chessteach.errors import InputError
from chessteach.games.read import read_games
from chessteach.inputs import open_input
from chessteach.puzzles.lichess_csv import bundled_puzzles, iter_puzzles, read_puzzles

ROOT = Path(__file__).resolve().parents[1]
DEV_CSV = ROOT / "tests" / "data" / "lichess-dev.csv"
PGN = bundled("games", "candidates-2022-sample.pgn")


def compress(source: Path, target: Path, frames: int = 1) -> Path:
    """``source`` as zstd, cut into ``frames`` frames at line ends (as pzstd and zstdcat -c a b write)."""
    lines = source.read_bytes().splitlines(keepends=True)
    step = -(-len(lines) // frames)
    target.write_bytes(b"".join(zstandard.ZstdCompressor().compress(b"".join(lines[i : i + step]))
                                for i in range(0, len(lines), step)))
    return target


def game_facts(path: Path) -> list[tuple[int, int, str | None, dict[str, str], str]]:
    return [(r.number, r.line, r.error and r.error.split(": ", 1)[1], r.headers,
             "" if r.game is None else " ".join(m.uci() for m in r.game.mainline_moves())) for r in read_games(path)]


def puzzle_facts(path: Path) -> tuple[list[tuple[str, str, str, dict[str, str]]], list[tuple[int | None, str]]]:
    puzzle_file = read_puzzles(path)
    puzzles = [(p.id, p.fen, " ".join(m.uci() for m in p.moves), p.extra) for p in puzzle_file.puzzles]
    return puzzles, [(e.line, e.reason) for e in puzzle_file.errors]


@pytest.mark.parametrize("frames", [1, 3])
def test_zst_pgn_reads_the_same_games(tmp_path: Path, frames: int) -> None:
    packed = compress(PGN, tmp_path / "games.pgn.zst", frames)
    assert packed.stat().st_size < PGN.stat().st_size
    plain = game_facts(PGN)
    assert len(plain) > 1 and game_facts(packed) == plain


@pytest.mark.parametrize("source", [bundled_puzzles(), DEV_CSV], ids=["sample", "dev"])
def test_zst_csv_reads_the_same_puzzles(tmp_path: Path, source: Path) -> None:
    packed = compress(source, tmp_path / "puzzles.csv.zst", frames=4)
    plain = puzzle_facts(source)
    assert plain[0] and puzzle_facts(packed) == plain
    assert read_puzzles(packed).path == str(packed)


def test_zstd_data_is_known_by_its_magic_number(tmp_path: Path) -> None:
    packed = compress(DEV_CSV, tmp_path / "puzzles.csv", frames=2)  # no .zst in the name
    assert puzzle_facts(packed) == puzzle_facts(DEV_CSV)


def test_cut_off_zst_keeps_the_rows_before_and_names_the_file(tmp_path: Path) -> None:
    packed = compress(DEV_CSV, tmp_path / "cut.csv.zst", frames=4)
    data = packed.read_bytes()
    packed.write_bytes(data[: len(data) - 10])
    read: list[str] = []
    with pytest.raises(InputError) as caught:
        read.extend(p.id for p in iter_puzzles(packed))
    message = str(caught.value)
    assert "\n" not in message and str(packed) in message and f"byte {len(data) - 10}" in message
    assert "cut off" in message
    all_ids = [p.id for p in read_puzzles(DEV_CSV).puzzles]
    assert 0 < len(read) < len(all_ids) and read == all_ids[: len(read)]  # the first frames' rows, in order


def test_damaged_zst_is_one_line_naming_the_byte(tmp_path: Path) -> None:
    packed = compress(PGN, tmp_path / "bad.pgn.zst")
    data = bytearray(packed.read_bytes())
    data[40:60] = b"\xff" * 20
    packed.write_bytes(bytes(data))
    with pytest.raises(InputError, match=r"bad\.pgn\.zst: damaged zstd data near byte \d+"):
        list(read_games(packed))


def test_open_input_streams_a_large_zst_in_chunks(tmp_path: Path) -> None:
    """A compressed file is decompressed as it is read: the reader never holds much more than one chunk, even when
    the data expands thousands of times (here about 20,000 times)."""
    line = b"x" * 99 + b"\n"
    packed = tmp_path / "big.zst"
    packed.write_bytes(zstandard.ZstdCompressor().compress(line * 200_000))  # 20 MB, one frame
    with open_input(packed) as fh:
        count = sum(1 for _ in fh)
        raw = fh.raw  # type: ignore[attr-defined]
        assert raw._largest < 1 << 20  # the most one decompression call gave
    assert count == 200_000


def cli(*args: str, stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "chessteach", *args], input=stdin, capture_output=True, env=env,
                          cwd=ROOT, timeout=300, check=False)


def test_puzzles_tag_reads_standard_input(tmp_path: Path) -> None:
    out_plain, out_stdin = tmp_path / "plain.csv", tmp_path / "stdin.csv"
    assert cli("puzzles", "tag", str(DEV_CSV), "-o", str(out_plain), stdin=b"").returncode == 0
    packed = compress(DEV_CSV, tmp_path / "dev.csv.zst", frames=2)
    result = cli("puzzles", "tag", "-", "-o", str(out_stdin), stdin=packed.read_bytes())  # zstd through a pipe
    assert result.returncode == 0, result.stderr.decode()
    assert out_stdin.read_bytes() == out_plain.read_bytes()


def test_cut_off_zst_on_the_command_line_is_one_error_line(tmp_path: Path) -> None:
    packed = compress(PGN, tmp_path / "cut.pgn.zst")
    packed.write_bytes(packed.read_bytes()[:-7])
    result = cli("evals", str(packed), stdin=b"")
    errors = [line for line in result.stderr.decode().splitlines() if line.strip()]
    assert result.returncode == 2 and len(errors) == 1, result.stderr.decode()
    assert errors[0].startswith("error: ") and "cut.pgn.zst: zstd data cut off at byte" in errors[0]


def test_a_missing_input_is_a_usage_error(tmp_path: Path) -> None:
    result = cli("evals", str(tmp_path / "nothing.pgn"), stdin=b"")
    assert result.returncode == 2 and b"does not exist" in result.stderr
