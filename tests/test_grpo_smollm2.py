"""GRPO with real models on the CPU: the SmolLM2 recipe (``configs/grpo/smollm2-cpu.yaml``) as a smoke run.

The same recipe as the recorded benchmark (SmolLM2-135M-Instruct with LoRA teaching SmolLM2-135M-Instruct on
positional exercises as multiple choice, rewards solution_probability, truthfulness, format and length), cut to
two steps, two training tasks, short explanations and one exam puzzle per task, at one thread. It checks that the
real code path runs end to end and writes what a run must write: the metrics (rewards that are real numbers and
vary within a group), the curve, and the before/after evaluation with the likelihood measure and the false claims
per explanation. Whether training helps is the benchmark's question (BENCHMARKS.md), not this test's.
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
pytest.importorskip("trl")
pytest.importorskip("peft")

from chessteach.llm import ModelLoadError  # noqa: E402
from chessteach.llm.gguf import installed_gguf, smollm2_checkpoint  # noqa: E402
from chessteach.rl.config import parse_args  # noqa: E402
from chessteach.rl.train import main, teacher_checkpoint  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RECIPE = ROOT / "configs" / "grpo" / "smollm2-cpu.yaml"

try:
    installed_gguf()
except ModelLoadError as exc:  # pragma: no cover - the set-up installs it
    pytest.skip(str(exc), allow_module_level=True)

SMOKE = [
    "--max_steps", "2",
    "--max_train_tasks", "2",
    "--max_eval_tasks", "2",
    "--exam_size", "1",
    "--max_completion_length", "16",
    "--eval_max_new_tokens", "16",
    "--student_max_new_tokens", "4",
    "--save_strategy", "no",
]  # fmt: skip


@pytest.fixture(autouse=True)
def _one_thread(monkeypatch: pytest.MonkeyPatch, record_property: pytest.RecordProperty) -> Iterator[None]:
    """One torch thread (other tests use the other core), offline; the test's wall and CPU seconds as properties."""
    import torch

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    record_property("wall_s", round(time.perf_counter() - wall, 2))
    record_property("cpu_s", round(time.process_time() - cpu, 2))
    torch.set_num_threads(threads)


def test_recipe_settings_reach_the_rewards() -> None:
    """The recipe parses: LoRA on, SmolLM2 teacher and student, the likelihood reward with its degradation
    weight, and ``smollm2`` resolves to the converted checkpoint."""
    script, training, model = parse_args(["--config", str(RECIPE), "--degradation_weight", "3"])
    assert model.use_peft and model.lora_r > 0 and model.lora_target_modules
    assert script.student == "smollm2" and script.student_chat and script.exam_choices
    assert "solution_probability" in script.rewards and script.teacher_prompt == "compact"
    assert training.num_generations >= 4 and training.use_cpu
    assert script.reward_settings().degradation_weight == 3.0
    assert teacher_checkpoint(model.model_name_or_path or "", "unused") == str(smollm2_checkpoint())
    with pytest.raises(ValueError, match="degradation_weight"):
        parse_args(["--config", str(RECIPE), "--degradation_weight", "-1"])


def test_smoke_run_writes_metrics_curve_and_likelihood_evaluation(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = main(*parse_args(["--config", str(RECIPE), *SMOKE, "--output_dir", str(out)]))

    assert result.global_step == 2
    assert (out / "training_curve.png").stat().st_size > 0
    assert (out / "adapter_config.json").is_file()  # LoRA: the adapter is what was trained and saved
    metrics = pd.read_csv(out / "metrics.csv")
    assert list(metrics["step"]) == [1, 2]
    probability = metrics["rewards/solution_probability/mean"]
    assert probability.map(math.isfinite).all()
    # four different explanations of one task move the student's probability on the solution differently
    assert (metrics["rewards/solution_probability/std"] > 0).all()
    assert (metrics["reward_std"] > 0).all()
    assert metrics["exam/p_without"].between(0, 1).all() and metrics["exam/p_with"].between(0, 1).all()
    assert {"timing/generation_s", "timing/reward_s", "step_time", "truthfulness/false_claims"} <= set(metrics)
    assert (metrics["timing/cpu_s"] > 0).all() and (metrics["timing/generation_cpu_s"] > 0).all()
    # each part of a step against its FLOP bound at the matmul rate measured when training started
    for part, measured in (("generation", "timing/generation_s"), ("reward_student", "timing/reward_s")):
        bound = metrics[f"timing/{part}_bound_s"]
        assert (bound > 0).all() and (bound <= metrics[measured]).all(), part
    assert (metrics["timing/train_pass_bound_s"] > 0).all() and (metrics["timing/matmul_gflops"] > 1).all()

    table = pd.read_csv(out / "evaluation.csv")
    assert list(table["phase"]) == ["before", "after", "after - before"]
    phases = table.iloc[:2]
    for column in ("p_without", "p_with", "lik_accuracy_without", "lik_accuracy_with"):
        assert phases[column].between(0, 1).all(), column
    # the student is not trained: its answers without an explanation are the same before and after
    assert phases["p_without"].iloc[0] == pytest.approx(phases["p_without"].iloc[1])
    assert (phases["false_claims"] >= 0).all() and (phases["explanations"] == 2).all()
    change = table.iloc[2]
    assert change["p_with"] == pytest.approx(phases["p_with"].iloc[1] - phases["p_with"].iloc[0])
    assert change["p_ci_low"] <= change["p_with"] <= change["p_ci_high"]
    assert change["p_verdict"] in {"helped", "hurt", "no clear change"} and result.verdict == change["p_verdict"]
    markdown = (out / "evaluation.md").read_text()
    assert markdown.count("| before |") == 1
    assert "| probability on the solution, with explanation |" in markdown and "| false claims |" in markdown
    lessons = pd.read_csv(out / "explanations.csv")
    assert list(lessons["phase"]) == ["before", "before", "after", "after"] and lessons["explanation"].notna().all()
    assert result.before is not None and len(result.before.claims) == 2
    assert set(result.before.claims.columns) >= {"verified", "false", "uncheckable", "words"}
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
