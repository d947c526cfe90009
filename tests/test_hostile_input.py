"""Hostile but fair input, on real games and puzzles: each damaged record is reported once with its file and line,
every good one is kept, nothing ends in a traceback, and no file name made from data leaves its directory."""

from __future__ import annotations

import gzip
import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chessteach.cli import app
from chessteach.errors import BadRecordError
from chessteach.filenames import MAX_NAME, safe_file_name
from chessteach.games.read import read_games
from chessteach.puzzles import LICHESS_COLUMNS, Puzzle, iter_puzzles, read_puzzles
from chessteach.puzzles.verify import verdict

MADRID = "candidates-madrid-2022.pgn"


def real_games(pgn: Path, n: int | None = None) -> list[str]:
    """The text of the first ``n`` games of a real PGN file, each ending in one blank line."""
    chunks = pgn.read_text(encoding="utf-8").strip("\n").split("\n\n[Event ")
    games = [chunks[0]] + ["[Event " + c for c in chunks[1:]]
    return [g + "\n\n" for g in games[:n]]


def write(path: Path, games: list[str]) -> Path:
    path.write_text("".join(games), encoding="utf-8")
    return path


@pytest.fixture
def three(pgn_dir: Path) -> list[str]:
    return real_games(pgn_dir / MADRID, 3)


def good_moves(path: Path) -> dict[int, list[str]]:
    return {r.number: [m.uci() for m in r.game.mainline_moves()] for r in read_games(path)
            if r.error is None and r.game is not None}


# --- PGN: one damaged game never costs the others -------------------------------------------------------------


def test_a_game_python_chess_raises_on_is_skipped_and_the_rest_read(tmp_path: Path, three: list[str]) -> None:
    damaged = three[1].replace(" 5. cxd5 ", " 5. Qh8)! cxd5 ", 1)  # IndexError inside python-chess
    assert damaged != three[1]
    path = write(tmp_path / "raises.pgn", [three[0], damaged, three[2]])
    records = list(read_games(path))
    assert [r.number for r in records] == [1, 2, 3]
    assert [r.error is None for r in records] == [True, False, True]
    error = records[1].error or ""
    assert f"{path}:{records[1].line}: game 2 (Ding, Liren - Nepomniachtchi, Ian" in error and "IndexError" in error
    assert records[1].line == three[0].count("\n") + 1
    assert records[1].headers["White"] == "Ding, Liren"  # from its tag lines, though python-chess gave up
    clean = write(tmp_path / "clean.pgn", three)
    assert {k: v for k, v in good_moves(clean).items() if k != 2} == good_moves(path)


def test_evals_goes_on_after_a_game_python_chess_raises_on(tmp_path: Path, three: list[str]) -> None:
    damaged = three[0].replace(" 5. ", " 5. Qh8)! ", 1)
    path = write(tmp_path / "raises.pgn", [damaged, three[1]])
    result = subprocess.run(
        [sys.executable, "-m", "chessteach", "evals", str(path), "--nodes", "2000", "-w", "1", "--no-cache"],
        capture_output=True, text=True, timeout=300, env={**os.environ, "COLUMNS": "200"},
    )
    assert result.returncode == 0, result.stderr
    assert "skipped" in result.stderr and "game 1" in result.stderr and "Game 2:" in result.stdout
    assert result.stderr.count("IndexError") == 1, result.stderr  # reported once, not logged and printed again


def test_a_broken_tag_line_is_one_bad_game_not_a_phantom(tmp_path: Path, three: list[str]) -> None:
    lost_bracket = three[1].replace('[White "', 'White "', 1)
    path = write(tmp_path / "tag.pgn", [three[0], lost_bracket, three[2]])
    records = list(read_games(path))
    assert [r.number for r in records] == [1, 2, 3]  # not four: no 0-move game with half the headers
    assert f"broken tag line {records[1].line + 4}: 'White " in (records[1].error or "")  # game 2's 5th line
    assert records[0].error is None and records[2].error is None


def test_a_header_only_game_is_reported_as_having_no_moves(tmp_path: Path, three: list[str]) -> None:
    headers_only = three[1].split("\n\n")[0] + "\n\n"
    path = write(tmp_path / "nomoves.pgn", [three[0], headers_only, three[2]])
    records = list(read_games(path))
    assert [r.number for r in records] == [1, 2, 3]
    assert records[1].error is not None and records[1].error.endswith("no moves")
    assert records[2].error is None and records[2].headers["White"] == three[2].split('[White "')[1].split('"')[0]


def test_a_last_move_cut_in_half_is_reported(tmp_path: Path, three: list[str]) -> None:
    text = "".join(three)
    assert text.endswith(" 50. Qg4+ 1-0\n\n")
    cut = text[: text.rindex("Qg4+") + 2]  # "... 50. Qg": the file ends in half a move
    path = tmp_path / "cut.pgn"
    path.write_text(cut, encoding="utf-8")
    records = list(read_games(path))
    assert [r.error is None for r in records] == [True, True, False]
    last_line = cut.count("\n") + 1
    assert f"movetext ends in a broken move 'Qg' at line {last_line}" in (records[2].error or "")
    assert records[2].game is not None and len(list(records[2].game.mainline_moves())) == 98
    at_a_move = text[: text.rindex(" 50.")]  # cut between two moves: the result is missing
    path.write_text(at_a_move, encoding="utf-8")
    assert "ends without its result '1-0'" in (list(read_games(path))[2].error or "")


def test_a_binary_file_and_games_after_binary_junk(tmp_path: Path, three: list[str]) -> None:
    blob = gzip.compress("".join(three).encode())
    path = tmp_path / "games.pgn.gz"
    path.write_bytes(blob)
    [record] = list(read_games(path))
    assert record.error is not None and "binary data" in record.error and f"{path}:1: game 1" in record.error
    mixed = tmp_path / "mixed.pgn"
    mixed.write_bytes(blob + b"\n\n" + "".join(three[1:]).encode())
    assert [r.error is None for r in read_games(mixed)] == [False, True, True]
    result = CliRunner().invoke(app, ["analyze", str(path), "-o", str(tmp_path / "out"), "--no-cache"])
    assert result.exit_code == 2 and "binary data" in result.output and "Traceback" not in result.output


def test_a_cp1252_file_keeps_its_names_and_says_so(
    tmp_path: Path, three: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    game = three[0].replace('[White "', '[White "Sämisch, Štefan ', 1).replace('[Black "', '[Black "Réti, ', 1)
    path = tmp_path / "legacy.pgn"
    path.write_bytes(game.encode("cp1252") + three[1].encode("ascii"))
    with caplog.at_level(logging.WARNING, logger="chessteach.games.read"):
        records = list(read_games(path))
    assert records[0].headers["White"].startswith("Sämisch, Štefan ") and records[0].encoding == "cp1252"
    assert records[0].headers["Black"].startswith("Réti, ")
    assert all(r.error is None for r in records) and "\ufffd" not in str(records[0].game)
    assert any(str(path) in m and "not UTF-8" in m and "cp1252" in m for m in caplog.messages)


# --- Puzzle CSVs: a bad row costs that row, a file-level problem names the file and the line -------------------


@pytest.fixture
def rows(lichess_csv: Path) -> list[bytes]:
    """The header and the first 40 real Lichess puzzles, as raw lines."""
    return lichess_csv.read_bytes().splitlines(keepends=True)[:41]


def damaged_csv(path: Path, rows: list[bytes], changes: dict[int, bytes]) -> Path:
    """``rows`` with the rows at the given 0-based indexes (0 = the header) replaced."""
    path.write_bytes(b"".join(changes.get(i, row) for i, row in enumerate(rows)))
    return path


def ids(rows: list[bytes], skip: frozenset[int] = frozenset()) -> list[str]:
    """The PuzzleIds of ``rows`` but the header and the rows at ``skip``."""
    return [row.split(b",")[0].decode() for i, row in enumerate(rows) if i and i not in skip]


def test_a_non_utf8_byte_costs_one_row(tmp_path: Path, rows: list[bytes]) -> None:
    bad = rows[5].replace(b"https", "h\u00e9ttps".encode("cp1252"), 1)  # a lone 0xE9
    path = damaged_csv(tmp_path / "latin.csv", rows, {5: bad})
    result = read_puzzles(path)
    assert [p.id for p in result.puzzles] == ids(rows, frozenset({5}))
    [error] = result.errors
    assert (error.line, error.record) == (6, ids(rows)[4]) and "column GameUrl is not UTF-8" in str(error)
    assert str(path) in str(error) and "\\xe9" in str(error)


def test_a_bad_row_is_reported_once_by_the_cli(tmp_path: Path, rows: list[bytes]) -> None:
    bad = rows[5].replace(b"https", "h\u00e9ttps".encode("cp1252"), 1)
    path = damaged_csv(tmp_path / "latin.csv", rows, {5: bad})
    result = subprocess.run(
        [sys.executable, "-m", "chessteach", "puzzles", "tag", str(path), "-o", str(tmp_path / "tagged.csv")],
        capture_output=True, text=True, timeout=300, env={**os.environ, "COLUMNS": "300"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("is not UTF-8") == 1, result.stderr  # not logged and then printed again
    assert len((tmp_path / "tagged.csv").read_text().splitlines()) == len(rows) - 1  # the header and 39 rows


def test_a_byte_order_mark_is_skipped(tmp_path: Path, rows: list[bytes]) -> None:
    path = damaged_csv(tmp_path / "bom.csv", rows, {0: b"\xef\xbb\xbf" + rows[0]})
    result = read_puzzles(path)
    assert result.errors == [] and result.columns == LICHESS_COLUMNS and [p.id for p in result.puzzles] == ids(rows)


def test_a_field_over_128_kib_costs_one_row(tmp_path: Path, rows: list[bytes]) -> None:
    huge = rows[3].rstrip(b"\n") + b"x" * 200_000 + b"\n"  # OpeningTags, the last column
    path = damaged_csv(tmp_path / "huge.csv", rows, {3: huge})
    result = read_puzzles(path)
    assert [p.id for p in result.puzzles] == ids(rows, frozenset({3}))
    [error] = result.errors
    assert (error.line, error.record) == (4, ids(rows)[2]) and "field larger than field limit" in str(error)


def test_an_unterminated_quote_costs_its_row_only(tmp_path: Path, rows: list[bytes]) -> None:
    quoted = rows[4].replace(b",https", b',"https', 1)
    path = damaged_csv(tmp_path / "quote.csv", rows, {4: quoted})
    result = read_puzzles(path)
    assert [p.id for p in result.puzzles] == ids(rows, frozenset({4}))  # the 36 rows after it are not swallowed
    [error] = result.errors
    assert (error.line, error.record) == (5, ids(rows)[3]) and "quote opened in line 5 is never closed" in str(error)
    closed_later = damaged_csv(tmp_path / "quote2.csv", rows, {4: quoted, 9: rows[9].replace(b",https", b'",https')})
    result = read_puzzles(closed_later)  # csv alone would read lines 5-10 as one row, and report line 10
    assert [p.id for p in result.puzzles] == ids(rows, frozenset({4}))  # line 10's quote is a literal one
    assert [e.line for e in result.errors] == [5]


def test_a_quoted_field_may_still_hold_a_line_break(tmp_path: Path, rows: list[bytes]) -> None:
    two_lines = rows[2].rstrip(b"\n") + b'"Sicilian\nDefense"\n'
    path = damaged_csv(tmp_path / "multiline.csv", rows, {2: two_lines})
    result = read_puzzles(path)
    assert result.errors == [] and [p.id for p in result.puzzles] == ids(rows)
    assert result.puzzles[1].extra["OpeningTags"] == "Sicilian\nDefense"
    assert [p.id for p in read_puzzles(path).puzzles][2:] == ids(rows)[2:]


def test_empty_repeated_and_setup_only_ids_are_reported(tmp_path: Path, rows: list[bytes]) -> None:
    empty = b"," + rows[2].split(b",", 1)[1]
    repeated = rows[1]
    first_id = ids(rows)[0]
    fields = rows[6].split(b",")
    setup_only = b",".join([*fields[:2], fields[2].split(b" ")[0], *fields[3:]])
    path = damaged_csv(tmp_path / "ids.csv", rows, {2: empty, 4: repeated, 6: setup_only})
    result = read_puzzles(path)
    assert [p.id for p in result.puzzles] == ids(rows, frozenset({2, 4, 6}))
    assert [(e.line, e.record) for e in result.errors] == [(3, None), (5, first_id), (7, ids(rows)[5])]
    assert "empty PuzzleId" in str(result.errors[0])
    assert f"PuzzleId '{first_id}' repeats the one in line 2" in str(result.errors[1])
    assert "only the setup move" in str(result.errors[2])


def test_a_setup_only_puzzle_is_never_verified(lichess_csv: Path) -> None:
    real = next(iter_puzzles(lichess_csv))
    setup_only = Puzzle(id=real.id, fen=real.fen, moves=real.moves[:1])
    judged = verdict(setup_only, [])
    assert not judged.verified and "only the setup move" in judged.reason


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "empty file: no header"), (b"PuzzleId,F\xe9N,Moves\n", "the header is not UTF-8: 'PuzzleId,F\\\\xe9N,Moves'"),
     (b'PuzzleId,"FEN,Moves\n', "unreadable header")],
)
def test_a_bad_header_names_the_file_and_line_1(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "header.csv"
    path.write_bytes(content)
    with pytest.raises(BadRecordError) as caught:
        read_puzzles(path)
    assert str(caught.value).startswith(f"{path}:1: ") and message in str(caught.value)
    result = CliRunner().invoke(app, ["puzzles", "tag", str(path)])
    assert result.exit_code == 2 and f"{path}:1:" in result.output and "Traceback" not in result.output


# --- File names made from data stay in their directory --------------------------------------------------------

HOSTILE_IDS = ["../escaped", "/abs/escaped", "a/b", "..", ".", "nul\x00byte", "x" * 300, "NUL", "a_b", "ok-id"]


def test_safe_file_names_stay_plain_and_distinct() -> None:
    names = [safe_file_name(text) for text in HOSTILE_IDS]
    assert len(set(names)) == len(names)
    assert all(name and "/" not in name and "\x00" not in name and not name.startswith(".") for name in names)
    assert all(len(name) <= MAX_NAME + 9 for name in names)
    assert names[-2:] == ["a_b", "ok-id"]  # a plain id is its own name


def test_exercise_boards_never_leave_the_svg_dir(tmp_path: Path) -> None:
    from chessteach.puzzles.lichess_csv import bundled_exercises

    lines = bundled_exercises().read_text(encoding="utf-8").splitlines(keepends=True)
    hostile_ids = [*HOSTILE_IDS[:5], "nul byte", *HOSTILE_IDS[6:], str(tmp_path / "abs")]
    rows = [lines[0]] + [f"{i},{line.split(',', 1)[1]}" for i, line in zip(hostile_ids, lines[1:], strict=False)]
    exercises = tmp_path / "work" / "exercises.csv"
    exercises.parent.mkdir()
    exercises.write_text("".join(rows), encoding="utf-8")
    boards = tmp_path / "work" / "deep" / "boards"
    result = CliRunner().invoke(app, ["exercises", "show", str(exercises), "--svg-dir", str(boards)])
    assert result.exit_code == 0, result.output
    written = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    assert [p for p in written if p.parent != boards] == [exercises]
    assert len(written) == len(hostile_ids) + 1 and all(p.suffix == ".svg" for p in written if p != exercises)


# --- Usage mistakes with paths: one message, exit code 2, before any work -----------------------------------------


@pytest.fixture
def usage_paths(tmp_path: Path, pgn_dir: Path, lichess_csv: Path) -> dict[str, str]:
    a_file = tmp_path / "a-file.txt"
    a_file.write_text("not a directory\n", encoding="utf-8")
    a_dir = tmp_path / "a-dir"
    a_dir.mkdir()
    from chessteach.puzzles.lichess_csv import bundled_exercises

    return {"PGN": str(pgn_dir / "candidates-2022-sample.pgn"), "CSV": str(lichess_csv), "FILE": str(a_file),
            "DIR": str(a_dir), "UNDER_FILE": str(a_file / "out.csv"), "EXERCISES": str(bundled_exercises())}


USAGE_MISTAKES = [
    ("analyze DIR", "is a directory"),
    ("analyze PGN -o FILE", "is a file; give a directory"),
    ("analyze PGN -o UNDER_FILE", "is a file, not a directory"),
    ("evals DIR", "is a directory"),
    ("puzzles mine DIR", "is a directory"),
    ("puzzles mine PGN -o DIR", "is a directory; give the name of a file"),
    ("puzzles verify CSV -o DIR", "is a directory; give the name of a file"),
    ("puzzles verify CSV -o UNDER_FILE", "is a file, not a directory"),
    ("puzzles tag DIR", "is a directory"),
    ("puzzles tag CSV -o DIR", "is a directory; give the name of a file"),
    ("puzzles tag CSV --report-csv DIR", "is a directory; give the name of a file"),
    ("exercises mine DIR", "is a directory"),
    ("exercises mine PGN -o DIR", "is a directory; give the name of a file"),
    ("exercises show DIR", "is a directory"),
    ("exercises show EXERCISES --svg-dir FILE", "is a file; give a directory"),
    ("explain --concept fork -o DIR", "is a directory; give the name of a file"),
    ("explain --concept fork --puzzles DIR", "is a directory"),
    ("exam --student hf:x --themes fork -o FILE", "is a file; give a directory"),
    ("exam --student hf:x --themes fork --puzzles DIR", "is a directory"),
]


@pytest.mark.parametrize(("command", "message"), USAGE_MISTAKES, ids=[c for c, _ in USAGE_MISTAKES])
def test_a_path_of_the_wrong_kind_is_a_usage_error(usage_paths: dict[str, str], command: str, message: str) -> None:
    args = [usage_paths.get(word, word) for word in command.split()]
    result = CliRunner().invoke(app, [*args, "--no-cache"] if args[0] in ("analyze", "evals") else args)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.replace("│", " ").split()), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


# --- A malformed model reply is an error naming the server, never an empty explanation --------------------------


class _MalformedHandler(BaseHTTPRequestHandler):
    """An OpenAI-compatible server that answers every completion with HTTP 200 and the body it is set to."""

    body: bytes = b"{}"

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def malformed_server() -> Iterator[type[_MalformedHandler]]:
    handler = type("Handler", (_MalformedHandler,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    handler.url = f"http://127.0.0.1:{server.server_address[1]}/v1"  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield handler
    server.shutdown()
    server.server_close()


MALFORMED = [
    ({"id": "x", "object": "chat.completion"}, "no 'choices' list"),
    ({"choices": []}, "an empty 'choices' list"),
    ({"choices": [{"index": 0, "message": {"role": "assistant"}}]}, "no string at choices[0].message.content"),
    ({"choices": [{"index": 0, "message": {"role": "assistant", "content": None}}]}, "choices[0].message.content"),
    ("<html>Bad gateway</html>", "something other than JSON"),
]


@pytest.mark.parametrize(("body", "missing"), MALFORMED, ids=["no-choices", "empty", "no-content", "null", "html"])
def test_a_malformed_reply_is_an_error_naming_the_server(
    malformed_server: type[_MalformedHandler], body: object, missing: str
) -> None:
    from chessteach.llm import GenerationConfig, ModelRequestError, load_model

    url = malformed_server.url  # type: ignore[attr-defined]
    malformed_server.body = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    model = load_model(f"openai:{url}?retries=0#tiny")
    with pytest.raises(ModelRequestError) as caught:
        model.generate([[{"role": "user", "content": "Name a fork."}]], GenerationConfig(max_new_tokens=8))
    assert f"{url}/chat/completions answered 200 with" in str(caught.value) and missing in str(caught.value)
    result = CliRunner().invoke(app, ["explain", "--concept", "fork", "--teacher", f"openai:{url}?retries=0#tiny"])
    assert result.exit_code == 2 and missing in " ".join(result.output.split()), result.output
    malformed_server.body = json.dumps({"choices": [{"text": "Nf3"}]}).encode()
    assert model.generate(["1. e4 e5 2."]) == ["Nf3"]  # a well-formed reply still reads
