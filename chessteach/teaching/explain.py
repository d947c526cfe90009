"""Explanations of concepts: examples from real games, their checked facts, and four sections of text.

:func:`pick_example` / :func:`pick_examples` choose the puzzles that illustrate a concept and
:func:`example_facts` collects the facts the concept's detectors find along a solution line (both in
:mod:`chessteach.teaching.examples`, with the examples' sources and their words). :func:`explain_concept`
writes the :class:`Explanation` of one example or several: with no teacher, the grounded template explainer
fills the four sections (see :mod:`chessteach.teaching.sections`): the catalog's text, then what the
examples share ("in 2 of 3 examples ..."), and one worked example each (``### Example N`` under "Worked
example" when there are several); with a teacher model, the prompt is rendered from the Jinja2 files in
``chessteach/teaching/teacher_prompts/`` with every example's facts, and the model's answer is parsed into
the sections. :func:`explanation_markdown` renders an explanation with its boards (inline SVG) and its
fact-check.

>>> from chessteach.puzzles import Puzzle
>>> puzzle = Puzzle.from_solution("6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1", ["a1a8"], themes=["backRankMate"])
>>> explanation = explain_concept("backRankMate", puzzle)
>>> list(explanation.sections)
['What it is', 'How to spot it', 'Worked example', 'Common mistakes']
>>> explanation.facts[0].text
'The black king on g8 is checkmated by the white rook on a8.'
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from functools import cache

import chess
import chess.svg
import jinja2

from chessteach.concepts.catalog import Concept, get_concept
from chessteach.concepts.facts import Fact
from chessteach.concepts.notation import board_move_number, numbered_line
from chessteach.engine.analysis import Analysis
from chessteach.exercises.show import exercise_svg
from chessteach.llm.base import GenerationConfig, LanguageModel, Message
from chessteach.puzzles.puzzle import Puzzle
from chessteach.teaching.examples import (
    DEFAULT_EXAMPLES,
    Example,
    NoExampleError,
    engine_line,
    engine_sentences,
    example_facts,
    fact_sentences,
    gather_example,
    pick_example,
    pick_examples,
    shared_sentences,
    side,
    worked_example,
)
from chessteach.teaching.factcheck import ExampleLine, FactCheck, check_explanation
from chessteach.teaching.prompts import is_exercise
from chessteach.teaching.sections import (
    COMMON_MISTAKES,
    EXAMPLE_MARK,
    HOW_TO_SPOT,
    SECTIONS,
    WHAT_IT_IS,
    WORKED_EXAMPLE,
    Explanation,
    missing_sections,
    parse_sections,
    render_sections,
)

logger = logging.getLogger(__name__)

TEMPLATE_TEACHER = "template"
"""The :attr:`Explanation.teacher` of the grounded template explainer."""

TEACHER_CONFIG = GenerationConfig(max_new_tokens=768, temperature=0.0)
"""How a teacher model writes an explanation unless told otherwise (greedy, room for four sections)."""

SYSTEM_PROMPT = "teacher_system.md.j2"
USER_PROMPT = "teacher_user.md.j2"
"""The teacher's prompt templates, in ``chessteach/teaching/teacher_prompts/``."""

COMPACT_PROMPTS = ("teacher_system_compact.md.j2", "teacher_user_compact.md.j2")
"""The compact teacher prompt's (system, user) templates: a short system prompt, no board diagram, no club
player's or known-mistakes line (GRPO on small teachers on the CPU, :mod:`chessteach.rl.tasks`)."""

BOARD_SIZE = 360
"""Width of the SVG board in :func:`explanation_markdown`, in pixels."""


# ------------------------------------------------------------------ the template's sections


def _examples(
    concept_id: str,
    example: Puzzle | Sequence[Puzzle],
    facts: Sequence[Fact] | None,
    analyses: Mapping[str, Analysis] | None = None,
) -> list[Example]:
    """The examples, gathered (``facts``, when given, are the first example's; ``analyses`` the engine's
    searches of exercise positions, by puzzle id)."""
    puzzles = [example] if isinstance(example, Puzzle) else list(example)
    if not puzzles:
        raise ValueError("an explanation needs at least one example")
    found = analyses or {}
    return [
        gather_example(concept_id, p, facts if i == 0 else None, analysis=found.get(p.id))
        for i, p in enumerate(puzzles)
    ]


def example_lines(examples: Sequence[Puzzle], analyses: Mapping[str, Analysis] | None = None) -> list[ExampleLine]:
    """The lines the fact-checker decides claims on, one per example: its solution, and for an exercise the
    engine's line on from its best move (:func:`~chessteach.teaching.examples.engine_line`, from ``analyses``
    by puzzle id), so that what the worked example says of the engine's moves is checked on their positions."""
    found = analyses or {}
    return [ExampleLine.from_puzzle(p, engine_line(p, found.get(p.id))[len(p.moves) :]) for p in examples]


def example_heading(number: int, example: Puzzle) -> str:
    """The heading of one of several worked examples: ``### Example 2: puzzle 08CSo`` (see
    :func:`~chessteach.teaching.sections.example_spans`)."""
    return f"{EXAMPLE_MARK} {number}: puzzle {example.id}"


def _template_sections(concept: Concept, examples: Sequence[Example]) -> dict[str, str]:
    shared = shared_sentences(examples)

    def lead_and(fixed: str, derived: list[str]) -> str:
        return "\n\n".join(part for part in (fixed, " ".join(derived)) if part)

    if len(examples) == 1:
        worked = worked_example(examples[0])
    else:
        worked = "\n\n".join(
            f"{example_heading(i, e.puzzle)}\n\n{worked_example(e)}" for i, e in enumerate(examples, 1)
        )
    return {
        WHAT_IT_IS: lead_and(concept.definition, shared[WHAT_IT_IS]),
        HOW_TO_SPOT: lead_and(
            concept.how_to_spot
            or "Check the forcing moves first (checks, captures, threats) and compare the position with the definition.",
            shared[HOW_TO_SPOT],
        ),
        WORKED_EXAMPLE: worked,
        COMMON_MISTAKES: lead_and(
            concept.common_mistakes
            or "Playing the first forcing move that comes to mind without checking the opponent's best reply.",
            shared[COMMON_MISTAKES],
        ),
    }


# ------------------------------------------------------------------ the teacher's prompt


@cache
def _prompt_environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("chessteach.teaching", "teacher_prompts"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


def prompt_template(name: str) -> jinja2.Template:
    """A prompt template from ``chessteach/teaching/teacher_prompts/`` (``jinja2.TemplateNotFound`` if missing)."""
    return _prompt_environment().get_template(name)


def teacher_prompt(
    concept_id: str,
    example: Puzzle | Sequence[Puzzle],
    facts: Sequence[Fact] | None = None,
    *,
    templates: tuple[str, str] = (SYSTEM_PROMPT, USER_PROMPT),
    analyses: Mapping[str, Analysis] | None = None,
) -> list[Message]:
    """The chat a teacher model is given: the system prompt and the user prompt, rendered from
    :data:`SYSTEM_PROMPT` and :data:`USER_PROMPT` (or other ``(system, user)`` templates, such as
    :data:`COMPACT_PROMPTS`). With several examples, the first is the worked example and the others are
    listed (``more_examples``: source, position, solution and checked facts each) with what they share
    (``shared``); ``facts`` are the first example's. An exercise searched in ``analyses`` (by puzzle id) has the
    engine's line among its facts (:func:`~chessteach.teaching.examples.engine_sentences`).

    >>> from chessteach.puzzles import Puzzle
    >>> puzzle = Puzzle.from_solution("6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1", ["a1a8"])
    >>> [m["role"] for m in teacher_prompt("backRankMate", puzzle)]
    ['system', 'user']
    """
    concept = get_concept(concept_id)
    examples = _examples(concept.id, example, facts, analyses)
    first = examples[0]
    example = first.puzzle
    facts = list(first.facts) if facts is not None else _with_brought(first)  # given facts are used as given
    start = example.position()
    shared = shared_sentences(examples) if len(examples) > 1 else {}
    context = {
        "concept": concept,
        "sections": SECTIONS,
        "fen": start.fen(),
        "side_to_move": side(start.turn),
        "setup": (
            f"{board_move_number(chess.Board(example.fen))} {chess.Board(example.fen).san(example.moves[0])}"
            if example.setup
            else None
        ),
        "solution": numbered_line(start, example.moves[example.setup_moves :]),
        "facts": [*fact_sentences(example, facts), *engine_sentences(first)],
        "board": str(start),
        "more_examples": [_prompt_example(e) for e in examples[1:]],
        "shared": [sentence for sentences in shared.values() for sentence in sentences],
    }
    system, user = templates
    return [
        {"role": "system", "content": prompt_template(system).render(**context).strip()},
        {"role": "user", "content": prompt_template(user).render(**context).strip()},
    ]


def _with_brought(example: Example) -> list[Fact]:
    """The example's facts along the line, then those its best move brings that they do not already state."""
    stated = {f.text for f in example.facts}
    return [*example.facts, *(f for f in example.brought if f.text not in stated)]


def _prompt_example(example: Example) -> dict[str, object]:
    start = example.puzzle.position()
    return {
        "source": example.source or f"puzzle {example.puzzle.id}",
        "fen": start.fen(),
        "side_to_move": side(start.turn),
        "solution": numbered_line(start, example.puzzle.moves[example.puzzle.setup_moves :]),
        "facts": [*fact_sentences(example.puzzle, _with_brought(example)), *engine_sentences(example)],
    }


_THINKING = re.compile(r"<think>.*?(?:</think>|$)", re.DOTALL)


def parse_teacher_answer(text: str) -> tuple[str, dict[str, str], tuple[str, ...]]:
    """A teacher's answer as (text without its thinking, sections, missing sections)."""
    answer = _THINKING.sub("", text).strip()
    sections = parse_sections(answer)
    return answer, sections, missing_sections(sections)


# ------------------------------------------------------------------ explaining


def explain_concept(
    concept_id: str,
    example: Puzzle | Sequence[Puzzle],
    *,
    teacher: LanguageModel | None = None,
    facts: Sequence[Fact] | None = None,
    config: GenerationConfig | None = None,
    analyses: Mapping[str, Analysis] | None = None,
) -> Explanation:
    """Explain a concept with one example puzzle or several (:func:`pick_examples`).

    With no ``teacher`` the grounded template explainer writes it: the catalog's definition, how to spot it
    and common mistakes, each followed by what the examples share (:func:`~chessteach.teaching.examples.
    shared_sentences`), and a worked example per example: its source, the solution line (SAN with move
    numbers), each move in words, the example's facts, and for an exercise its best move, what it brings and
    why the distractors are worse. With a teacher, the teacher writes it from :func:`teacher_prompt`; its
    sections are parsed, and any it lacks are empty and listed in :attr:`Explanation.missing_sections`.
    ``facts`` (the first example's) default to :func:`example_facts`; :attr:`Explanation.facts` holds every
    example's facts, and what an exercise's best move brings. ``analyses`` are the engine's searches of
    exercise positions, by puzzle id (the caller runs the engine): a worked exercise then shows the engine's
    line from its best move on, or says that the engine now prefers another move; check such an explanation
    on :func:`example_lines` of the same analyses.

    >>> from chessteach.puzzles import Puzzle
    >>> puzzle = Puzzle.from_solution("6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1", ["a1a8"])
    >>> explanation = explain_concept("mateIn1", puzzle)
    >>> explanation.teacher, explanation.complete
    ('template', True)
    >>> "1. Ra8#" in explanation.sections["Worked example"]
    True
    """
    concept = get_concept(concept_id)
    examples = _examples(concept.id, example, facts, analyses)
    all_facts = [f for e in examples for f in _with_brought(e)]
    ids = tuple(e.puzzle.id for e in examples)
    if teacher is None:
        sections = _template_sections(concept, examples)
        text = render_sections(sections)
        return Explanation(concept.id, text, sections, all_facts, ids[0], TEMPLATE_TEACHER, example_ids=ids)
    prompt = teacher_prompt(concept.id, [e.puzzle for e in examples], facts, analyses=analyses)
    (answer,) = teacher.generate([prompt], config or TEACHER_CONFIG)
    text, sections, missing = parse_teacher_answer(answer)
    if missing:
        logger.warning("%s's explanation of %s lacks section(s): %s", teacher.spec, concept.id, ", ".join(missing))
    return Explanation(concept.id, text, sections, all_facts, ids[0], teacher.spec, missing, prompt, example_ids=ids)


# ------------------------------------------------------------------ Markdown


def board_svg(example: Puzzle, *, size: int = BOARD_SIZE) -> str:
    """The solver's position as SVG, from the solver's side, with the setup move marked and an arrow for the
    first solution move (for an exercise, red arrows for its distractors too)."""
    if is_exercise(example) and not example.setup:
        try:
            return exercise_svg(example, size=size)
        except ValueError as exc:  # a malformed Distractors column: the board without its red arrows
            logger.warning("exercise %s: %s", example.id, exc)
    board = example.position()
    first = example.solver_moves[0]
    return chess.svg.board(
        board,
        orientation=board.turn,
        lastmove=board.peek() if board.move_stack else None,
        arrows=[chess.svg.Arrow(first.from_square, first.to_square, color="#15781B80")],
        size=size,
    )


def _board_block(example: Puzzle) -> str:
    start = example.position()
    arrows = (
        "the green arrow is the best move, the red ones the distractors"
        if is_exercise(example) and not example.setup
        else "the green arrow is the first move of the solution"
    )
    return f'<div class="board">\n{board_svg(example)}\n</div>\n\n{side(start.turn)} to move; {arrows}.'


def explanation_markdown(
    explanation: Explanation,
    example: Puzzle | Sequence[Puzzle],
    *,
    analyses: Mapping[str, Analysis] | None = None,
) -> str:
    """The explanation as a Markdown page: title, the boards (inline SVG, arrow on the first solution move),
    the four sections, and the fact-check summary with every false claim (on :func:`example_lines` of
    ``analyses``, those the explanation was written with). With several examples each board stands under its
    ``### Example N`` heading (or, in a teacher's text without them, above the sections).

    >>> from chessteach.puzzles import Puzzle
    >>> puzzle = Puzzle.from_solution("6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1", ["a1a8"])
    >>> page = explanation_markdown(explain_concept("mateIn1", puzzle), puzzle)
    >>> "<svg" in page and "## Fact-check" in page
    True
    """
    examples = [example] if isinstance(example, Puzzle) else list(example)
    concept = get_concept(explanation.concept)
    check = check_explanation(explanation, examples, lines=example_lines(examples, analyses))
    ids = ", ".join(f"`{p.id}`" for p in examples)
    parts = [
        f"# {concept.name}",
        f"*Concept `{concept.id}`, example puzzle{'s' if len(examples) > 1 else ''} {ids}, written by"
        f" `{explanation.teacher}`.*",
    ]
    body = render_sections(explanation.sections).strip() if explanation.complete else explanation.text.strip()
    headings = [example_heading(i, p) for i, p in enumerate(examples, 1)]
    if len(examples) > 1 and explanation.complete and all(h in body for h in headings):
        for heading, puzzle in zip(headings, examples, strict=True):
            body = body.replace(heading, f"{heading}\n\n{_board_block(puzzle)}", 1)
    else:
        parts += [_board_block(p) for p in examples]
    if not explanation.complete:
        parts.append(
            f"> The teacher's answer lacks section(s): {', '.join(explanation.missing_sections)}."
            " Its text follows as written."
        )
    parts.append(body or "*(empty)*")
    parts.append(_factcheck_markdown(check, several=len(examples) > 1))
    return "\n\n".join(parts) + "\n"


def _factcheck_markdown(check: FactCheck, *, several: bool = False) -> str:
    against = "the examples' positions and solution lines" if several else "the example's position and solution line"
    lines = ["## Fact-check", "", f"{check.summary()}, against {against}."]
    if check.false_claims:
        lines += ["", "| claim | sentence | why it is false |", "|---|---|---|"]
        lines += [f"| {_cell(c.text)} | {_cell(c.sentence)} | {_cell(c.reason)} |" for c in check.false_claims]
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


__all__ = [
    "BOARD_SIZE",
    "COMPACT_PROMPTS",
    "DEFAULT_EXAMPLES",
    "SYSTEM_PROMPT",
    "TEACHER_CONFIG",
    "TEMPLATE_TEACHER",
    "USER_PROMPT",
    "NoExampleError",
    "board_svg",
    "example_facts",
    "example_heading",
    "example_lines",
    "explain_concept",
    "explanation_markdown",
    "parse_teacher_answer",
    "pick_example",
    "pick_examples",
    "prompt_template",
    "teacher_prompt",
]
