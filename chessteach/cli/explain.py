"""``chessteach explain``: explain a concept with examples from real games, as Markdown with their boards and
fact-check; the engine searches each exercise example's position for its line (``--no-engine``: none)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from chessteach.cli.console import fail
from chessteach.cli.options import EngineSettings, engine_options, puzzle_from_command_line, read_puzzle_file
from chessteach.cli.paths import output_file
from chessteach.concepts.catalog import POSITIONAL, get_concept
from chessteach.engine import Analysis
from chessteach.errors import ChessteachError
from chessteach.llm.base import GenerationConfig, load_model
from chessteach.puzzles import Puzzle, bundled_puzzles
from chessteach.puzzles.lichess_csv import bundled_exercises
from chessteach.puzzles.tag import tag_puzzle
from chessteach.teaching.examples import wants_engine_line
from chessteach.teaching.explain import (
    DEFAULT_EXAMPLES,
    TEACHER_CONFIG,
    NoExampleError,
    example_lines,
    explain_concept,
    explanation_markdown,
    pick_examples,
)
from chessteach.teaching.factcheck import check_explanation

logger = logging.getLogger(__name__)


def default_puzzles(concept_id: str | None = None) -> list[Path]:
    """Where the examples come from by default: for a positional concept the bundled positional exercises
    (``puzzles/positional-exercises.csv``), then the bundled Lichess sample (``puzzles/lichess-sample.csv``)
    for a concept no exercise shows; for a tactical theme the Lichess sample alone."""
    if concept_id is not None and get_concept(concept_id).family == POSITIONAL:
        return [bundled_exercises(), bundled_puzzles()]
    return [bundled_puzzles()]


def _picked(concept_id: str, paths: list[Path], n: int) -> list[Puzzle]:
    """The examples from the first of the sets that shows the concept."""
    error: ChessteachError | None = None
    for path in paths:
        try:
            return pick_examples(concept_id, read_puzzle_file(path, "cannot read puzzles: ").puzzles, n)
        except NoExampleError as exc:
            error = exc
            logger.debug("%s in %s", exc, path)
        except ChessteachError as exc:
            fail(f"{exc} in {path}")
    fail(f"{error} in {' or '.join(str(p) for p in paths)}")


def _examples(
    concept_id: str,
    example_id: str | None,
    fen: str | None,
    moves: list[str] | None,
    puzzles_csv: Path | None,
    n: int,
) -> list[Puzzle]:
    if fen is None and example_id is None:
        if moves:
            raise typer.BadParameter("--moves goes with --fen", param_hint="--moves")
        return _picked(concept_id, [puzzles_csv] if puzzles_csv is not None else default_puzzles(concept_id), n)
    return [_example(concept_id, example_id, fen, moves, puzzles_csv)]


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
    assert example_id is not None
    paths = [puzzles_csv] if puzzles_csv is not None else default_puzzles(concept_id)
    for puzzle in (p for path in paths for p in read_puzzle_file(path, "cannot read puzzles: ").puzzles):
        if puzzle.id == example_id:
            if concept_id not in puzzle.themes and concept_id not in tag_puzzle(puzzle):
                logger.warning(
                    "puzzle %s does not show %s (its themes: %s)", example_id, concept_id, " ".join(puzzle.themes)
                )
            return puzzle
    fail(f"no puzzle {example_id!r} in {' or '.join(str(p) for p in paths)}")


def _searches(shown: list[Puzzle], settings: EngineSettings) -> dict[str, Analysis]:
    """The engine's search of each exercise example's position, by puzzle id (no engine is started when no
    example is an exercise; the analysis cache makes a rerun free)."""
    exercises = [p for p in shown if wants_engine_line(p)]
    if not exercises:
        return {}
    with settings.open_pool() as pool:
        analyses = pool.analyse([p.position() for p in exercises])
    for puzzle, analysis in zip(exercises, analyses, strict=True):
        if analysis is None:
            logger.warning("exercise %s: the engine failed on its position; no engine line", puzzle.id)
    return {p.id: a for p, a in zip(exercises, analyses, strict=True) if a is not None}


@engine_options()
def explain(
    concept: Annotated[
        str,
        typer.Option("--concept", "-c", help="Catalog id of the concept, e.g. fork, pin, backRankMate, isolatedPawn."),
    ],
    example: Annotated[
        str | None,
        typer.Option(
            "--example", help="PuzzleId of the one example to show (default: the best --examples of the puzzle set)."
        ),
    ] = None,
    examples: Annotated[
        int,
        typer.Option(
            "--examples",
            "-n",
            min=1,
            help="How many examples from real games to show (different games where there are enough).",
        ),
    ] = DEFAULT_EXAMPLES,
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
            help="Puzzle or exercise CSV to take the examples from (default: the bundled positional exercises for a"
            " positional concept, the bundled Lichess sample for a tactical theme).",
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
    no_engine: Annotated[
        bool,
        typer.Option(
            "--no-engine", help="Show no engine line for the exercise examples (no engine is started or needed)."
        ),
    ] = False,
    *,
    settings: EngineSettings,
) -> None:
    """Explain a concept with examples from real games; fact-check every claim against the examples' lines.

    A positional exercise stores only its best move: the engine searches its position (at --nodes, through the
    analysis cache) and the worked example shows the engine's line from that move on.
    """
    try:
        concept_id = get_concept(concept).id
    except ChessteachError as exc:  # an unknown concept, with the nearest ids
        fail(str(exc))
    shown = _examples(concept_id, example, fen, moves, puzzles, examples)
    analyses = {} if no_engine else _searches(shown, settings)
    model = None
    if teacher is not None:
        try:
            model = load_model(teacher)
        except ChessteachError as exc:
            fail(str(exc))
    try:
        config = GenerationConfig(max_new_tokens=max_new_tokens, temperature=TEACHER_CONFIG.temperature)
        explanation = explain_concept(concept_id, shown, teacher=model, config=config, analyses=analyses)
    except ChessteachError as exc:
        fail(str(exc))
    finally:
        if model is not None:
            model.close()
    check = check_explanation(explanation, shown, lines=example_lines(shown, analyses))
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(explanation_markdown(explanation, shown, analyses=analyses), encoding="utf-8")
    else:
        typer.echo(explanation.text)
    where = f" -> {output}" if output is not None else ""
    on = f"puzzle {shown[0].id}" if len(shown) == 1 else f"puzzles {', '.join(p.id for p in shown)}"
    typer.echo(f"{concept_id} on {on} by {explanation.teacher}{where}")
    if not explanation.complete:
        typer.echo(f"format incomplete: missing {', '.join(explanation.missing_sections)}")
    typer.echo(f"fact-check: {check.summary()}")
    for claim in check.false_claims:
        typer.echo(f"  false: {claim.text} ({claim.reason})")
