"""Student exams: answer parsing, grading, the bootstrap, drawing, the cache, the CLI, and a tiny student trained
here to copy the move its context names, whose measured uplift must follow the explanation's content."""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from pathlib import Path

import chess
import pandas as pd
import pytest
from typer.testing import CliRunner

from chessteach.cli import app
from chessteach.llm import GenerationConfig, LanguageModel, Prompt, load_model
from chessteach.puzzles import Puzzle, read_puzzles
from chessteach.teaching.answers import accepted_moves, grade, parse_answer
from chessteach.teaching.exam import run_exam
from chessteach.teaching.exam_cache import ExamCache
from chessteach.teaching.exam_puzzles import RatingBand, draw_exam, puzzle_positions
from chessteach.teaching.examiner import ExamConfig
from chessteach.teaching.prompts import ExamError, exam_prompt
from chessteach.teaching.results import concept_profile
from chessteach.teaching.stats import paired_bootstrap

START = chess.STARTING_FEN
CASTLES = "r3k2r/8/8/8/8/8/8/R3K2R w KQkq - 0 1"
PROMOTES = "8/4P3/8/8/8/8/k7/6K1 w - - 0 1"
BLACK_TO_MOVE = "rnbqkbnr/pppppppp/8/8/4P3/8/PPPP1PPP/RNBQKBNR b KQkq - 0 1"

# (position, the student's text, the move read as UCI or None)
ANSWERS = [
    (START, "e4", "e2e4"),
    (START, " e4\n", "e2e4"),
    (START, "1. e4", "e2e4"),
    (START, "1.e4 e5", "e2e4"),
    (BLACK_TO_MOVE, "1... e5", "e7e5"),
    (BLACK_TO_MOVE, "1...Nf6!", "g8f6"),
    (START, "Nf3+", "g1f3"),
    (START, "Nf3!?", "g1f3"),
    (START, "'Nf3'", "g1f3"),
    (START, '"Nc3".', "b1c3"),
    (START, "**Nf3**", "g1f3"),
    (START, "`d4`", "d2d4"),
    (START, "Answer: Nf3", "g1f3"),
    (START, "answer:d4 because it takes the centre", "d2d4"),
    (START, "**Answer:** c4", "c2c4"),
    (START, "The best move is Nf3, attacking e5.", "g1f3"),
    (START, "Best move: g1f3", "g1f3"),
    (START, "g1f3", "g1f3"),
    (START, "G1F3", "g1f3"),
    (START, "E2E4 is strong", "e2e4"),
    (START, "e2-e4", "e2e4"),
    (START, "Ng1-f3", "g1f3"),
    (START, "NF3", "g1f3"),
    (START, "nf3", "g1f3"),
    (START, "♘f3", "g1f3"),
    (START, "Qh5 is illegal, so e4", "e2e4"),
    (START, "I like Ke2?? no: Nc3", "b1c3"),
    (CASTLES, "O-O", "e1g1"),
    (CASTLES, "0-0", "e1g1"),
    (CASTLES, "o-o", "e1g1"),
    (CASTLES, "O-O-O+", "e1c1"),
    (CASTLES, "0-0-0", "e1c1"),
    (CASTLES, "e1g1", "e1g1"),
    (CASTLES, "e1h1", "e1g1"),
    (PROMOTES, "e8=Q", "e7e8q"),
    (PROMOTES, "e8Q+", "e7e8q"),
    (PROMOTES, "e7e8q", "e7e8q"),
    (PROMOTES, "E7E8N", "e7e8n"),
    (PROMOTES, "e8=N", "e7e8n"),
    (START, "", None),
    (START, "I resign.", None),
    (START, "Qh5", None),
    (START, "e5", None),
    (START, "Nf3Nc3", None),
    (START, "e9", None),
    (CASTLES, "1-0", None),
]


@pytest.mark.parametrize(("fen", "text", "uci"), ANSWERS)
def test_parse_answer(fen: str, text: str, uci: str | None) -> None:
    move = parse_answer(text, chess.Board(fen))
    assert (move.uci() if move else None) == uci


@pytest.fixture(scope="module")
def dev_puzzles(lichess_csv: Path) -> list[Puzzle]:
    return read_puzzles(lichess_csv).puzzles


def test_any_mate_in_one_is_correct(dev_puzzles: list[Puzzle]) -> None:
    """Lichess puzzle 001KR: Rf8# is the listed solution, Rd8# mates as well."""
    puzzle = next(p for p in dev_puzzles if p.id == "001KR")
    board = puzzle.position()
    assert puzzle.solution_san() == ["Rf8#"]
    assert {board.san(m) for m in accepted_moves(puzzle)} == {"Rf8#", "Rd8#"}
    for text in ("Rf8#", "Rd8", "Answer: Rd8#!"):
        assert grade(puzzle, parse_answer(text, board)), text
    other = next(m for m in board.legal_moves if m not in accepted_moves(puzzle))
    assert not grade(puzzle, other)
    assert not grade(puzzle, None)


def test_only_the_solution_without_a_mate(dev_puzzles: list[Puzzle]) -> None:
    puzzle = next(p for p in dev_puzzles if "mate" not in p.themes and "fork" in p.themes)
    assert accepted_moves(puzzle) == {puzzle.solver_moves[0]}


def test_paired_bootstrap_on_known_samples() -> None:
    ones = paired_bootstrap([1.0] * 40, [0.0] * 40)
    assert (ones.mean, ones.low, ones.high) == (1.0, 1.0, 1.0)
    # 30 of 100 puzzles gained, none lost: mean 0.3, normal approximation 0.3 +- 1.96 * sqrt(0.21 / 100)
    gained = paired_bootstrap([1.0] * 30 + [0.0] * 70, [0.0] * 100, resamples=4000, seed=1)
    half_width = 1.96 * (0.21 / 100) ** 0.5
    assert gained.mean == pytest.approx(0.3)
    assert gained.low == pytest.approx(0.3 - half_width, abs=0.02)
    assert gained.high == pytest.approx(0.3 + half_width, abs=0.02)
    assert gained.excludes(0.0)
    # pairing matters: equal accuracies with and without give an interval around 0
    same = paired_bootstrap([1, 0] * 20, [0, 1] * 20)
    assert same.mean == 0 and same.low < 0 < same.high
    assert paired_bootstrap([1, 0] * 20, [0, 1] * 20) == same  # seeded
    with pytest.raises(ValueError, match="3 scores with"):
        paired_bootstrap([1, 1, 1], [0])


def test_rating_bands() -> None:
    assert RatingBand.parse("1200-1600").contains(1200)
    assert not RatingBand.parse("1200-1600").contains(1600)
    assert RatingBand.parse("2000-").contains(2900)
    with pytest.raises(ExamError, match="bad rating band"):
        RatingBand.parse("high")


def test_exam_draw_is_seeded_and_disjoint_from_the_example(dev_puzzles: list[Puzzle]) -> None:
    from chessteach.teaching.explain import pick_example

    example = pick_example("fork", dev_puzzles)
    twin = Puzzle(id="twin", fen=example.fen, moves=list(example.moves), rating=1500, themes=["fork"])
    pool = [*dev_puzzles, twin]
    every = draw_exam(pool, "fork", n=10_000, example=example)
    assert example.id not in {p.id for p in every} and "twin" not in {p.id for p in every}
    banned = puzzle_positions(example)
    assert all(not (puzzle_positions(p) & banned) for p in every)
    assert all("fork" in p.themes for p in every)

    drawn = draw_exam(pool, "fork", n=20, example=example, seed=3)
    assert len(drawn) == 20
    assert [p.id for p in drawn] == [p.id for p in draw_exam(list(reversed(pool)), "fork", n=20, example=example,
                                                            seed=3)]
    assert [p.id for p in drawn] != [p.id for p in draw_exam(pool, "fork", n=20, example=example, seed=4)]
    band = RatingBand(1200, 1600)
    assert all(band.contains(p.rating) for p in draw_exam(pool, "fork", n=15, rating=band, example=example))
    computed = draw_exam(dev_puzzles[:300], "fork", n=5, theme_source="computed")
    assert len(computed) == 5
    with pytest.raises(ExamError, match="no puzzles of theme"):
        draw_exam(dev_puzzles, "fork", n=5, rating=RatingBand(3500, None))


class CountingModel:
    """The real backend, with a count of the prompts it is asked about."""

    def __init__(self, model: LanguageModel) -> None:
        self.model = model
        self.spec = model.spec
        self.generated = 0
        self.scored = 0

    def generate(self, prompts: Sequence[Prompt], config: GenerationConfig | None = None) -> list[str]:
        self.generated += len(prompts)
        return self.model.generate(prompts, config)

    def score(self, prompts: Sequence[Prompt], continuations: Sequence[str]) -> list[float]:
        self.scored += len(prompts)
        return self.model.score(prompts, continuations)

    def close(self) -> None:
        self.model.close()


@pytest.fixture(scope="module")
def tiny_student(tiny_model_dir: Path) -> LanguageModel:
    return load_model(f"hf:{tiny_model_dir}")


def test_a_rerun_asks_the_model_nothing(
    tiny_student: LanguageModel, dev_puzzles: list[Puzzle], tmp_path: Path
) -> None:
    puzzles = draw_exam(dev_puzzles, "mateIn1", n=6, seed=0)
    config = ExamConfig(max_new_tokens=6)
    counting = CountingModel(tiny_student)
    progress: list[tuple[int, int]] = []
    with ExamCache(tmp_path / "exams.sqlite") as cache:
        first = run_exam(counting, puzzles, "Look for checks.", concept="mateIn1", config=config, cache=cache,
                         progress=lambda done, total: progress.append((done, total)))
    assert (counting.generated, counting.scored) == (12, 12)
    assert progress[-1] == (12, 12)
    assert len(first.results) == 12 and not any(r.cached for r in first.results)
    assert all(r.logprob_solution < 0 for r in first.results)

    again = CountingModel(tiny_student)
    with ExamCache(tmp_path / "exams.sqlite") as cache:
        second = run_exam(again, puzzles, "Look for checks.", concept="mateIn1", config=config, cache=cache)
        assert len(cache) == 12
        # another explanation asks only the half with it: the half without is shared
        third = CountingModel(tiny_student)
        run_exam(third, puzzles, "Look for captures.", concept="mateIn1", config=config, cache=cache)
    assert (again.generated, again.scored) == (0, 0)
    assert (third.generated, third.scored) == (6, 6)
    assert all(r.cached for r in second.results)
    assert [(r.answer, r.correct, r.logprob_solution) for r in second.results] == [
        (r.answer, r.correct, r.logprob_solution) for r in first.results
    ]
    summary = second.summary()
    assert summary.n == 6 and summary.uplift.low <= summary.uplift.mean <= summary.uplift.high


def test_chat_prompts_and_board_formats(tiny_student: LanguageModel, dev_puzzles: list[Puzzle]) -> None:
    puzzle = dev_puzzles[0]
    grid = exam_prompt(puzzle, "A hint.", prompt_format="grid")
    assert isinstance(grid, str) and "  a b c d e f g h" in grid and grid.index("A hint.") < grid.index("FEN")
    assert str(puzzle.position()) in str(exam_prompt(puzzle, prompt_format="board"))
    with pytest.raises(ExamError, match="valid formats: fen-san, board, grid"):
        exam_prompt(puzzle, prompt_format="pgn")
    report = run_exam(tiny_student, dev_puzzles[:2], "A hint.", config=ExamConfig(chat=True, max_new_tokens=4))
    assert report.prompt_format == "fen-san+chat" and len(report.results) == 4


def test_exam_command_end_to_end(tiny_model_dir: Path, lichess_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["exam", "--student", f"hf:{tiny_model_dir}", "--themes", "fork,mateIn1", "--puzzles", str(lichess_csv),
            "-n", "4", "-o", str(out), "--cache", str(tmp_path / "exams.sqlite"), "--max-new-tokens", "4"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "uplift" in result.output and "95% CI" in result.output
    table = pd.read_csv(out / "exam.csv")
    assert list(table["theme"]) == ["fork", "mateIn1"] and list(table["n"]) == [4, 4]
    assert {"accuracy_without", "accuracy_with", "uplift", "ci_low", "ci_high", "logprob_change"} <= set(table)
    assert (out / "exam.png").stat().st_size > 0 and (out / "fork.png").stat().st_size > 0
    assert len(pd.read_csv(out / "answers.csv")) == 8
    assert "Fork" in (out / "explanations" / "fork.txt").read_text()
    bad = CliRunner().invoke(app, ["exam", "--student", f"hf:{tiny_model_dir}", "--themes", "forks",
                                   "--puzzles", str(lichess_csv)])
    assert bad.exit_code == 2 and "fork" in bad.output


# --- the measurement responds to content ----------------------------------------------------------------------

FEW_MOVES = 8
"""Positions with at most this many legal moves keep the prompts short enough to train on in seconds."""
TRAIN_STEPS = 150
TRAIN_BATCH = 32
KEY_MOVE = "The key move is {move}."


def _train_copying_student(tiny_model_dir: Path, positions: list[Puzzle], out: Path) -> Path:
    """A 2-layer Llama (the tiny model's tokenizer, hidden size 128) trained to answer with the move its context
    names: half the contexts name the puzzle's solution, half a random legal move. Saved as a checkpoint."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    config = LlamaConfig.from_pretrained(tiny_model_dir)
    config.hidden_size, config.intermediate_size = 128, 256
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the shared cores are busy: one thread does not fight for them
    torch.manual_seed(0)
    rng = random.Random(0)
    model = LlamaForCausalLM(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.0)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min(1.0, (step + 1) / 10) * (1 - 0.9 * step / TRAIN_STEPS)
    )

    def example() -> tuple[list[int], list[int]]:
        puzzle = rng.choice(positions)
        board = puzzle.position()
        move = puzzle.solver_moves[0] if rng.random() < 0.5 else rng.choice(list(board.legal_moves))
        san = board.san(move)
        prompt = exam_prompt(puzzle, KEY_MOVE.format(move=san))
        assert isinstance(prompt, str)
        return tokenizer(prompt)["input_ids"], tokenizer(f" {san}\n", add_special_tokens=False)["input_ids"]

    try:
        model.train()
        for _ in range(TRAIN_STEPS):
            rows = [example() for _ in range(TRAIN_BATCH)]
            width = max(len(a) + len(b) for a, b in rows)
            ids = torch.full((TRAIN_BATCH, width), tokenizer.pad_token_id)
            labels = torch.full((TRAIN_BATCH, width), -100)
            mask = torch.zeros((TRAIN_BATCH, width), dtype=torch.long)
            for i, (prompt, target) in enumerate(rows):
                ids[i, : len(prompt) + len(target)] = torch.tensor(prompt + target)
                labels[i, len(prompt) : len(prompt) + len(target)] = torch.tensor(target)
                mask[i, : len(prompt) + len(target)] = 1
            loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
    finally:
        torch.set_num_threads(threads)
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def copying_student(
    tiny_model_dir: Path, dev_puzzles: list[Puzzle], tmp_path_factory: pytest.TempPathFactory
) -> tuple[LanguageModel, list[Puzzle]]:
    """The trained student and its exam: real endgame puzzles it never saw (not their ids, not their positions)."""
    few = [p for p in dev_puzzles if p.position().legal_moves.count() <= FEW_MOVES]
    exam = draw_exam(few, "endgame", n=30, seed=0)
    seen = set().union(*(puzzle_positions(p) for p in exam))
    train = [p for p in few if not (puzzle_positions(p) & seen)]
    assert len(train) > 100
    started = time.perf_counter()
    path = _train_copying_student(tiny_model_dir, train, tmp_path_factory.mktemp("copying-student"))
    print(f"trained the copying student on {len(train)} positions in {time.perf_counter() - started:.1f} s")
    return load_model(f"hf:{path}"), exam


def _key_move_exam(
    student: LanguageModel, exam: list[Puzzle], name: str, cache: ExamCache, *, right: bool
) -> pd.Series:
    """Each puzzle with an explanation that names its solution (``right``) or a move that does not solve it."""
    reports = []
    for puzzle in exam:
        board = puzzle.position()
        wrong = sorted(board.san(m) for m in board.legal_moves if m not in accepted_moves(puzzle))
        move = board.san(puzzle.solver_moves[0]) if right else wrong[0]
        reports.append(run_exam(student, [puzzle], KEY_MOVE.format(move=move), concept=name,
                                config=ExamConfig(max_new_tokens=6), cache=cache))
    row = concept_profile(reports).iloc[0]
    print(f"{name}: without {row.accuracy_without:.3f}, with {row.accuracy_with:.3f}, uplift {row.uplift:+.3f} "
          f"[{row.ci_low:+.3f}, {row.ci_high:+.3f}], log-prob change {row.logprob_change:+.3f}")
    return row


def test_uplift_follows_the_content_of_the_explanation(
    copying_student: tuple[LanguageModel, list[Puzzle]], tmp_path: Path
) -> None:
    import torch

    student, exam = copying_student
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # batch-1 decoding of a tiny model: a second thread only waits on the busy cores
    try:
        with ExamCache(tmp_path / "exams.sqlite") as cache:
            named = _key_move_exam(student, exam, "names the solution", cache, right=True)
            misnamed = _key_move_exam(student, exam, "names a wrong move", cache, right=False)
    finally:
        torch.set_num_threads(threads)
    assert named.n == misnamed.n == len(exam)
    assert named.ci_low > 0, named
    assert named.logprob_change > 0
    assert not misnamed.ci_low > 0, misnamed
    assert misnamed.logprob_change < named.logprob_change


def test_exam_bench_measures_against_the_decode_bound(tiny_student: LanguageModel, dev_puzzles: list[Puzzle]) -> None:
    from chessteach.teaching.bench import memory_bandwidth, run_exam_bench

    assert memory_bandwidth(megabytes=16, repeats=2) > 1e8
    bench = run_exam_bench(tiny_student, dev_puzzles[:4], batch_sizes=(2,), max_new_tokens=2)
    assert [(r.batch_size, r.with_explanation) for r in bench.rows] == [(2, False), (2, True)]
    assert bench.model_bytes > 100_000 and bench.decode_steps == 4
    assert all(0 < r.ratio < 1 and r.prompt_tokens > 50 for r in bench.rows)
    assert bench.rows[1].prompt_tokens > bench.rows[0].prompt_tokens
