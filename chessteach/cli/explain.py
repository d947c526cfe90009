"""``chessteach explain``: explain a concept with an example puzzle, as Markdown with its board and fact-check."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from chessteach.cli.console import fail
from chessteach.cli.options import puzzle_from_command_line, read_puzzle_file
from chessteach.cli.paths import output_file
from chessteach.concepts.catalog import get_concept
from chessteach.errors import ChessteachError
from chessteach.llm.base import GenerationConfig, load_model
from chessteach.puzzles import Puzzle, bundled_puzzles
from chessteach.puzzles.tag import tag_puzzle
from chessteach.teaching.explain import TEACHER_CONFIG, explain_concept, explanation_markdown, pick_example
from chessteach.teaching.factcheck import check_explanation

logger = logging.getLogger(__name__)


def default_puzzles() -> Path:
    """The bundled sample set (``puzzles/lichess-sample.csv``, packaged with chessteach)."""
    return bundled_puzzles()


def _example(
    concept_id: str, example_id: str | None, fen: str | None, moves: list[str] | None, puzzles_csv: Path | None
) -> Puzzle:
    if fen is not None:
        if example_id is not None:
            raise typer.BadParameter("give --example or --fen, not both", param_hint="--example")
        solution = [m for text in moves or [] for m in text.split()]
        if not solution:
            raise typer.BadParameter("--fen needs --moves (the solution, UCI or SAN)", param_hint="--moves")
        return puzzle_from_command_line(fen, solution, "--fen/--moves", themes=[concept_id])
    if moves:
        raise typer.BadParameter("--moves goes with --fen", param_hint="--moves")
    path = puzzles_csv or default_puzzles()
    puzzle_file = read_puzzle_file(path, "cannot read puzzles: ")
    if example_id is None:
        try:
            return pick_example(concept_id, puzzle_file.puzzles)
        except ChessteachError as exc:
            fail(f"{exc} in {path}")
    for puzzle in puzzle_file.puzzles:
        if puzzle.id == example_id:
            if concept_id not in puzzle.themes and concept_id not in tag_puzzle(puzzle):
                logger.warning(
                    "puzzle %s does not show %s (its themes: %s)", example_id, concept_id, " ".join(puzzle.themes)
                )
            return puzzle
    fail(f"no puzzle {example_id!r} in {path}")


def explain(
    concept: Annotated[
        str,
        typer.Option("--concept", "-c", help="Catalog id of the concept, e.g. fork, pin, backRankMate, isolatedPawn."),
    ],
    example: Annotated[
        str | None,
        typer.Option("--example", help="PuzzleId of the example (default: the best example in the puzzle set)."),
    ] = None,
    fen: Annotated[
        str | None, typer.Option("--fen", help="The example as a position the solver faces (with --moves).")
    ] = None,
    moves: Annotated[
        list[str] | None,
        typer.Option(
            "--moves", help="With --fen: the solution line, UCI or SAN (space separated, or repeat the option)."
        ),
    ] = None,
    puzzles: Annotated[
        Path | None,
        typer.Option(
            "--puzzles",
            help="Lichess puzzle CSV to take the example from (default: the bundled sample).",
            dir_okay=False,
        ),
    ] = None,
    teacher: Annotated[
        str | None,
        typer.Option(
            "--teacher",
            help="Teacher model spec (hf:PATH, "
            "openai:URL#MODEL, vllm:PATH); default: the grounded template "
            "explainer, no model needed.",
        ),
    ] = None,
    max_new_tokens: Annotated[int, typer.Option("--max-new-tokens", min=1, help="Teacher's token budget.")] = (
        TEACHER_CONFIG.max_new_tokens
    ),
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write the explanation as Markdown (board as inline SVG, fact-check) here; default: print the text.",
            callback=output_file,
        ),
    ] = None,
) -> None:
    """Explain a concept with an example puzzle; fact-check every claim against the example's line."""
    try:
        concept_id = get_concept(concept).id
    except ChessteachError as exc:  # an unknown concept, with the nearest ids
        fail(str(exc))
    puzzle = _example(concept_id, example, fen, moves, puzzles)
    model = None
    if teacher is not None:
        try:
            model = load_model(teacher)
        except ChessteachError as exc:
            fail(str(exc))
    try:
        config = GenerationConfig(max_new_tokens=max_new_tokens, temperature=TEACHER_CONFIG.temperature)
        explanation = explain_concept(concept_id, puzzle, teacher=model, config=config)
    except ChessteachError as exc:
        fail(str(exc))
    finally:
        if model is not None:
            model.close()
    check = check_explanation(explanation, puzzle)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(explanation_markdown(explanation, puzzle), encoding="utf-8")
    else:
        typer.echo(explanation.text)
    where = f" -> {output}" if output is not None else ""
    typer.echo(f"{concept_id} on puzzle {puzzle.id} by {explanation.teacher}{where}")
    if not explanation.complete:
        typer.echo(f"format incomplete: missing {', '.join(explanation.missing_sections)}")
    typer.echo(f"fact-check: {check.summary()}")
    for claim in check.false_claims:
        typer.echo(f"  false: {claim.text} ({claim.reason})")
