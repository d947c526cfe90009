"""``chessteach train``: GRPO on the teacher from a recipe (``configs/grpo/*.yaml``), command-line overrides after it."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from chessteach.cli.console import fail
from chessteach.errors import ChessteachError

logger = logging.getLogger(__name__)


def train(
    ctx: typer.Context,
    config: Annotated[
        Path,
        typer.Option("--config", exists=True, dir_okay=False, help="The recipe, e.g. configs/grpo/tiny-cpu.yaml."),
    ],
) -> None:
    """Train the teacher with GRPO (TRL) toward explanations that raise the student's accuracy.

    Any other option overrides the recipe's key of the same name, as in TRL's scripts:
    ``chessteach train --config configs/grpo/tiny-cpu.yaml --max_steps 10 --output_dir runs/try``.
    Unknown keys are errors. Writes checkpoints, metrics.csv, training_curve.png and evaluation.md into output_dir.
    """
    try:
        from chessteach.rl.config import parse_args
        from chessteach.rl.train import main
    except ImportError as exc:
        fail(f"training needs the [train] extra (pip install 'chessteach[train]'): {exc}")
    try:
        script_args, training_args, model_args = parse_args(["--config", str(config), *ctx.args])
    except (ValueError, SystemExit) as exc:  # TRL's parser: an unknown key or a bad value (its API: ValueError)
        fail(f"{config}: {exc}")
    try:
        result = main(script_args, training_args, model_args)
    except ChessteachError as exc:  # no tasks for the concepts, a puzzle without distractors for exam_choices, ...
        fail(f"{config}: {exc}")
    typer.echo(f"step {result.global_step}: metrics in {result.metrics_csv}, curve in {result.curve_png}")
    if result.verdict is not None:
        typer.echo(f"held-out evaluation: {result.verdict} (see {result.output_dir / 'evaluation.md'})")


TRAIN_CONTEXT = {"allow_extra_args": True, "ignore_unknown_options": True}
"""The command takes the recipe's overrides as extra arguments."""
