"""Byte damage on real games and real puzzles: bit flips, byte changes, deletions, insertions and truncation, with
fixed seeds and with hypothesis (derandomized). No engine.

The property, for a file cut from N real records (games or puzzle rows) where only record k is damaged:

- reading never raises;
- every other record comes out exactly as from the clean file (same headers and moves, same puzzle), in order;
- record k is either read or reported, once: a game as one record (good, or with ``error`` naming the file and its
  number); a row's lines each give at most one puzzle or one error, and every error names a line of record k.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_hostile_input import real_games

from chessteach.games.read import GameRecord, game_positions, read_games
from chessteach.puzzles import read_puzzles
from chessteach.puzzles.puzzle import Puzzle

Choose = Callable[[int, int], int]
"""An integer in [lo, hi]: from a seeded ``random.Random`` or drawn by hypothesis."""

KINDS = ("flip", "set", "delete", "insert", "truncate")
SEEDED_FILES = 120
"""Damaged files per format in the fixed-seed sweeps (plus the hypothesis examples)."""
FUZZ = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def damage(piece: bytes, choose: Choose) -> bytes:
    """``piece`` after one to four random damages."""
    raw = bytearray(piece)
    for _ in range(choose(1, 4)):
        if not raw:
            break
        kind = KINDS[choose(0, len(KINDS) - 1)]
        at = choose(0, len(raw) - 1)
        if kind == "flip":
            raw[at] ^= 1 << choose(0, 7)
        elif kind == "set":
            raw[at] = choose(0, 255)
        elif kind == "delete":
            del raw[at : at + choose(1, 40)]
        elif kind == "insert":
            raw[at:at] = bytes(choose(0, 255) for _ in range(choose(1, 20)))
        else:
            del raw[at:]
    return bytes(raw)


@dataclass
class Tally:
    """What a sweep tried and found (the seeded tests print it: ``pytest -s tests/test_fuzz.py``)."""

    files: int = 0
    crashes: int = 0  # reading raised
    lost: int = 0  # good records that did not come out as from the clean file
    broken: int = 0  # files where the property failed otherwise (a record reported twice, or at a wrong line)
    damaged_read: int = 0  # the damaged record read anyway
    damaged_reported: int = 0  # the damaged record reported
    damaged_gone: int = 0  # the damaged record damaged into blank lines: nothing left to read or report


@dataclass
class Corpus:
    """Real records as raw bytes (each with its line break or blank line), and what the clean file reads as."""

    pieces: list[bytes]
    expected: list[tuple[object, ...]]


def sweep(check: Callable[[Path, Corpus, int, Choose, Tally], None], corpus: Corpus, directory: Path, *,
          first: int = 0, files: int = SEEDED_FILES) -> Tally:
    """Damage record ``first + seed % count`` with ``random.Random(seed)`` for each seed; count what happened."""
    tally = Tally()
    count = len(corpus.pieces) - first
    for seed in range(files):
        lost, crashes = tally.lost, tally.crashes
        try:
            check(directory / f"seed-{seed}", corpus, first + seed % count, random.Random(seed).randint, tally)
        except AssertionError:
            tally.broken += tally.lost == lost
        except Exception:  # noqa: BLE001 - a crash is what the sweep counts
            tally.crashes += tally.crashes == crashes
    return tally


# --- PGN ---------------------------------------------------------------------------------------------------------


def game_summary(record: GameRecord) -> tuple[object, ...]:
    moves = [m.uci() for m in record.game.mainline_moves()] if record.game is not None else None
    return record.number, record.headers, moves, record.error


@pytest.fixture(scope="module")
def games(pgn_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    """Four real games: two of Zurich 1953 (all moves on one line), two of Norway 2022 (wrapped at 80 columns)."""
    texts = real_games(pgn_dir / "candidates-zurich-1953.pgn", 2) + real_games(pgn_dir / "norway-chess-2022-classical.pgn", 2)
    clean = tmp_path_factory.mktemp("clean") / "clean.pgn"
    clean.write_text("".join(texts), encoding="utf-8")
    expected = [game_summary(r) for r in read_games(clean)]
    assert len(expected) == 4 and all(e[3] is None for e in expected)
    return Corpus([t.encode() for t in texts], expected)


def check_games(path: Path, corpus: Corpus, k: int, choose: Choose, tally: Tally) -> None:
    """Damage game ``k`` (0-based; not the blank line after it), read the file and check the property."""
    games, expected = corpus.pieces, corpus.expected
    body = damage(games[k][:-2], choose)
    cut_off = k == len(games) - 1 and choose(0, 3) == 0  # sometimes the file itself ends inside the last game
    path = path.with_suffix(".pgn")
    path.write_bytes(b"".join(games[:k]) + body + (b"" if cut_off else b"\n\n") + b"".join(games[k + 1 :]))
    tally.files += 1
    try:
        records = list(read_games(path))
    except Exception:
        tally.crashes += 1
        raise
    if not body.strip():  # the game was damaged away entirely: the others are still all there
        assert [g[1:] for g in (game_summary(r) for r in records)] == [e[1:] for i, e in enumerate(expected) if i != k]
        tally.damaged_gone += 1
        return
    got = [game_summary(r) for r in records]
    after = len(games) - k - 1
    tally.lost += sum(a != b for a, b in zip(got[:k], expected[:k], strict=False))
    tally.lost += sum(a != b for a, b in zip(got[len(got) - after :] if after else [], expected[k + 1 :], strict=False))
    assert got[:k] == expected[:k] and (not after or got[len(got) - after :] == expected[k + 1 :])
    assert len(records) == len(games), [r.error for r in records]
    middle = records[k]
    if middle.error is None:
        tally.damaged_read += 1
        assert middle.game is not None
        boards, moves = game_positions(middle.game)  # what a review would analyse
        assert len(boards) == len(moves) + 1
    else:
        tally.damaged_reported += 1
        assert middle.error.startswith(f"{path}:{middle.line}: game {k + 1} (")


# --- Puzzle CSV --------------------------------------------------------------------------------------------------


def puzzle_summary(p: Puzzle) -> tuple[object, ...]:
    return p.id, p.fen, [m.uci() for m in p.moves], p.rating, p.themes, p.extra


@pytest.fixture(scope="module")
def puzzle_rows(lichess_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    """The header and the first 30 real Lichess puzzles, as raw lines."""
    rows = lichess_csv.read_bytes().splitlines(keepends=True)[:31]
    clean = tmp_path_factory.mktemp("clean") / "clean.csv"
    clean.write_bytes(b"".join(rows))
    loaded = read_puzzles(clean)
    assert not loaded.errors and len(loaded.puzzles) == 30
    return Corpus(rows, [puzzle_summary(p) for p in loaded.puzzles])


def check_rows(path: Path, corpus: Corpus, k: int, choose: Choose, tally: Tally) -> None:
    """Damage row ``k`` (1-based, line ``k + 1``; not its line break), read the file and check the property."""
    rows, clean = corpus.pieces, corpus.expected
    body = damage(rows[k][:-1], choose)
    path = path.with_suffix(".csv")
    path.write_bytes(b"".join(rows[:k]) + body + b"\n" + b"".join(rows[k + 1 :]))
    tally.files += 1
    try:
        result = read_puzzles(path)
    except Exception:
        tally.crashes += 1
        raise
    got = [puzzle_summary(p) for p in result.puzzles]
    before, after = clean[: k - 1], clean[k:]
    tally.lost += sum(a != b for a, b in zip(got[: len(before)], before, strict=False))
    tally.lost += sum(a != b for a, b in zip(got[len(got) - len(after) :] if after else [], after, strict=False))
    assert got[: len(before)] == before and (not after or got[len(got) - len(after) :] == after), result.errors
    span = range(k + 1, k + 2 + body.count(b"\n"))  # the lines row k takes now
    lines = [e.line for e in result.errors]
    from_k = len(got) - len(before) - len(after)
    assert all(line in span for line in lines) and len(set(lines)) == len(lines), (lines, span)
    assert from_k >= 0 and from_k + len(lines) <= len(span)
    assert all(str(path) in str(e) for e in result.errors)
    if lines:
        tally.damaged_reported += 1
    elif from_k:
        tally.damaged_read += 1
    else:
        assert not body.strip(), body  # only a row damaged into blank lines may vanish without a word
        tally.damaged_gone += 1


# --- The tests: both formats -------------------------------------------------------------------------------------

FORMATS = {"games": (check_games, 0), "puzzle_rows": (check_rows, 1)}
"""The corpus fixture of each format, its check, and the index of its first record (a CSV's row 0 is its header)."""


@pytest.mark.parametrize("corpus_name", list(FORMATS))
@FUZZ
@given(data=st.data())
def test_damage_in_one_record_costs_only_that_record(
    data: st.DataObject, corpus_name: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    check, first = FORMATS[corpus_name]
    corpus: Corpus = request.getfixturevalue(corpus_name)
    k = data.draw(st.integers(first, len(corpus.pieces) - 1))
    check(tmp_path / "damaged", corpus, k, lambda lo, hi: data.draw(st.integers(lo, hi)), Tally())


@pytest.mark.parametrize("corpus_name", list(FORMATS))
def test_seeded_damage(corpus_name: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    check, first = FORMATS[corpus_name]
    tally = sweep(check, request.getfixturevalue(corpus_name), tmp_path, first=first)
    print(f"{corpus_name}: {tally}")
    assert (tally.files, tally.crashes, tally.lost, tally.broken) == (SEEDED_FILES, 0, 0, 0), tally
    assert tally.damaged_read + tally.damaged_reported + tally.damaged_gone == SEEDED_FILES
    assert tally.damaged_reported > SEEDED_FILES // 2
