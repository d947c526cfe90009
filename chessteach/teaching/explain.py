"""Explanations of concepts: an example puzzle, its checked facts, and four sections of text.

:func:`pick_example` chooses the puzzle that illustrates a concept, :func:`example_facts` collects the
facts the concept's detectors find along its solution line (each checked on the board it describes), and
:func:`explain_concept` writes the :class:`Explanation`: with no teacher, the grounded template explainer
fills the four sections (see :mod:`chessteach.teaching.sections`) from the catalog entry, the facts and the
solution line; with a teacher model, the prompt is rendered from the Jinja2 files in
``chessteach/teaching/teacher_prompts/`` and the model's answer is parsed into the sections.
:func:`explanation_markdown` renders an explanation with its board (inline SVG) and its fact-check.

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
from collections.abc import Iterable, Sequence
from functools import cache, lru_cache

import chess
import chess.svg
import jinja2

from chessteach.concepts.catalog import POSITIONAL, Concept, get_concept
from chessteach.concepts.facts import Fact, check_fact
from chessteach.concepts.notation import board_move_number, numbered_line
from chessteach.concepts.registry import detector, verified_positional_facts
from chessteach.concepts.tactics import describe
from chessteach.errors import ChessteachError
from chessteach.llm.base import GenerationConfig, LanguageModel, Message
from chessteach.puzzles.puzzle import Puzzle
from chessteach.puzzles.tag import puzzle_line, tag_puzzle
from chessteach.teaching.factcheck import FactCheck, check_explanation
from chessteach.teaching.sections import (
    COMMON_MISTAKES,
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


class NoExampleError(ChessteachError, LookupError):
    """No puzzle of a collection illustrates a concept (the message names the concept)."""


# ------------------------------------------------------------------ examples


@lru_cache(maxsize=16384)
def _computed_themes(fen: str, moves: tuple[str, ...], setup: bool) -> frozenset[str]:
    """The computed themes of a puzzle, remembered by its position and line (examples are picked often)."""
    puzzle = Puzzle(id="", fen=fen, moves=[chess.Move.from_uci(m) for m in moves], setup=setup)
    return frozenset(tag_puzzle(puzzle))


def _shows(puzzle: Puzzle, concept: Concept) -> tuple[bool, bool]:
    """(listed, computed): whether the puzzle's own themes list the concept, and whether the board shows it
    (the computed themes, or for a positional concept its detector on the solver's position)."""
    listed = concept.id in puzzle.themes
    try:
        if concept.family == POSITIONAL:
            computed = bool(verified_positional_facts(puzzle.position(), [concept.id]))
        else:
            computed = concept.id in _computed_themes(puzzle.fen, tuple(m.uci() for m in puzzle.moves), puzzle.setup)
    except (ValueError, AssertionError, IndexError) as exc:
        logger.warning("cannot tag puzzle %s: %s", puzzle.id, exc)
        computed = False
    return listed, computed


def pick_example(concept_id: str, puzzles: Iterable[Puzzle]) -> Puzzle:
    """The puzzle that best illustrates a concept, deterministically.

    Candidates are the puzzles whose own themes list the concept or whose computed themes
    (:func:`~chessteach.puzzles.tag.tag_puzzle`, or the positional detector on the solver's position)
    include it. Preferred: both agree, then the shortest solution, then the lowest rating, then the id.
    Raises :class:`~chessteach.concepts.catalog.UnknownConceptError` for an unknown id and
    :class:`NoExampleError` when no puzzle shows the concept.

    >>> from chessteach.puzzles import Puzzle
    >>> mate = Puzzle.from_solution("6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1", ["a1a8"], id="m1")
    >>> pick_example("backRankMate", [mate]).id
    'm1'
    """
    concept = get_concept(concept_id)
    ranked: list[tuple[tuple[int, int, int, str], Puzzle]] = []
    count = 0
    for puzzle in puzzles:
        count += 1
        listed, computed = _shows(puzzle, concept)
        if listed or computed:
            key = (0 if listed and computed else 1, len(puzzle.moves), puzzle.rating or 0, puzzle.id)
            ranked.append((key, puzzle))
    if not ranked:
        raise NoExampleError(
            f"no example of concept {concept.id!r} ({concept.name}) among {count} puzzles: none lists it in its"
            " themes or shows it on the board"
        )
    ranked.sort(key=lambda item: item[0])
    best = ranked[0][1]
    logger.debug("example of %s: puzzle %s (%d candidates)", concept.id, best.id, len(ranked))
    return best


# ------------------------------------------------------------------ facts


def example_facts(puzzle: Puzzle, concept_id: str) -> list[Fact]:
    """The facts of the concept's detectors along the puzzle's solution line, each checked with
    :func:`~chessteach.concepts.facts.check_fact` on the board it describes (its ``position``).

    Line motifs (fork, pin, skewer, double and discovered check, trapped and hanging pieces, f2/f7) come
    from :mod:`chessteach.concepts.motifs` on the board where they occur; mates give the checkmate and its
    named pattern on the final board; positional concepts their detector on the solver's position, then the
    facts the solver's first move brings about (those after it that did not hold before). Concepts
    that are yes/no statements about the sequence (sacrifice, deflection, ...) or about the game (length,
    phase, evaluation) have no board facts: the list is empty. A fact its checker rejects is logged and left
    out.

    >>> from chessteach.puzzles import Puzzle
    >>> puzzle = Puzzle.from_solution("6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1", ["a1a8"])
    >>> [f.kind for f in example_facts(puzzle, "mateIn1")]
    ['checkmate', 'mate_pattern']
    """
    concept = get_concept(concept_id)
    facts = []
    for fact in detector(concept.id).line_facts(puzzle_line(puzzle)):
        fen = fact.position
        if fen is None or not check_fact(chess.Board(fen), fact):
            logger.warning("dropping a %s fact of puzzle %s its checker rejects: %s", fact.kind, puzzle.id, fact.text)
            continue
        facts.append(fact)
    return facts


# ------------------------------------------------------------------ the line in words


def _side(color: chess.Color) -> str:
    return "White" if color == chess.WHITE else "Black"


def _narrate(board: chess.Board, move: chess.Move) -> str:
    """One move in words that the fact-checker can verify: ``24... Qxc1#: the black queen on b1 takes the white
    knight on c1.``"""
    san = board.san(move)
    piece = board.piece_at(move.from_square)
    assert piece is not None
    mover = describe(piece, move.from_square)
    target = chess.square_name(move.to_square)
    if board.is_castling(move):
        action = f"{mover} castles {'kingside' if board.is_kingside_castling(move) else 'queenside'}"
    elif board.is_en_passant(move):
        action = f"{mover} captures en passant"
    elif board.is_capture(move):
        action = f"{mover} takes {describe(board.piece_at(move.to_square), move.to_square)}"  # type: ignore[arg-type]
    else:
        action = f"{mover} moves to {target}"
    if move.promotion:
        action += f" and promotes to a {chess.piece_name(move.promotion)}"
    if san.endswith("#"):
        action += ", giving checkmate"
    elif san.endswith("+"):
        action += ", giving check"
    return f"{board_move_number(board)} {san}: {action}."


def _fact_sentences(puzzle: Puzzle, facts: Sequence[Fact]) -> list[str]:
    """Each fact, introduced by the move after which it holds."""
    line = puzzle_line(puzzle)
    after: dict[str, str] = {}
    for ply in range(line.plies):
        after.setdefault(
            line.after(ply).fen(),
            f"After {board_move_number(line.before(ply))} {line.before(ply).san(line.moves[ply])}",
        )
    start_fen = line.start.fen()
    sentences = []
    for fact in facts:
        fen = fact.position or ""
        intro = "In the puzzle position" if fen == start_fen else after.get(fen, "In the line")
        sentences.append(f"{intro}, {_lower_first(fact.text)}")
    return sentences


def _lower_first(text: str) -> str:
    """The text with its first letter in lower case, to follow a comma; a side's name stays capitalised."""
    if re.match(r"(?:White|Black)\b", text):
        return text
    return text[:1].lower() + text[1:]


def _worked_example(concept: Concept, puzzle: Puzzle, facts: Sequence[Fact]) -> str:
    start = puzzle.position()
    side = _side(start.turn)
    paragraphs: list[str] = []
    if puzzle.setup:
        before = chess.Board(puzzle.fen)
        intro = (
            f"{_side(before.turn)} has just played {board_move_number(before)} {before.san(puzzle.moves[0])}, reaching the"
            f" position `{start.fen()}`, and {side} is to move."
        )
    else:
        intro = f"In the position `{start.fen()}`, {side} is to move."
    solution = numbered_line(start, puzzle.moves[puzzle.setup_moves :])
    paragraphs.append(f"{intro} The solution is {solution}.")
    paragraphs.append("\n".join(f"- {_narrate(board, move)}" for board, move in puzzle.boards()))
    sentences = _fact_sentences(puzzle, facts)
    if sentences:
        if concept.family == POSITIONAL:
            lead = f"{concept.name} in this position: "
        else:
            lead = f"Why this is {_article(concept.name)} {concept.name.lower()}: "
        paragraphs.append(lead + " ".join(sentences))
    final = puzzle.final_board()
    if final.is_checkmate():
        paragraphs.append(f"The line ends in checkmate: {_side(final.turn)} has no legal move.")
    return "\n\n".join(paragraphs)


def _article(name: str) -> str:
    return "an" if name[:1].lower() in "aeiou" else "a"


def _template_sections(concept: Concept, puzzle: Puzzle, facts: Sequence[Fact]) -> dict[str, str]:
    return {
        WHAT_IT_IS: concept.definition,
        HOW_TO_SPOT: concept.how_to_spot
        or "Check the forcing moves first (checks, captures, threats) and compare the position with the definition.",
        WORKED_EXAMPLE: _worked_example(concept, puzzle, facts),
        COMMON_MISTAKES: concept.common_mistakes
        or "Playing the first forcing move that comes to mind without checking the opponent's best reply.",
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
    example: Puzzle,
    facts: Sequence[Fact] | None = None,
    *,
    templates: tuple[str, str] = (SYSTEM_PROMPT, USER_PROMPT),
) -> list[Message]:
    """The chat a teacher model is given: the system prompt and the user prompt, rendered from
    :data:`SYSTEM_PROMPT` and :data:`USER_PROMPT` (or other ``(system, user)`` templates, such as
    :data:`COMPACT_PROMPTS`).

    >>> from chessteach.puzzles import Puzzle
    >>> puzzle = Puzzle.from_solution("6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1", ["a1a8"])
    >>> [m["role"] for m in teacher_prompt("backRankMate", puzzle)]
    ['system', 'user']
    """
    concept = get_concept(concept_id)
    facts = example_facts(example, concept_id) if facts is None else list(facts)
    start = example.position()
    context = {
        "concept": concept,
        "sections": SECTIONS,
        "fen": start.fen(),
        "side_to_move": _side(start.turn),
        "setup": (
            f"{board_move_number(chess.Board(example.fen))} {chess.Board(example.fen).san(example.moves[0])}"
            if example.setup
            else None
        ),
        "solution": numbered_line(start, example.moves[example.setup_moves :]),
        "facts": _fact_sentences(example, facts),
        "board": str(start),
    }
    system, user = templates
    return [
        {"role": "system", "content": prompt_template(system).render(**context).strip()},
        {"role": "user", "content": prompt_template(user).render(**context).strip()},
    ]


_THINKING = re.compile(r"<think>.*?(?:</think>|$)", re.DOTALL)


def parse_teacher_answer(text: str) -> tuple[str, dict[str, str], tuple[str, ...]]:
    """A teacher's answer as (text without its thinking, sections, missing sections)."""
    answer = _THINKING.sub("", text).strip()
    sections = parse_sections(answer)
    return answer, sections, missing_sections(sections)


# ------------------------------------------------------------------ explaining


def explain_concept(
    concept_id: str,
    example: Puzzle,
    *,
    teacher: LanguageModel | None = None,
    facts: Sequence[Fact] | None = None,
    config: GenerationConfig | None = None,
) -> Explanation:
    """Explain a concept with an example puzzle.

    With no ``teacher`` the grounded template explainer writes it: the catalog's definition, how to spot it
    and common mistakes, and a worked example made of the solution line (SAN with move numbers), each move
    in words, and the example's facts. With a teacher, the teacher writes it from :func:`teacher_prompt`;
    its sections are parsed, and any it lacks are empty and listed in
    :attr:`Explanation.missing_sections`. ``facts`` defaults to :func:`example_facts`.

    >>> from chessteach.puzzles import Puzzle
    >>> puzzle = Puzzle.from_solution("6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1", ["a1a8"])
    >>> explanation = explain_concept("mateIn1", puzzle)
    >>> explanation.teacher, explanation.complete
    ('template', True)
    >>> "1. Ra8#" in explanation.sections["Worked example"]
    True
    """
    concept = get_concept(concept_id)
    facts = example_facts(example, concept_id) if facts is None else list(facts)
    if teacher is None:
        sections = _template_sections(concept, example, facts)
        return Explanation(concept.id, render_sections(sections), sections, facts, example.id, TEMPLATE_TEACHER)
    prompt = teacher_prompt(concept.id, example, facts)
    (answer,) = teacher.generate([prompt], config or TEACHER_CONFIG)
    text, sections, missing = parse_teacher_answer(answer)
    if missing:
        logger.warning("%s's explanation of %s lacks section(s): %s", teacher.spec, concept.id, ", ".join(missing))
    return Explanation(concept.id, text, sections, facts, example.id, teacher.spec, missing, prompt)


# ------------------------------------------------------------------ Markdown


def board_svg(example: Puzzle, *, size: int = BOARD_SIZE) -> str:
    """The solver's position as SVG, from the solver's side, with the setup move marked and an arrow for the
    first solution move."""
    board = example.position()
    first = example.solver_moves[0]
    return chess.svg.board(
        board,
        orientation=board.turn,
        lastmove=board.peek() if board.move_stack else None,
        arrows=[chess.svg.Arrow(first.from_square, first.to_square, color="#15781B80")],
        size=size,
    )


def explanation_markdown(explanation: Explanation, example: Puzzle) -> str:
    """The explanation as a Markdown page: title, the board (inline SVG, arrow on the first solution move),
    the four sections, and the fact-check summary with every false claim.

    >>> from chessteach.puzzles import Puzzle
    >>> puzzle = Puzzle.from_solution("6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1", ["a1a8"])
    >>> page = explanation_markdown(explain_concept("mateIn1", puzzle), puzzle)
    >>> "<svg" in page and "## Fact-check" in page
    True
    """
    concept = get_concept(explanation.concept)
    check = check_explanation(explanation, example)
    start = example.position()
    parts = [
        f"# {concept.name}",
        f"*Concept `{concept.id}`, example puzzle `{example.id}`, written by `{explanation.teacher}`.*",
        f'<div class="board">\n{board_svg(example)}\n</div>',
        f"{_side(start.turn)} to move; the green arrow is the first move of the solution.",
    ]
    if explanation.complete:
        parts.append(render_sections(explanation.sections).strip())
    else:
        parts.append(
            f"> The teacher's answer lacks section(s): {', '.join(explanation.missing_sections)}."
            " Its text follows as written."
        )
        parts.append(explanation.text.strip() or "*(empty)*")
    parts.append(_factcheck_markdown(check))
    return "\n\n".join(parts) + "\n"


def _factcheck_markdown(check: FactCheck) -> str:
    lines = ["## Fact-check", "", f"{check.summary()}, against the example's position and solution line."]
    if check.false_claims:
        lines += ["", "| claim | sentence | why it is false |", "|---|---|---|"]
        lines += [f"| {_cell(c.text)} | {_cell(c.sentence)} | {_cell(c.reason)} |" for c in check.false_claims]
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


__all__ = [
    "BOARD_SIZE",
    "COMPACT_PROMPTS",
    "SYSTEM_PROMPT",
    "TEACHER_CONFIG",
    "TEMPLATE_TEACHER",
    "USER_PROMPT",
    "NoExampleError",
    "board_svg",
    "example_facts",
    "explain_concept",
    "explanation_markdown",
    "parse_teacher_answer",
    "pick_example",
    "prompt_template",
    "teacher_prompt",
]
