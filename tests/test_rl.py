"""GRPO on the teacher: tasks, rewards, the trainer entry point, and a learning signal, all on the CPU.

The learning-signal test pairs a tiny teacher whose vocabulary is a few chess words (a word-level tokenizer) with
a deterministic rule-following student that lives here: it plays the kind of move the explanation names (a mate
when it says mate, a check when it says check, a capture when it says capture, ...) and otherwise the first
legal move. GRPO must raise the teacher's teachability reward over the steps.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import chess
import pytest

pytest.importorskip("trl")

from chessteach.llm.base import GenerationConfig, Prompt, load_model  # noqa: E402
from chessteach.puzzles import Puzzle, bundled_puzzles, read_puzzles  # noqa: E402
from chessteach.rl.config import GRPOScriptArguments, TeacherGRPOConfig, parse_args  # noqa: E402
from chessteach.rl.metrics import CURVE_PNG, METRICS_CSV, read_metrics  # noqa: E402
from chessteach.rl.rewards import (  # noqa: E402
    REWARDS,
    FormatReward,
    LengthReward,
    RewardContext,
    StudentExaminer,
    TeachabilityReward,
    TruthfulnessReward,
    get_reward_funcs,
    names_solution,
)
from chessteach.rl.tasks import COMPACT, build_tasks, split_puzzles, task_prompt  # noqa: E402
from chessteach.rl.timing import StepClock  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TINY_CPU = ROOT / "configs" / "grpo" / "tiny-cpu.yaml"

KIND_WORDS = ("mate", "check", "capture", "promote", "castle", "quiet")
"""Move kinds the rule student understands, in the order it prefers them on a tie."""
PIECE_WORDS = {
    "king": chess.KING,
    "queen": chess.QUEEN,
    "rook": chess.ROOK,
    "bishop": chess.BISHOP,
    "knight": chess.KNIGHT,
    "pawn": chess.PAWN,
}
FILLER_WORDS = (
    "the",
    "a",
    "look",
    "for",
    "move",
    "play",
    "with",
    "your",
    "and",
    "to",
    "is",
    "it",
    "this",
    "on",
    "board",
    "piece",
    "attack",
    "defend",
    "square",
    "win",
    "first",
    "then",
    "after",
    "white",
    "black",
)


def move_kinds(board: chess.Board, move: chess.Move) -> set[str]:
    """What a move does, in the student's words."""
    kinds: set[str] = set()
    if board.is_capture(move):
        kinds.add("capture")
    if move.promotion:
        kinds.add("promote")
    if board.is_castling(move):
        kinds.add("castle")
    if board.gives_check(move):
        kinds.add("check")
        board.push(move)
        if board.is_checkmate():
            kinds.add("mate")
        board.pop()
    return kinds or {"quiet"}


class RuleStudent:
    """A deterministic student that follows the explanation's words (the LanguageModel interface).

    It reads the exam prompt's FEN and explanation, keeps the legal moves of the kind the explanation names most
    (ties broken by :data:`KIND_WORDS` order), then of the piece it names most, and answers the first of them in
    UCI order; with no explanation (or no such move) it answers the first legal move.
    """

    spec = "rule:kinds"

    @staticmethod
    def _read(prompt: Prompt) -> tuple[chess.Board, str]:
        text = prompt if isinstance(prompt, str) else "\n".join(m["content"] for m in prompt)
        fen = re.search(r"FEN: (.+)", text)
        assert fen is not None, text
        explanation = text.split("Puzzle. FEN:")[0].removeprefix("Explanation:")
        return chess.Board(fen.group(1).strip()), explanation.lower()

    def choose(self, prompt: Prompt) -> tuple[chess.Board, chess.Move]:
        board, explanation = self._read(prompt)
        words = re.findall(r"[a-z]+", explanation)
        moves = sorted(board.legal_moves, key=lambda m: m.uci())
        kind_counts = {k: words.count(k) for k in KIND_WORDS if k in words}
        if kind_counts:
            kind = max(kind_counts, key=lambda k: (kind_counts[k], -KIND_WORDS.index(k)))
            moves = [m for m in moves if kind in move_kinds(board, m)] or moves
        piece_counts = {p: words.count(p) for p in PIECE_WORDS if p in words}
        if piece_counts:
            piece = PIECE_WORDS[max(piece_counts, key=lambda p: (piece_counts[p], p))]
            moves = [m for m in moves if board.piece_type_at(m.from_square) == piece] or moves
        return board, moves[0]

    def generate(self, prompts: Sequence[Prompt], config: GenerationConfig | None = None) -> list[str]:
        answers = []
        for prompt in prompts:
            board, move = self.choose(prompt)
            answers.append(" " + board.san(move))
        return answers

    def score(self, prompts: Sequence[Prompt], continuations: Sequence[str]) -> list[float]:
        scores = []
        for prompt, continuation in zip(prompts, continuations, strict=True):
            board, move = self.choose(prompt)
            chosen = continuation.strip() == board.san(move)
            scores.append(math.log(0.9) if chosen else math.log(0.1 / max(1, board.legal_moves.count() - 1)))
        return scores

    def close(self) -> None:
        pass


def _rule_student(target: str) -> RuleStudent:
    return RuleStudent()


@pytest.fixture(autouse=True)
def _rule_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    """The ``rule:`` spec names the rule student, for these tests only (the registry is global)."""
    from chessteach.llm import base

    base._import_backends()
    monkeypatch.setitem(base._BACKENDS, "rule", _rule_student)


@pytest.fixture(scope="module")
def puzzles() -> list[Puzzle]:
    return read_puzzles(bundled_puzzles()).puzzles


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "false")
    monkeypatch.setenv("WANDB_DISABLED", "true")


def word_level_teacher(path: Path) -> Path:
    """A tiny random Llama whose tokenizer knows only a few chess words (tokenizers WordLevel)."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    from chessteach.rl.tiny import SPECIAL_TOKENS, TINY_LLAMA, build_random_model, wrap_tokenizer

    words = [*SPECIAL_TOKENS, *KIND_WORDS, *PIECE_WORDS, *FILLER_WORDS]
    tokenizer = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.add_special_tokens(SPECIAL_TOKENS)
    small = {**TINY_LLAMA, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1}
    return build_random_model(path, small, tokenizer=wrap_tokenizer(tokenizer), seed=0)


# --- tasks -----------------------------------------------------------------------------------------------------


def test_tasks_split_by_puzzle(puzzles: list[Puzzle]) -> None:
    split = build_tasks(puzzles, concepts=["mateIn1", "mateIn2", "fork"], exam_size=3, eval_fraction=0.3)
    assert split.train and split.eval
    train_ids = {pid for t in split.train for pid in (t.example_id, *t.exam_ids)}
    eval_ids = {pid for t in split.eval for pid in (t.example_id, *t.exam_ids)}
    assert not train_ids & eval_ids
    for task in split.train + split.eval:
        assert task.example_id not in task.exam_ids and len(task.exam_ids) == 3
        assert all(task.concept in split.puzzles[pid].themes for pid in task.exam_ids)
        assert [m["role"] for m in task.prompt] == ["system", "user"]
    train, held = split_puzzles(puzzles, eval_fraction=0.3)
    assert {p.id for p in train}.isdisjoint({p.id for p in held})
    row = split.dataset("train")[0]
    assert set(row) >= {"prompt", "task_id", "concept", "example_id", "exam_ids"}


COMPACT_07WUB_SYSTEM = (
    "You are a chess teacher. Write a short lesson (under 100 words) on one chess concept in Markdown, with exactly "
    "these four level-2 headings in this order: ## What it is, ## How to spot it, ## Worked example, "
    "## Common mistakes. One or two sentences under each. Every square, piece and move you name must be true in the "
    "example position; when unsure, say less."
)
COMPACT_07WUB_USER = """Concept: Mate in 1 (`mateIn1`)
Definition: The side to move gives checkmate at once: the first move is mate.

Example position (White to move), FEN: 4n2k/p1p3pp/2p5/2B5/8/5P1b/PqP4P/RN2R1K1 w - - 0 18
The opponent's last move was 17... Nxe8.
Solution line: 18. Rxe8#
Checked facts about the line:
- After 18. Rxe8#, the black king on h8 is checkmated by the white rook on e8.
- After 18. Rxe8#, the king on h8 is checkmated by the rook on e8 (back rank mate).

Write the lesson on mate in 1 with the four sections "What it is", "How to spot it", "Worked example", \
"Common mistakes".
In "Worked example", think step by step through the solution line above, one move at a time."""
"""The compact teacher prompt of bundled puzzle 07Wub, as the regex cut of the full prompt wrote it before the
compact prompt had its own templates."""


def test_compact_prompt_templates(puzzles: list[Puzzle]) -> None:
    """The compact templates render the text the full prompt's cut gave (no board, no club player's or mistakes
    line, the first two facts)."""
    from chessteach.teaching.explain import example_facts

    example = next(p for p in puzzles if p.id == "07Wub")
    facts = example_facts(example, "mateIn1")
    prompt = task_prompt("mateIn1", example, facts, COMPACT)
    assert prompt == [
        {"role": "system", "content": COMPACT_07WUB_SYSTEM},
        {"role": "user", "content": COMPACT_07WUB_USER},
    ]
    assert task_prompt("mateIn1", example, [*facts, *facts], COMPACT) == prompt  # the first two facts only
    split = build_tasks(puzzles, concepts=["mateIn1"], exam_size=2, prompt_style=COMPACT, tasks_per_concept=9)
    assert any(task.prompt == prompt for task in split.train + split.eval if task.example_id == "07Wub")


# --- rewards ---------------------------------------------------------------------------------------------------


def test_registry_names_the_valid_rewards() -> None:
    with pytest.raises(ValueError, match="valid rewards: teachability, solution_logprob"):
        get_reward_funcs(["teachability", "eloquence"], RewardContext({}))
    assert set(REWARDS) == {
        "teachability", "solution_logprob", "solution_probability", "truthfulness", "format", "length"
    }
    funcs = get_reward_funcs(["format", "length"], RewardContext({}))
    assert [f.__name__ for f in funcs] == ["format", "length"]


def test_rewards_are_picklable_callables_named_for_their_columns(puzzles: list[Puzzle]) -> None:
    """TRL names the log columns after ``__name__``; a reward pickles (TRL's async rollouts need that)."""
    import pickle

    from trl.rewards.other_rewards import get_soft_overlong_punishment

    mate = Puzzle.from_solution("6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1", ["a1a8"], id="m1")
    examiner = StudentExaminer(RuleStudent(), {"m1": mate}, score_solutions=False)
    context = RewardContext({"m1": mate}, examiner_factory=lambda: examiner)
    rewards = get_reward_funcs(list(REWARDS), context)
    assert [r.__name__ for r in rewards] == list(REWARDS)
    assert [pickle.loads(pickle.dumps(r)).__name__ for r in rewards] == list(REWARDS)
    ids = [[0] * n for n in (3, 24, 25, 30, 33, 40)]
    length = LengthReward(24, 8)
    assert length([""] * len(ids), completion_ids=ids) == get_soft_overlong_punishment(32, 8)(ids)


def test_step_clock_times_generation_and_rewards() -> None:
    """The clock logs generation from the step's mark to the first reward, and the rewards' time, through TRL's
    ``log_metric`` keyword; the rewards keep their names."""
    logged: dict[str, list[float]] = {}
    clock = StepClock()
    timed = clock.time_rewards([FormatReward(), LengthReward(4, 2)])
    assert [t.__name__ for t in timed] == ["format", "length"]
    clock.mark()
    kwargs: dict[str, Any] = {
        "completion_ids": [[1, 2, 3], [4]],
        "log_metric": lambda name, value: logged.setdefault(name, []).append(value),
    }
    assert [t(["## What it is\nA fork.", "x"], **kwargs) for t in timed] == [[0.25, 0.0], [0.0, 0.0]]
    assert set(logged) == {
        "timing/generation_s", "timing/generation_cpu_s", "timing/generation_tokens_per_s",
        "timing/reward_s", "timing/reward_cpu_s",
    }  # fmt: skip
    assert all(len(values) == 1 and values[0] >= 0 for values in logged.values())


def test_text_rewards(puzzles: list[Puzzle]) -> None:
    four = "## What it is\nA mate.\n## How to spot it\nChecks.\n## Worked example\nRa8#.\n## Common mistakes\nNone."
    assert FormatReward()([[{"role": "assistant", "content": four}], "## What it is\nx"]) == [1.0, 0.25]
    length = LengthReward(10, 5)
    assert length(["x", "y", "z"], completion_ids=[[0] * 10, [0] * 12, [0] * 30]) == [0.0, -0.4, -1.0]
    mate = Puzzle.from_solution("6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1", ["a1a8"], id="m1")
    truth = TruthfulnessReward({"m1": mate})
    true, false, none = truth(
        ["1. Ra8# is checkmate.", "The white queen on a1 gives check.", "Look for it."], example_id=["m1"] * 3
    )
    assert true == 1.0 and false is not None and false < 0 and none is None


def test_teachability_batches_the_student_and_guards_leaks(puzzles: list[Puzzle]) -> None:
    """One generate call per step for all completions; the baseline once; a leaked puzzle earns nothing."""
    mates = [p for p in puzzles if "mateIn1" in p.themes][:3]
    examiner = StudentExaminer(RuleStudent(), {p.id: p for p in mates}, score_solutions=False)
    teachability = TeachabilityReward(examiner)
    ids = [p.id for p in mates]
    solution = mates[0].position().san(mates[0].solver_moves[0])
    assert names_solution(f"Play {solution}!", mates[0])
    completions = [[{"role": "assistant", "content": text}] for text in ("look for mate", "quiet", f"mate {solution}")]
    rewards = teachability(completions, exam_ids=[ids] * 3)
    base = examiner.baseline(ids)
    assert examiner.counters.generate_calls == 1  # the whole step in one call (the baseline is asked apart, once)
    assert rewards[0] == pytest.approx(sum(1 - base[i].correct for i in ids) / 3)
    assert rewards[2] == pytest.approx(sum(1 - base[i].correct for i in ids[1:]) / 3)  # the leaked puzzle counts 0
    teachability(completions, exam_ids=[ids] * 3)
    assert examiner.counters.generate_calls == 1  # asked once per (explanation, puzzle)


# --- training --------------------------------------------------------------------------------------------------


def test_parser_yaml_overrides_and_unknown_keys(tmp_path: Path) -> None:
    script_args, training_args, model_args = parse_args(["--config", str(TINY_CPU), "--max_steps", "7"])
    assert isinstance(script_args, GRPOScriptArguments) and isinstance(training_args, TeacherGRPOConfig)
    assert training_args.max_steps == 7 and training_args.use_cpu and model_args.model_name_or_path == "tiny-random"
    bad = tmp_path / "bad.yaml"
    bad.write_text(TINY_CPU.read_text() + "\nnot_a_setting: 1\n")
    with pytest.raises(ValueError, match="not_a_setting"):
        parse_args(["--config", str(bad)])
    with pytest.raises(ValueError, match="valid rewards"):
        parse_args(["--config", str(TINY_CPU), "--rewards", "teachability", "eloquence"])


def test_cli_three_steps_every_reward_then_resume(tmp_path: Path) -> None:
    """`chessteach train --config configs/grpo/tiny-cpu.yaml` runs three GRPO steps with every reward on and
    writes its metrics and curve; resuming from its checkpoint continues the step count."""
    from typer.testing import CliRunner

    from chessteach.cli import app

    out = tmp_path / "run"
    runner = CliRunner()
    result = runner.invoke(app, ["train", "--config", str(TINY_CPU), "--output_dir", str(out)])
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert "step 3" in result.output
    metrics = read_metrics(out)
    assert list(metrics["step"]) == [1, 2, 3]
    for name in REWARDS:
        assert f"rewards/{name}/mean" in metrics
    assert {"exam/accuracy_with", "completions/mean_length", "timing/reward_s", "step_time"} <= set(metrics)
    assert (out / CURVE_PNG).stat().st_size > 10_000
    assert (out / "evaluation.md").read_text().count("| before |") == 1
    assert (out / "checkpoint-2").is_dir()

    result = runner.invoke(
        app,
        [
            "train",
            "--config",
            str(TINY_CPU),
            "--output_dir",
            str(out),
            "--resume_from_checkpoint",
            "last",
            "--max_steps",
            "4",
            "--evaluate_before_after",
            "false",
        ],
    )
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert "step 4" in result.output
    assert list(read_metrics(out / METRICS_CSV)["step"]) == [1, 2, 3, 4]


def test_learning_signal(tmp_path: Path) -> None:
    """A word-level teacher trained with GRPO against the rule student raises its teachability reward."""
    from chessteach.rl.train import main

    teacher = word_level_teacher(tmp_path / "teacher")
    out = tmp_path / "run"
    script_args, training_args, model_args = parse_args(
        [
            "--config",
            str(TINY_CPU),
            "--model_name_or_path",
            str(teacher),
            "--student",
            "rule:kinds",
            "--concepts",
            "mateIn1",
            "backRankMate",
            "hangingPiece",
            "--exam_size",
            "3",
            "--tasks_per_concept",
            "2",
            "--rewards",
            "teachability",
            "--reward_weights",
            "1.0",
            "--output_dir",
            str(out),
            "--max_steps",
            "18",
            "--per_device_train_batch_size",
            "8",
            "--num_generations",
            "8",
            "--max_completion_length",
            "6",
            "--learning_rate",
            "2e-2",
            "--lr_scheduler_type",
            "constant",
            "--save_strategy",
            "no",
            "--evaluate_before_after",
            "false",
            "--shuffle_dataset",
            "true",
        ]
    )
    result = main(script_args, training_args, model_args)
    curve = read_metrics(out)["rewards/teachability/mean"].tolist()
    third = len(curve) // 3
    first, last = sum(curve[:third]) / third, sum(curve[-third:]) / third
    (tmp_path / "learning_signal.txt").write_text(f"first third {first:.3f}, last third {last:.3f}\n{curve}\n")
    assert result.global_step == 18
    assert last > first + 0.2, f"teachability did not rise: first third {first:.3f}, last third {last:.3f}: {curve}"
    assert (out / CURVE_PNG).is_file()  # the curve, saved under tmp_path


def test_load_rule_student_through_the_spec() -> None:
    student: Any = load_model("rule:kinds")
    assert isinstance(student, RuleStudent)
