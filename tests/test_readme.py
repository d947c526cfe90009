"""The README's output excerpts are what the commands print: each is run here and compared.

Every fenced block without a language in README.md is an output excerpt, and each is one of:

- a block right after ``<!-- output: COMMAND -->``: what COMMAND prints on stdout;
- a block right after ``<!-- file: PATH after: COMMAND -->``: a part of the file PATH that COMMAND writes;
- a transcript: lines ``$ COMMAND`` each followed by what it prints.

A COMMAND may start with ``NAME=VALUE`` settings for its environment (``COLUMNS=100`` for a wide table). Commands
run as the README shows them, as subprocesses with ``COLUMNS=80`` (an 80-column terminal), from a scratch directory
in which ``chessteach``, ``puzzles`` and ``tests`` are links into the checkout and ``tiny-model`` is the tiny random
model of the tests; each distinct command runs once per session, with a fresh analysis cache. An excerpt matches
when its text, whitespace runs counted as one space, appears in the output; ``...`` standing alone matches
anything, and a duration (``in 23.6 s``) any number. So a change in what a command prints fails here until the
README shows the new output: rerun the command the failure names and paste what it prints. With
``CHESSTEACH_README_UPDATE=1`` the test rewrites the ``<!-- output: ... -->`` blocks that hold a command's whole
stdout with what it prints now (it skips them, saying so); the others (transcripts, file excerpts, excerpts with
``...``) still fail, showing the new output, to be pasted by hand.

Beside the excerpts: the three exercises of the README's table are the bundled ones (id, concepts, margin, move,
distractors), and the counts it states (exercises, concepts with 20 or more, catalog, games) are the data's.
"""

from __future__ import annotations

import importlib
import io
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from rich.console import Console

from chessteach.concepts.catalog import CONCEPTS, POSITIONAL, THEME
from chessteach.data import tournament_games
from chessteach.exercises.show import exercise_summary
from chessteach.games.review import GameReview, SideStats
from chessteach.puzzles import bundled_exercises, read_puzzles

analyze_cli = importlib.import_module("chessteach.cli.analyze")  # the module (chessteach.cli.analyze is the command)

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DEMO = "chessteach analyze chessteach/data/games/candidates-2022-sample.pgn -o review"
"""What ``make demo`` runs (the Makefile's demo target, checked below)."""
LINKED = ("chessteach", "puzzles", "tests")
"""The checkout's folders the README's commands name, linked into the scratch directory."""
TERMINAL_WIDTH = 80
UPDATE = os.environ.get("CHESSTEACH_README_UPDATE") == "1"
COMMAND_TIMEOUT = 900

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Excerpt:
    """An output excerpt of the README: the command, what it shows, and the file it is from (None: stdout)."""

    command: str
    text: str
    line: int
    file: str | None = None


FENCE = re.compile(r"^( *)```(\S*)\n(.*?)^\1```$", re.DOTALL | re.MULTILINE)
OUTPUT_MARK = re.compile(r"<!-- output: (.+?) -->\s*$")
FILE_MARK = re.compile(r"<!-- file: (\S+) after: (.+?) -->\s*$")
WILDCARDS = re.compile(r"(?<!\S)\.\.\.(?!\S)|(?<=\bin )\d+(?:\.\d+)?(?= s\b)")
"""``...`` standing alone, and the number of a duration such as ``in 23.6 s``."""


def readme_excerpts(text: str) -> list[Excerpt]:
    """Every output excerpt of the README (see the module doc); a block without a language and without a mark,
    that is no transcript either, is an error."""
    excerpts = []
    for fence in FENCE.finditer(text):
        indent, language, body = fence.group(1), fence.group(2), fence.group(3)
        if language:
            continue  # bash, python, yaml, text: what one types or reads, not output
        line = text.count("\n", 0, fence.start()) + 1
        body = "".join(row.removeprefix(indent) for row in body.splitlines(keepends=True))
        before = text[: fence.start()].rstrip().rsplit("\n", 1)[-1].strip()
        if mark := OUTPUT_MARK.search(before):
            excerpts.append(Excerpt(mark.group(1), body, line))
        elif mark := FILE_MARK.search(before):
            excerpts.append(Excerpt(mark.group(2), body, line, file=mark.group(1)))
        elif body.startswith("$ "):
            for chunk in re.split(r"^\$ ", body, flags=re.MULTILINE)[1:]:
                command, _, shown = chunk.partition("\n")
                excerpts.append(Excerpt(command.strip(), shown, line))
        else:
            raise AssertionError(f"README.md:{line}: an output block without <!-- output: COMMAND --> before it")
    return excerpts


def excerpt_pattern(text: str) -> re.Pattern[str]:
    """A regex matching the excerpt in whitespace-normalised output (``...`` and durations as wildcards)."""
    flat = " ".join(text.split())
    parts, pos = [], 0
    for wild in WILDCARDS.finditer(flat):
        parts += [re.escape(flat[pos : wild.start()]), ".*?" if wild.group() == "..." else r"\d+(?:\.\d+)?"]
        pos = wild.end()
    parts.append(re.escape(flat[pos:]))
    return re.compile("".join(parts), re.DOTALL)


def split_settings(command: str) -> tuple[dict[str, str], list[str]]:
    """``COLUMNS=100 chessteach exam ...`` -> ({"COLUMNS": "100"}, ["chessteach", "exam", ...])."""
    words = shlex.split(command)
    settings = {}
    while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):
        name, _, value = words.pop(0).partition("=")
        settings[name] = value
    return settings, words


class Runner:
    """Runs each distinct README command once, in the scratch directory, and keeps what it printed."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.cwd, self.env = cwd, env
        self.stdout: dict[str, str] = {}

    def __call__(self, command: str) -> str:
        if command not in self.stdout:
            settings, words = split_settings(command)
            assert words[0] == "chessteach", f"not a chessteach command: {command}"
            done = subprocess.run(
                [sys.executable, "-m", "chessteach", *words[1:]],
                cwd=self.cwd,
                env={**self.env, **settings},
                capture_output=True,
                text=True,
                timeout=COMMAND_TIMEOUT,
            )
            assert done.returncode == 0, f"{command} exited with {done.returncode}:\n{done.stderr[-3000:]}"
            self.stdout[command] = done.stdout
        return self.stdout[command]


@pytest.fixture(scope="session")
def run_readme(tmp_path_factory: pytest.TempPathFactory) -> Runner:
    """The README's commands, run from a scratch directory with a fresh analysis cache and exam cache."""
    cwd = tmp_path_factory.mktemp("readme")
    for name in LINKED:
        (cwd / name).symlink_to(ROOT / name, target_is_directory=True)
    caches = tmp_path_factory.mktemp("readme-caches")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(
        COLUMNS=str(TERMINAL_WIDTH),
        LINES="50",
        CHESSTEACH_CACHE=str(caches / "analysis.sqlite"),
        CHESSTEACH_EXAM_CACHE=str(caches / "exams.sqlite"),
        HF_HUB_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
    )
    return Runner(cwd, env)


EXCERPTS = readme_excerpts(README.read_text(encoding="utf-8"))


def subcommand(command: str) -> str:
    """``chessteach puzzles tag x.csv`` -> ``puzzles tag``; ``chessteach explain ...`` -> ``explain``."""
    words = split_settings(command)[1]
    return " ".join(words[1:3]) if words[1] in ("puzzles", "exercises") else words[1]


def test_the_readme_shows_the_outputs_it_should() -> None:
    assert DEMO in {e.command for e in EXCERPTS}, "the demo's table"
    shown = {subcommand(e.command) for e in EXCERPTS}
    assert {"analyze", "puzzles tag", "puzzles verify", "explain", "exam"} <= shown
    makefile = (ROOT / "Makefile").read_text()
    pgn = re.search(r"^DEMO_PGN := (\S+)$", makefile, re.MULTILINE)
    assert pgn is not None and "$(BIN)/chessteach analyze $(DEMO_PGN) -o review" in makefile
    assert f"chessteach analyze {pgn.group(1)} -o review" == DEMO


def excerpt_id(excerpt: Excerpt) -> str:
    """``README.md:70:puzzles verify``, ``README.md:48:analyze:review/annotated.pgn``."""
    return f"README.md:{excerpt.line}:{subcommand(excerpt.command)}" + (f":{excerpt.file}" if excerpt.file else "")


def near(excerpt: str, output: str) -> str:
    """The part of a file where the excerpt should be (from the excerpt's first two words on), else its end."""
    flat = " ".join(output.split())
    start = flat.find(" ".join(excerpt.split()[:2]))
    return output[-4000:] if start < 0 else flat[start : start + len(" ".join(excerpt.split())) + 300]


def rewrite_readme(excerpt: Excerpt, stdout: str) -> bool:
    """Put ``stdout`` in place of an ``<!-- output: ... -->`` block that shows a whole stdout; False where the
    excerpt is not such a block (a transcript, an indented block, an excerpt with ``...``)."""
    text = README.read_text(encoding="utf-8")
    block = f"<!-- output: {excerpt.command} -->\n```\n{excerpt.text}```\n"
    if text.count(block) != 1 or "..." in excerpt.text.split():
        return False
    shown = "\n".join(line.rstrip() for line in stdout.strip("\n").splitlines())
    README.write_text(text.replace(block, f"<!-- output: {excerpt.command} -->\n```\n{shown}\n```\n"), encoding="utf-8")
    return True


@pytest.mark.parametrize("excerpt", EXCERPTS, ids=[excerpt_id(e) for e in EXCERPTS])
def test_readme_excerpt_is_what_the_command_prints(
    excerpt: Excerpt, run_readme: Runner, request: pytest.FixtureRequest
) -> None:
    model = run_readme.cwd / "tiny-model"
    if "hf:tiny-model" in excerpt.command and not model.exists():  # built only for the commands that ask for it
        model.symlink_to(request.getfixturevalue("tiny_model_dir"), target_is_directory=True)
    stdout = run_readme(excerpt.command)
    shown = stdout if excerpt.file is None else (run_readme.cwd / excerpt.file).read_text(encoding="utf-8")
    if excerpt_pattern(excerpt.text).search(" ".join(shown.split())) is None:
        if UPDATE and excerpt.file is None and rewrite_readme(excerpt, stdout):
            pytest.skip(f"README.md:{excerpt.line}: rewritten with what `{excerpt.command}` prints now")
        where = "stdout" if excerpt.file is None else excerpt.file
        pytest.fail(
            f"README.md:{excerpt.line} no longer matches the {where} of `{excerpt.command}` (COLUMNS={TERMINAL_WIDTH} "
            f"unless it says otherwise); there it now reads:\n"
            + (shown if excerpt.file is None else near(excerpt.text, shown))
        )


def test_the_demo_table_fits_80_columns(run_readme: Runner) -> None:
    stdout = run_readme(DEMO)
    lines = stdout.splitlines()
    assert max(len(line) for line in lines) <= TERMINAL_WIDTH
    for name in ("Ding, Liren", "Nepomniachtchi, Ian", "Firouzja, Alireza"):  # each on one line, never wrapped
        assert any(name in line for line in lines), name


def test_long_names_are_cut_not_wrapped(monkeypatch: pytest.MonkeyPatch) -> None:
    long_name = "Kasparov-Karpov-Korchnoi, Garry Anatoly Viktor"
    side = SideStats(accuracy=91.25, acpl=20.0, inaccuracies=12, mistakes=3, blunders=1)
    review = GameReview(
        headers={"White": long_name, "Black": "Tal, Mikhail", "Result": "1/2-1/2"},
        moves=[],
        white=side,
        black=SideStats(accuracy=None, acpl=None),
        number=123,
    )
    buffer = io.StringIO()
    monkeypatch.setattr(analyze_cli, "out", Console(file=buffer, width=TERMINAL_WIDTH))
    analyze_cli._summary([review], None)
    lines = buffer.getvalue().splitlines()
    assert max(len(line) for line in lines) <= TERMINAL_WIDTH
    rows = [line for line in lines if line.startswith("│")]
    assert len(rows) == 2  # a row per side: nothing wrapped onto another line
    assert long_name[: analyze_cli.PLAYER_WIDTH - 1] + "…" in rows[0]
    assert "91.2" in rows[0] and "1/2-1/2" in rows[0] and "n/a" in rows[1]


EXERCISE_CELL = re.compile(
    r"\*\*(?P<id>\w+)\*\* `(?P<themes>[^`]+)`, margin (?P<margin>[\d.]+)\. [^|]*?(?P<side>White|Black) to move\. "
    r"\*\*(?P<number>\d+)(?P<dots>\.+)(?P<best>\S+)\*\*; distractors (?P<distractors>[^.]+)\."
)


def test_the_bundled_exercises_the_readme_shows() -> None:
    text = README.read_text(encoding="utf-8")
    exercises = {p.id: p for p in read_puzzles(bundled_exercises()).puzzles}
    cells = list(EXERCISE_CELL.finditer(text))
    assert len(cells) == 3
    for cell in cells:
        exercise = exercises[cell["id"]]
        shown = [
            f"{cell['id']}: {cell['themes']} (margin {cell['margin']})",
            f"{cell['side']} to move. Best: {cell['best']}; distractors: {cell['distractors']}",
        ]
        assert exercise_summary(exercise).splitlines()[:2] == shown
        board = exercise.position()
        assert (int(cell["number"]), cell["dots"] == "...") == (board.fullmove_number, cell["side"] == "Black")
    counted = re.search(r"holds the (\d+) exercises", text)
    assert counted is not None and int(counted.group(1)) == len(exercises)
    listed = re.search(r"(\d+)\s+concepts with at least 20 exercises: ([\w,\s]+?);", text)
    assert listed is not None
    counts: dict[str, int] = {}
    for exercise in exercises.values():
        for theme in exercise.themes:
            counts[theme] = counts.get(theme, 0) + 1
    frequent = {theme for theme, n in counts.items() if n >= 20}
    assert int(listed.group(1)) == len(frequent)
    assert {w.strip() for w in listed.group(2).split(",")} == frequent


def test_the_counts_the_readme_states() -> None:
    text = " ".join(README.read_text(encoding="utf-8").split())
    catalog = re.search(r"defines (\d+) Lichess themes and (\d+) positional concepts", text)
    assert catalog is not None
    families = [c.family for c in CONCEPTS.values()]
    assert (int(catalog[1]), int(catalog[2])) == (families.count(THEME), families.count(POSITIONAL))
    games = re.search(r"mined from the (\d+) games of `chessteach/data/games`", text)
    count = sum(len(re.findall(r"^\[Event ", p.read_text(encoding="utf-8"), re.MULTILINE)) for p in tournament_games())
    assert games is not None and int(games[1]) == count  # each game's tags start with its Event
