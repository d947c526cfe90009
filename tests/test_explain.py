"""Explanations of concepts: examples, facts, the template explainer, the teacher's prompt and parse, Markdown, CLI."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import chess
import jinja2
import pytest
from typer.testing import CliRunner

from chessteach.cli import app
from chessteach.concepts import UnknownConceptError, check_fact
from chessteach.concepts.catalog import concepts, get_concept
from chessteach.concepts.notation import numbered_line
from chessteach.concepts.registry import DETECTORS
from chessteach.llm.base import GenerationConfig, Prompt
from chessteach.puzzles import Puzzle, read_puzzles, tag_puzzle
from chessteach.teaching import TemplateExplainer
from chessteach.teaching.explain import (
    SYSTEM_PROMPT,
    USER_PROMPT,
    NoExampleError,
    example_facts,
    explain_concept,
    explanation_markdown,
    pick_example,
    prompt_template,
    teacher_prompt,
)
from chessteach.teaching.factcheck import UNCHECKABLE, check_explanation
from chessteach.teaching.sections import GENERAL_SECTIONS, SECTIONS, Explanation, missing_sections, parse_sections

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "puzzles" / "lichess-sample.csv"
TACTICAL = ("mate", "motif", "move")
"""The Lichess tactical families of the catalog (subfamilies of the theme family)."""


@pytest.fixture(scope="module")
def sample() -> list[Puzzle]:
    return read_puzzles(SAMPLE).puzzles


@pytest.fixture(scope="module")
def fork_example(sample: list[Puzzle]) -> Puzzle:
    return pick_example("fork", sample)


class ScriptedTeacher:
    """A stand-in teacher model that answers every prompt with a fixed text and records what it was asked."""

    def __init__(self, answer: str, spec: str = "scripted:teacher"):
        self.answer = answer
        self.spec = spec
        self.prompts: list[Prompt] = []

    def generate(self, prompts: Sequence[Prompt], config: GenerationConfig | None = None) -> list[str]:
        self.prompts += list(prompts)
        return [self.answer for _ in prompts]

    def score(self, prompts: Sequence[Prompt], continuations: Sequence[str]) -> list[float]:
        return [0.0 for _ in prompts]

    def close(self) -> None:
        pass


# ------------------------------------------------------------------ examples and facts


def test_pick_example_is_deterministic_and_shows_the_concept(sample: list[Puzzle]) -> None:
    example = pick_example("fork", sample)
    assert example.id == pick_example("fork", list(reversed(sample))).id
    assert "fork" in example.themes and "fork" in tag_puzzle(example)


def test_pick_example_uses_computed_themes_when_the_puzzle_lacks_the_tag(sample: list[Puzzle]) -> None:
    fork = pick_example("fork", sample)
    untagged = Puzzle(id=fork.id, fen=fork.fen, moves=list(fork.moves), themes=[])
    assert pick_example("fork", [untagged]).id == fork.id


def test_pick_example_errors_name_the_concept(sample: list[Puzzle]) -> None:
    with pytest.raises(NoExampleError, match="'superGM'"):
        pick_example("superGM", sample)
    with pytest.raises(UnknownConceptError, match="did you mean: fork"):
        pick_example("forks", sample)


def test_pick_example_for_a_positional_concept(sample: list[Puzzle]) -> None:
    example = pick_example("isolatedPawn", sample)
    facts = example_facts(example, "isolatedPawn")
    assert facts and facts[0].kind == "isolated_pawn"  # the pawn itself first, then the pieces against it
    assert {f.kind for f in facts} <= set(DETECTORS["isolatedPawn"].kinds)
    assert all(check_fact(chess.Board(f.position), f) for f in facts)


def test_fork_fact_is_checked_on_the_board_after_the_forking_move(fork_example: Puzzle) -> None:
    facts = example_facts(fork_example, "fork")
    assert facts and facts[0].kind == "fork"
    board = chess.Board(facts[0].position)
    forker = facts[0].squares[0]
    assert board.piece_at(forker) is not None and check_fact(board, facts[0])
    # the board is the one after the solver's first move, which landed on the forking square
    assert forker == fork_example.solver_moves[0].to_square
    assert board.fen() == _after_first_move(fork_example).fen()


def _after_first_move(puzzle: Puzzle) -> chess.Board:
    board = puzzle.position()
    board.push(puzzle.solver_moves[0])
    return board


def test_mate_facts_are_on_the_final_board(sample: list[Puzzle]) -> None:
    example = pick_example("backRankMate", sample)
    facts = example_facts(example, "backRankMate")
    assert [f.kind for f in facts] == ["checkmate", "mate_pattern"]
    final = example.final_board()
    assert all(check_fact(final, f) for f in facts)


def test_sequence_concepts_have_no_board_facts(sample: list[Puzzle]) -> None:
    assert example_facts(pick_example("sacrifice", sample), "sacrifice") == []


# ------------------------------------------------------------------ the template explainer


def test_template_explanation_structure(fork_example: Puzzle) -> None:
    explanation = explain_concept("fork", fork_example)
    assert isinstance(explanation, Explanation)
    assert explanation.concept == "fork" and explanation.teacher == "template"
    assert explanation.example_id == fork_example.id and explanation.complete
    assert list(explanation.sections) == list(SECTIONS)
    assert all(explanation.sections[name].strip() for name in SECTIONS)
    assert [line[3:] for line in explanation.text.splitlines() if line.startswith("## ")] == list(SECTIONS)
    assert parse_sections(explanation.text) == explanation.sections
    concept = get_concept("fork")
    assert explanation.sections["What it is"] == concept.definition
    assert explanation.sections["Common mistakes"] == concept.common_mistakes
    solution = numbered_line(fork_example.position(), fork_example.solver_moves[:1])
    assert solution in explanation.sections["Worked example"]  # SAN with the move number
    assert explanation.facts == example_facts(fork_example, "fork")
    assert explanation.facts[0].text[1:] in explanation.sections["Worked example"]


def test_template_explainer_class_explains_concepts_too(fork_example: Puzzle) -> None:
    assert TemplateExplainer().explain_concept("fork", fork_example) == explain_concept("fork", fork_example)


def test_every_tactical_concept_with_an_example_gets_a_true_explanation(sample: list[Puzzle]) -> None:
    explained = []
    for concept in concepts("theme"):
        if concept.subfamily not in TACTICAL:
            continue
        try:
            example = pick_example(concept.id, sample)
        except NoExampleError:
            continue
        explanation = explain_concept(concept.id, example)
        check = check_explanation(explanation, example)
        assert check.false == 0, (concept.id, example.id, [(c.text, c.reason) for c in check.false_claims])
        assert check.verified > 0
        explained.append(concept.id)
    assert {"fork", "pin", "skewer", "mateIn1", "mateIn2", "backRankMate", "promotion"} <= set(explained)
    assert len(explained) >= 30


def test_template_is_true_on_150_puzzles_across_themes(lichess_csv: Path, caplog: pytest.LogCaptureFixture) -> None:
    puzzles = read_puzzles(lichess_csv).puzzles
    tactical = {c.id for c in concepts("theme") if c.subfamily in TACTICAL}
    by_theme: dict[str, list[Puzzle]] = {}
    for puzzle in puzzles:
        for theme in puzzle.themes:
            if theme in tactical:
                by_theme.setdefault(theme, []).append(puzzle)
    chosen: list[tuple[str, Puzzle]] = []
    round_ = 0
    while len(chosen) < 150:
        for theme in sorted(by_theme):
            if round_ < len(by_theme[theme]) and len(chosen) < 150:
                chosen.append((theme, by_theme[theme][round_]))
        round_ += 1
    verified = false = 0
    with caplog.at_level(logging.WARNING, logger="chessteach.teaching"):
        for theme, puzzle in chosen:
            check = check_explanation(explain_concept(theme, puzzle), puzzle)
            assert check.false == 0, (theme, puzzle.id, [(c.text, c.reason) for c in check.false_claims])
            verified, false = verified + check.verified, false + check.false
            # only the catalog's general words (a king "on h8" in a pattern's description) go unchecked
            assert all(c.section in GENERAL_SECTIONS for c in check.claims if c.status == UNCHECKABLE)
    assert len({theme for theme, _ in chosen}) >= 40
    assert verified > 20 * len(chosen) and false == 0
    assert not [r for r in caplog.records if "checker rejects" in r.message]


# ------------------------------------------------------------------ the teacher


def test_prompt_templates_load_from_files() -> None:
    prompts = ROOT / "chessteach" / "teaching" / "teacher_prompts"
    assert (prompts / SYSTEM_PROMPT).is_file() and (prompts / USER_PROMPT).is_file()
    assert prompt_template(USER_PROMPT).filename == str(prompts / USER_PROMPT)
    with pytest.raises(jinja2.TemplateNotFound):
        prompt_template("no-such-prompt.j2")


def test_teacher_prompt_gives_concept_position_line_and_facts(fork_example: Puzzle) -> None:
    system, user = teacher_prompt("fork", fork_example)
    assert system["role"] == "system" and user["role"] == "user"
    for name in SECTIONS:
        assert f"## {name}" in system["content"]
    assert "step by step" in system["content"] and "mistakes" in system["content"]
    content = user["content"]
    assert get_concept("fork").definition in content
    assert fork_example.position().fen() in content
    assert numbered_line(fork_example.position(), fork_example.solver_moves[:1]) in content
    for fact in example_facts(fork_example, "fork"):
        assert fact.text[1:] in content


WELL_FORMED = """Sure! Here is the lesson.

## What it is
A fork attacks two pieces at once.

**How to spot it:** look for knight checks that also hit a rook.

### 3. Worked example
{line} and the knight wins the rook.

Common mistakes:
Forking defended pieces.
"""


def test_teacher_answer_is_parsed_into_the_four_sections(fork_example: Puzzle) -> None:
    line = numbered_line(fork_example.position(), fork_example.moves[1:])
    teacher = ScriptedTeacher(WELL_FORMED.format(line=line))
    explanation = explain_concept("fork", fork_example, teacher=teacher)
    assert teacher.prompts == [teacher_prompt("fork", fork_example)]
    assert explanation.prompt == teacher.prompts[0]
    assert explanation.teacher == "scripted:teacher" and explanation.complete
    assert explanation.sections["How to spot it"] == "look for knight checks that also hit a rook."
    assert explanation.sections["Worked example"].startswith(line)
    assert explanation.sections["Common mistakes"] == "Forking defended pieces."
    assert check_explanation(explanation, fork_example).false == 0


@pytest.mark.parametrize(
    "answer",
    ["", "::::", "444444444444 Nf3 e4e5 ## What", "## What it is\nA fork.\n\nThen nothing else <think>", "\x00\ufffd"],
)
def test_gibberish_teacher_answer_is_incomplete_not_an_error(fork_example: Puzzle, answer: str) -> None:
    explanation = explain_concept("fork", fork_example, teacher=ScriptedTeacher(answer))
    assert not explanation.complete
    assert list(explanation.sections) == list(SECTIONS)
    assert explanation.missing_sections == missing_sections(explanation.sections)
    check = check_explanation(explanation, fork_example)
    assert check.total == check.verified + check.false + check.uncheckable
    page = explanation_markdown(explanation, fork_example)
    assert "lacks section(s)" in page and "## Fact-check" in page


def test_thinking_is_dropped_before_parsing(fork_example: Puzzle) -> None:
    answer = "<think>Let me think: Qh7# maybe.</think>\n" + WELL_FORMED.format(line="")
    explanation = explain_concept("fork", fork_example, teacher=ScriptedTeacher(answer))
    assert explanation.complete and "<think>" not in explanation.text


@pytest.mark.parametrize(
    "text",
    [
        "# What it is\na\n# How to spot it\nb\n# Worked example\nc\n# Common mistakes\nd",
        "**What it is**\na\n**How to spot it**\nb\n**Worked example**\nc\n**Common mistakes**\nd",
        "1. What it is: a\n2. How to spot it: b\n3. Worked example: c\n4. Common mistakes: d",
        "WHAT IT IS\na\nHOW TO SPOT IT\nb\nWORKED EXAMPLE\nc\nCOMMON MISTAKES\nd",
    ],
)
def test_section_headings_in_other_styles(text: str) -> None:
    assert parse_sections(text) == dict(zip(SECTIONS, "abcd", strict=True))


def test_a_sentence_starting_with_a_section_word_is_not_a_heading() -> None:
    sections = parse_sections("## Worked example\nExample positions are rare.\nMistakes happen here.")
    assert sections["Worked example"] == "Example positions are rare.\nMistakes happen here."


# ------------------------------------------------------------------ Markdown


def test_markdown_has_board_arrow_sections_and_fact_check(fork_example: Puzzle) -> None:
    page = explanation_markdown(explain_concept("fork", fork_example), fork_example)
    assert page.startswith("# Fork\n")
    assert page.count("<svg") == 1 and 'class="arrow"' in page
    for name in SECTIONS:
        assert f"## {name}\n" in page
    assert "## Fact-check" in page and "0 false" in page
    assert fork_example.position().fen() in page


# ------------------------------------------------------------------ the CLI


def test_cli_explain_fork_needs_no_model(tmp_path: Path) -> None:
    out = tmp_path / "fork.md"
    result = CliRunner().invoke(app, ["explain", "--concept", "fork", "-o", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text()
    assert "<svg" in page and "## Worked example" in page and "## Fact-check" in page
    assert "fact-check:" in result.output and " 0 false" in result.output


def test_cli_explain_prints_the_text_without_output_file() -> None:
    result = CliRunner().invoke(app, ["explain", "--concept", "backRankMate"])
    assert result.exit_code == 0, result.output
    assert "## Worked example" in result.output and "0 false" in result.output


def test_cli_explain_with_example_id_and_puzzles(tmp_path: Path, lichess_csv: Path) -> None:
    puzzle = next(p for p in read_puzzles(lichess_csv).puzzles if "pin" in p.themes)
    out = tmp_path / "pin.md"
    args = ["explain", "--concept", "pin", "--puzzles", str(lichess_csv), "--example", puzzle.id, "-o", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert f"`{puzzle.id}`" in out.read_text()


def test_cli_explain_with_fen_and_moves(tmp_path: Path) -> None:
    out = tmp_path / "mate.md"
    args = [
        "explain",
        "--concept",
        "backRankMate",
        "--fen",
        "6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1",
        "--moves",
        "a1a8",
        "-o",
        str(out),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "1. Ra8#" in out.read_text() and "0 false" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--concept", "forks"], "unknown concept 'forks'; did you mean: fork"),
        (["--concept", "superGM"], "no example of concept 'superGM'"),
        (["--concept", "fork", "--example", "nope"], "no puzzle 'nope'"),
        (["--concept", "fork", "--fen", "8/8/8/8/8/8/8/8 w - - 0 1", "--moves", "a1a2"], "--fen/--moves"),
        (["--concept", "fork", "--teacher", "nokind:x"], "unknown kind 'nokind'"),
    ],
)
def test_cli_explain_errors_are_one_line(args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["explain", *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_cli_explain_with_the_tiny_teacher(tmp_path: Path, tiny_model_dir: Path) -> None:
    out = tmp_path / "tiny.md"
    args = [
        "explain",
        "--concept",
        "fork",
        "--teacher",
        f"hf:{tiny_model_dir}",
        "--max-new-tokens",
        "48",
        "-o",
        str(out),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert f"by hf:{tiny_model_dir}" in result.output and "fact-check:" in result.output
    assert "format incomplete" in result.output  # the tiny model writes gibberish
    page = out.read_text()
    assert "<svg" in page and "lacks section(s)" in page and "## Fact-check" in page
