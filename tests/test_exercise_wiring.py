"""Positional exercises wired into student exams (free answer and multiple choice) and teacher training.

The exercises are built here from real games (a bundled tournament PGN, replayed with python-chess): the
position before a quiet move of the game, that move as the best move, three other legal moves as distractors, and
as themes the positional concepts whose detectors find a fact about the side to move. No engine ranks them (these
tests check the wiring, not the exercises): they are written in the exercises CSV format
(``PuzzleId,FEN,Moves,Themes,Distractors,Margin,SourceFile,SourceGame,SourcePly,Facts``) and read back with
:func:`~chessteach.puzzles.read_puzzles`.
"""

from __future__ import annotations

import csv
import math
import random
import re
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import chess
import chess.pgn
import pandas as pd
import pytest
from typer.testing import CliRunner

from chessteach.cli import app
from chessteach.concepts.catalog import POSITIONAL, get_concept
from chessteach.concepts.registry import verified_positional_facts
from chessteach.llm import GenerationConfig, Prompt
from chessteach.puzzles import Puzzle, bundled_exercises, bundled_puzzles, read_puzzles
from chessteach.teaching.exam import run_exam
from chessteach.teaching.exam_cache import ExamCache, puzzle_key
from chessteach.teaching.exam_puzzles import draw_exam, puzzle_has_theme
from chessteach.teaching.examiner import ExamConfig
from chessteach.teaching.explain import example_facts, explain_concept, pick_example, teacher_prompt
from chessteach.teaching.factcheck import check_explanation
from chessteach.teaching.prompts import CHOICES_SYSTEM_PROMPT, ExamError, exam_choices, exam_prompt, is_exercise

ROOT = Path(__file__).resolve().parents[1]
TINY_CPU = ROOT / "configs" / "grpo" / "tiny-cpu.yaml"
PGN = "candidates-madrid-2022.pgn"
GAMES = 8
EXERCISE_CONCEPTS = (
    "outpost", "openFile", "halfOpenFile", "passedPawn", "backwardPawn", "kingSafety", "pieceActivity", "space",
    "weakSquares", "overloadedDefender",
)
"""The positional concept ids an exercise's Themes may hold."""
COLUMNS = ["PuzzleId", "FEN", "Moves", "Themes", "Distractors", "Margin", "SourceFile", "SourceGame", "SourcePly",
           "Facts"]


def _quiet(board: chess.Board, move: chess.Move) -> bool:
    return not (board.is_capture(move) or board.gives_check(move) or move.promotion or board.is_castling(move))


def _exercise_rows(pgn: Path) -> list[dict[str, str]]:
    """Exercises from the first games of a real PGN: every third position from move 9 to 35 where the game went on
    with a quiet move and the side to move has a positional fact in its favour."""
    rows = []
    with pgn.open(encoding="utf-8") as fh:
        for game_no in range(GAMES):
            game = chess.pgn.read_game(fh)
            assert game is not None
            board = game.board()
            for ply, move in enumerate(game.mainline_moves()):
                if 16 <= ply <= 70 and ply % 3 == 0 and _quiet(board, move):
                    side = board.turn
                    facts = {c: [f for f in verified_positional_facts(board, [c]) if f.color == side]
                             for c in EXERCISE_CONCEPTS}
                    themes = [c for c in EXERCISE_CONCEPTS if facts[c]]
                    others = sorted((m for m in board.legal_moves if m != move and _quiet(board, m)),
                                    key=lambda m: m.uci())
                    if themes and len(others) >= 3:
                        pid = f"ex{game_no}p{ply}"
                        distractors = random.Random(pid).sample(others, 3)
                        rows.append({
                            "PuzzleId": pid, "FEN": board.fen(), "Moves": move.uci(), "Themes": " ".join(themes),
                            "Distractors": " ".join(m.uci() for m in distractors), "Margin": "1.25",
                            "SourceFile": pgn.name, "SourceGame": str(game_no + 1), "SourcePly": str(ply),
                            "Facts": " | ".join(facts[t][0].text for t in themes[:2]),
                        })
                board.push(move)
    return rows


def _write(path: Path, rows: Sequence[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def exercise_rows(pgn_dir: Path) -> list[dict[str, str]]:
    return _exercise_rows(pgn_dir / PGN)


@pytest.fixture(scope="module")
def exercises_csv(exercise_rows: list[dict[str, str]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write(tmp_path_factory.mktemp("exercises") / "exercises.csv", exercise_rows)


@pytest.fixture(scope="module")
def exercises(exercises_csv: Path) -> list[Puzzle]:
    loaded = read_puzzles(exercises_csv)
    assert not loaded.errors
    return loaded.puzzles


class FirstChoiceStudent:
    """A deterministic student (the LanguageModel interface): it answers the first move its question lists (the
    first candidate in a multiple-choice question, the first legal move otherwise), and counts what it is asked."""

    spec = "first:choice"

    def __init__(self) -> None:
        self.asked = 0

    @staticmethod
    def first_move(prompt: Prompt) -> str:
        text = prompt if isinstance(prompt, str) else prompt[-1]["content"]
        listed = re.search(r"(?:Candidate|Legal) moves: (\S+)", text)
        assert listed is not None, text
        return listed.group(1)

    def generate(self, prompts: Sequence[Prompt], config: GenerationConfig | None = None) -> list[str]:
        self.asked += len(prompts)
        return [" " + self.first_move(p) for p in prompts]

    def score(self, prompts: Sequence[Prompt], continuations: Sequence[str]) -> list[float]:
        return [math.log(0.9) if c.strip() == self.first_move(p) else math.log(0.1)
                for p, c in zip(prompts, continuations, strict=True)]

    def close(self) -> None:
        pass


def _candidates(prompt: Prompt) -> list[str]:
    text = prompt if isinstance(prompt, str) else prompt[-1]["content"]
    (line,) = [line for line in text.splitlines() if "Candidate moves:" in line]
    return line.split("Candidate moves:")[1].split()


# --- loading -----------------------------------------------------------------------------------------------------


def test_exercises_load_as_puzzles_without_a_setup_move(
    exercises: list[Puzzle], exercise_rows: list[dict[str, str]]
) -> None:
    assert len(exercises) == len(exercise_rows) >= 30
    for puzzle, row in zip(exercises, exercise_rows, strict=True):
        assert is_exercise(puzzle) and not puzzle.setup
        assert puzzle.position().fen() == row["FEN"]
        assert puzzle.solver_moves[0].uci() == row["Moves"] and puzzle.solution_san() == [
            puzzle.position().san(puzzle.solver_moves[0])
        ]
        assert all(get_concept(t).family == POSITIONAL for t in puzzle.themes)
        assert puzzle.extra["SourceFile"] == PGN and puzzle.extra["Facts"]
    tactical = read_puzzles(bundled_puzzles()).puzzles[:5]
    assert not any(is_exercise(p) for p in tactical) and all(p.setup for p in tactical)


# --- free-answer exams ---------------------------------------------------------------------------------------------


def test_positional_explanation_is_grounded_in_the_example_position(exercises: list[Puzzle]) -> None:
    example = pick_example("outpost", exercises)
    assert "outpost" in example.themes
    facts = example_facts(example, "outpost")
    assert facts and all(f.concept == "outpost" for f in facts)
    assert {f.position for f in facts} <= {example.fen, example.final_board().fen()}
    explanation = explain_concept("outpost", example)
    worked = explanation.sections["Worked example"]
    assert f"`{example.fen}`" in worked and "Outpost in this position: In the puzzle position," in worked
    assert check_explanation(explanation, example).false == 0
    user = teacher_prompt("outpost", example)[1]["content"]
    assert example.fen in user and "opponent's last move" not in user
    assert all(f.text[1:] in user for f in facts)
    for concept in ("kingSafety", "halfOpenFile", "weakSquares"):
        shown = pick_example(concept, exercises)
        assert check_explanation(explain_concept(concept, shown), shown).false == 0, concept


def test_exam_draw_on_exercises(exercises: list[Puzzle]) -> None:
    example = pick_example("outpost", exercises)
    drawn = draw_exam(exercises, "outpost", n=3, example=example, seed=1)
    assert len(drawn) == 3 and example.id not in {p.id for p in drawn}
    assert all("outpost" in p.themes for p in drawn)
    assert drawn == draw_exam(list(reversed(exercises)), "outpost", n=3, example=example, seed=1)
    # computed positional themes: the detector on the solver's position
    assert all(puzzle_has_theme(p, "outpost", source="computed") for p in drawn)


def test_free_answer_exam_on_exercises_is_unchanged(exercises: list[Puzzle]) -> None:
    drawn = draw_exam(exercises, "kingSafety", n=4, seed=0)
    prompt = exam_prompt(drawn[0], "A hint.")
    assert isinstance(prompt, str) and "Legal moves:" in prompt and "Candidate moves" not in prompt
    report = run_exam(FirstChoiceStudent(), drawn, "A hint.", concept="kingSafety")
    assert report.prompt_format == "fen-san" and len(report.results) == 8
    frame = report.frame()
    assert list(frame["rating_band"].unique()) == ["unrated"]
    for puzzle, row in zip(drawn, frame.itertuples(), strict=True):
        first = next(iter(puzzle.position().legal_moves))
        assert row.correct_without == (first == puzzle.solver_moves[0])


# --- multiple choice -----------------------------------------------------------------------------------------------


def test_choices_prompt_lists_exactly_the_four_candidates(exercises: list[Puzzle]) -> None:
    for puzzle in exercises:
        board = puzzle.position()
        expected = {board.san(puzzle.solver_moves[0])} | {
            board.san(chess.Move.from_uci(m)) for m in puzzle.extra["Distractors"].split()
        }
        prompt = exam_prompt(puzzle, "A hint.", choices=True)
        assert isinstance(prompt, str)
        listed = _candidates(prompt)
        assert len(listed) == 4 and set(listed) == expected
        assert "Legal moves" not in prompt and "Choose the best move" in prompt and prompt.endswith("Answer:")
        chat = exam_prompt(puzzle, None, choices=True, chat=True, prompt_format="grid")
        assert isinstance(chat, list) and chat[0]["content"] == CHOICES_SYSTEM_PROMPT
        assert _candidates(chat) == listed and "  a b c d e f g h" in chat[1]["content"]


def test_choices_order_is_deterministic_by_puzzle_id(exercises: list[Puzzle], exercises_csv: Path) -> None:
    again = {p.id: p for p in read_puzzles(exercises_csv).puzzles}
    best_at = []
    for puzzle in exercises:
        order = exam_choices(puzzle)
        assert order == exam_choices(again[puzzle.id])
        assert _candidates(exam_prompt(puzzle, choices=True)) == [puzzle.position().san(m) for m in order]
        # the order follows the id, not the column: the distractors listed the other way round change nothing
        reversed_row = Puzzle(puzzle.id, puzzle.fen, puzzle.moves, themes=puzzle.themes,
                              extra={**puzzle.extra, "Distractors": " ".join(reversed(puzzle.extra["Distractors"].split()))},
                              setup=puzzle.setup)
        assert exam_choices(reversed_row) == order
        best_at.append(order.index(puzzle.solver_moves[0]))
    assert len(set(best_at)) >= 3, best_at  # the best move is not always first
    orders = {tuple(m.uci() for m in exam_choices(Puzzle(f"id{i}", exercises[0].fen, exercises[0].moves,
                                                           extra=dict(exercises[0].extra), setup=False))) for i in range(8)}
    assert len(orders) > 1  # another id, another order


def test_choices_exam_grades_the_best_move_and_keys_the_cache_apart(
    exercises: list[Puzzle], tmp_path: Path
) -> None:
    drawn = draw_exam(exercises, "kingSafety", n=6, seed=2)
    assert ExamConfig(choices=True).format_key == "fen-san+choices"
    assert puzzle_key(drawn[0], choices=True) != puzzle_key(drawn[0])
    with ExamCache(tmp_path / "exams.sqlite") as cache:
        free = FirstChoiceStudent()
        run_exam(free, drawn, None, config=ExamConfig(), cache=cache)
        student = FirstChoiceStudent()
        report = run_exam(student, drawn, "A hint.", config=ExamConfig(choices=True), cache=cache)
        assert student.asked == 12  # the free answers in the cache are not multiple-choice answers
        rerun = FirstChoiceStudent()
        run_exam(rerun, drawn, "A hint.", config=ExamConfig(choices=True), cache=cache)
        assert rerun.asked == 0
    assert report.prompt_format == "fen-san+choices"
    for result in report.results:
        puzzle = next(p for p in drawn if p.id == result.puzzle_id)
        first = exam_choices(puzzle)[0]
        assert result.answer == puzzle.position().san(first)
        assert result.correct == (first == puzzle.solver_moves[0])
    with sqlite3.connect(tmp_path / "exams.sqlite") as db:
        formats = {row[0] for row in db.execute("SELECT DISTINCT prompt_format FROM exam_answers")}
    assert formats == {"fen-san", "fen-san+choices"}


def _illegal_uci(board: chess.Board) -> str:
    """A well-formed UCI move that is not legal on the board: from an empty square."""
    empty = next(s for s in chess.SQUARES if board.piece_at(s) is None and s + 8 < 64)
    return chess.Move(empty, empty + 8).uci()


@pytest.mark.parametrize(
    ("distractors", "reason"),
    [
        (None, "no Distractors column"),
        ("", "Distractors column is empty"),
        ("TWO", "holds 2 move(s), not 3"),
        ("NOT_UCI", "distractor 'Nf3' is not a UCI move"),
        ("ILLEGAL", "is illegal in"),
        ("BEST", "is the best move itself"),
        ("TWICE", "is listed twice"),
    ],
)
def test_bad_distractors_raise_a_one_line_exam_error(
    exercises: list[Puzzle], distractors: str | None, reason: str
) -> None:
    good = exercises[0]
    moves = good.extra["Distractors"].split()
    texts = {
        "TWO": " ".join(moves[:2]),
        "NOT_UCI": f"{moves[0]} Nf3 {moves[1]}",
        "ILLEGAL": f"{moves[0]} {moves[1]} {_illegal_uci(good.position())}",
        "BEST": f"{moves[0]} {moves[1]} {good.moves[0].uci()}",
        "TWICE": f"{moves[0]} {moves[1]} {moves[1]}",
    }
    extra = {k: v for k, v in good.extra.items() if k != "Distractors"}
    if distractors is not None:
        extra["Distractors"] = texts.get(distractors, distractors)
    bad = Puzzle("badOne", good.fen, good.moves, themes=good.themes, extra=extra, setup=good.setup)
    with pytest.raises(ExamError) as caught:
        exam_choices(bad)
    message = str(caught.value)
    assert message.startswith("puzzle badOne: ") and reason in message and "\n" not in message
    student = FirstChoiceStudent()
    with pytest.raises(ExamError, match="puzzle badOne"):
        run_exam(student, [good, bad], "A hint.", config=ExamConfig(choices=True))
    assert student.asked == 0  # raised before the student was asked anything
    assert run_exam(student, [bad], None).results  # free answers need no distractors


# --- the command ---------------------------------------------------------------------------------------------------


def test_exam_command_on_exercises_free_and_choices(
    tiny_model_dir: Path, exercises_csv: Path, exercise_rows: list[dict[str, str]], tmp_path: Path
) -> None:
    runner = CliRunner()
    cache = tmp_path / "exams.sqlite"
    common = ["exam", "--student", f"hf:{tiny_model_dir}", "--concept", "outpost", "--puzzles", str(exercises_csv),
              "-n", "3", "--cache", str(cache), "--max-new-tokens", "3"]
    for out, extra in ((tmp_path / "free", []), (tmp_path / "choices", ["--choices"])):
        result = runner.invoke(app, [*common, "-o", str(out), *extra])
        assert result.exit_code == 0, result.output
        table = pd.read_csv(out / "exam.csv")
        assert list(table["theme"]) == ["outpost"] and list(table["n"]) == [3]
        assert len(pd.read_csv(out / "answers.csv")) == 3
        assert "Outpost in this position" in (out / "explanations" / "outpost.txt").read_text()
    with sqlite3.connect(cache) as db:
        formats = {row[0] for row in db.execute("SELECT DISTINCT prompt_format FROM exam_answers")}
    assert formats == {"fen-san", "fen-san+choices"}

    broken = [dict(row) for row in exercise_rows]
    for row in broken:
        board = chess.Board(row["FEN"])
        row["Distractors"] = " ".join([*row["Distractors"].split()[:2], _illegal_uci(board)])
    bad_csv = _write(tmp_path / "broken.csv", broken)
    bad = runner.invoke(app, [*common, "--puzzles", str(bad_csv), "-o", str(tmp_path / "bad"), "--choices"])
    assert bad.exit_code == 2
    assert re.search(r"error: puzzle ex\d+p\d+: distractor [a-h][1-8][a-h][1-8] is illegal in ", bad.output), bad.output


def test_exam_on_the_bundled_mined_exercises(tiny_model_dir: Path, tmp_path: Path) -> None:
    """The engine-mined set shipped in puzzles/ goes through a multiple-choice exam as it is."""
    out = tmp_path / "bundled"
    args = ["exam", "--student", f"hf:{tiny_model_dir}", "--concept", "weakSquares,kingSafety", "--puzzles",
            str(bundled_exercises()), "-n", "4", "--cache", str(tmp_path / "exams.sqlite"), "--max-new-tokens", "3",
            "-o", str(out), "--choices"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "exam.csv")
    assert sorted(table["theme"]) == ["kingSafety", "weakSquares"] and list(table["n"]) == [4, 4]


# --- training ------------------------------------------------------------------------------------------------------


def test_build_tasks_on_exercises(exercises: list[Puzzle]) -> None:
    pytest.importorskip("datasets")
    from chessteach.rl.tasks import DEFAULT_CONCEPTS, build_tasks, default_concepts

    listed = default_concepts(exercises)
    assert listed and set(listed) == {t for p in exercises for t in p.themes}
    assert default_concepts(read_puzzles(bundled_puzzles()).puzzles) == DEFAULT_CONCEPTS
    split = build_tasks(exercises, concepts=["kingSafety", "halfOpenFile"], exam_size=2, eval_fraction=0.3)
    assert split.train and split.eval
    by_id = split.puzzles
    for task in split.train + split.eval:
        example = by_id[task.example_id]
        assert task.concept in {"kingSafety", "halfOpenFile"} and task.example_id not in task.exam_ids
        assert all(task.concept in by_id[pid].themes for pid in task.exam_ids)
        assert task.facts and example.fen in task.prompt[1]["content"]
        assert all(fact in task.prompt[1]["content"] for fact in (f[1:] for f in task.facts))
    train_ids = {pid for t in split.train for pid in (t.example_id, *t.exam_ids)}
    assert train_ids.isdisjoint({pid for t in split.eval for pid in (t.example_id, *t.exam_ids)})
    default = build_tasks(exercises, exam_size=2, eval_fraction=0.0, tasks_per_concept=1)
    assert {t.concept for t in default.train} <= set(listed) and len({t.concept for t in default.train}) > 1


def test_train_command_on_exercises_with_choices(
    tiny_model_dir: Path, exercises_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`chessteach train` with a recipe whose puzzles are exercises and whose concepts are positional: a GRPO step
    with multiple-choice exams, and the before/after evaluation; the same option on Lichess puzzles is an error."""
    pytest.importorskip("trl")
    from chessteach.rl.metrics import read_metrics

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("WANDB_DISABLED", "true")
    recipe = TINY_CPU.read_text().replace("concepts: [mateIn1, backRankMate, fork]", "concepts: [kingSafety, space]")
    assert "concepts: [kingSafety, space]" in recipe
    config = tmp_path / "exercises.yaml"
    config.write_text(f"{recipe}\npuzzles: {exercises_csv}\nexam_choices: true\n")
    out = tmp_path / "run"
    args = ["train", "--config", str(config), "--output_dir", str(out), "--model_name_or_path", str(tiny_model_dir),
            "--student", f"hf:{tiny_model_dir}", "--max_steps", "1", "--save_strategy", "no",
            "--per_device_train_batch_size", "2", "--num_generations", "2", "--max_completion_length", "8",
            "--eval_max_new_tokens", "8"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert "step 1" in result.output
    metrics = read_metrics(out)
    assert list(metrics["step"]) == [1] and "rewards/teachability/mean" in metrics
    assert (out / "evaluation.md").read_text().count("| before |") == 1

    from chessteach.rl.config import parse_args

    script_args, _, _ = parse_args(["--config", str(config)])
    assert script_args.exam_choices and script_args.exam_config().format_key == "fen-san+choices"
    tactical = tmp_path / "tactical.yaml"
    tactical.write_text(f"{TINY_CPU.read_text()}\nexam_choices: true\n")  # Lichess puzzles have no distractors
    bad = CliRunner().invoke(app, ["train", "--config", str(tactical), "--output_dir", str(tmp_path / "bad"),
                                   "--model_name_or_path", str(tiny_model_dir), "--student", f"hf:{tiny_model_dir}"])
    assert bad.exit_code == 2 and "no Distractors column" in bad.output, bad.output


def test_examiner_asks_multiple_choice(exercises: list[Puzzle]) -> None:
    pytest.importorskip("trl")
    from chessteach.rl.rewards import StudentExaminer

    drawn = draw_exam(exercises, "space", n=3, seed=0)
    student = FirstChoiceStudent()
    examiner = StudentExaminer(student, {p.id: p for p in drawn}, config=ExamConfig(choices=True))
    base = examiner.baseline([p.id for p in drawn])
    assert all(base[p.id].correct == (exam_choices(p)[0] == p.solver_moves[0]) for p in drawn)
    assert student.asked == 3 and examiner.answer_key(drawn[0])[2:] == (
        puzzle_key(drawn[0], choices=True), "fen-san+choices"
    )
