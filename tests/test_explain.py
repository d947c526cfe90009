"""Explanations of concepts: examples, facts, the template explainer, the teacher's prompt and parse, Markdown, CLI."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import chess
import chess.pgn
import jinja2
import pytest
from typer.testing import CliRunner

from chessteach.cli import app
from chessteach.concepts import UnknownConceptError, check_fact
from chessteach.concepts.catalog import POSITIONAL, concepts, get_concept
from chessteach.concepts.notation import numbered_line
from chessteach.concepts.registry import DETECTORS
from chessteach.concepts.tactics import describe
from chessteach.engine import Analysis, EngineLimit, EngineLine, EnginePool
from chessteach.llm.base import GenerationConfig, Prompt
from chessteach.puzzles import Puzzle, read_puzzles, tag_puzzle
from chessteach.puzzles.lichess_csv import bundled_exercises
from chessteach.teaching import TemplateExplainer
from chessteach.teaching.examples import (
    ENGINE_LINE_PLIES,
    brought_facts,
    engine_line,
    example_source,
    gather_example,
    pick_examples,
)
from chessteach.teaching.explain import (
    SYSTEM_PROMPT,
    USER_PROMPT,
    NoExampleError,
    example_facts,
    example_lines,
    explain_concept,
    explanation_markdown,
    pick_example,
    prompt_template,
    teacher_prompt,
)
from chessteach.teaching.factcheck import UNCHECKABLE, check_explanation, check_text
from chessteach.teaching.sections import GENERAL_SECTIONS, SECTIONS, Explanation, missing_sections, parse_sections

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "puzzles" / "lichess-sample.csv"
NODES = 20_000
"""The engine's nodes per position in these tests (the README's runs use the default)."""
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
    # the catalog's text leads the general sections, then what the example shows
    assert explanation.sections["What it is"].startswith(concept.definition)
    assert explanation.sections["Common mistakes"].startswith(concept.common_mistakes)
    assert "In the example the key move is a knight move" in explanation.sections["How to spot it"]
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


# ------------------------------------------------------------------ several examples from real games


@pytest.fixture(scope="module")
def exercises() -> list[Puzzle]:
    return read_puzzles(bundled_exercises()).puzzles


def _bundled_examples(concept_id: str, exercises: list[Puzzle], sample: list[Puzzle], n: int = 3) -> list[Puzzle]:
    """As the CLI picks them: a positional concept's from the exercises (the sample when none shows it)."""
    sets = [exercises, sample] if get_concept(concept_id).family == POSITIONAL else [sample]
    for puzzles in sets:
        try:
            return pick_examples(concept_id, puzzles, n)
        except NoExampleError:
            continue
    raise NoExampleError(concept_id)


COMMON_TACTICS = (
    "fork",
    "pin",
    "skewer",
    "discoveredAttack",
    "hangingPiece",
    "sacrifice",
    "deflection",
    "attraction",
    "mateIn1",
    "mateIn2",
    "backRankMate",
    "smotheredMate",
    "promotion",
    "quietMove",
)


def _catalog_sentences(concept_id: str) -> str:
    concept = get_concept(concept_id)
    return " ".join(" ".join(t.split()) for t in (concept.definition, concept.how_to_spot, concept.common_mistakes))


@pytest.mark.parametrize("concept_id", [c.id for c in concepts(POSITIONAL)] + list(COMMON_TACTICS))
def test_explanations_of_bundled_examples_have_no_false_claim(
    concept_id: str, exercises: list[Puzzle], sample: list[Puzzle]
) -> None:
    examples = _bundled_examples(concept_id, exercises, sample)
    explanation = explain_concept(concept_id, examples)
    check = check_explanation(explanation, examples)
    assert check.false == 0, (concept_id, [(c.text, c.reason) for c in check.false_claims])
    assert check.verified > 10 * len(examples)
    # what the template itself derives is verified; only the catalog's general words may go unchecked
    catalog = _catalog_sentences(concept_id)
    assert all(c.sentence in catalog for c in check.claims if c.status == UNCHECKABLE), concept_id
    assert explanation.example_ids == tuple(p.id for p in examples) and explanation.example_id == examples[0].id


def test_a_positional_concept_takes_its_examples_from_exercises_of_different_games(exercises: list[Puzzle]) -> None:
    examples = pick_examples("outpost", exercises, 3)
    assert len(examples) == 3 and len({(p.extra["SourceFile"], p.extra["SourceGame"]) for p in examples}) == 3
    assert examples == pick_examples("outpost", list(reversed(exercises)), 3)
    for puzzle in examples:
        facts = brought_facts(puzzle, "outpost")
        assert facts and all(f.concept == "outpost" for f in facts)
        after = puzzle.position()
        after.push(puzzle.solver_moves[0])
        assert all(f.position == after.fen() and check_fact(after, f) for f in facts)
        # the best move lands on the outpost, or a fact it brings names the piece it moved
        assert any(puzzle.solver_moves[0].to_square in f.squares for f in facts)


def test_brought_facts_are_recomputed_not_read_from_the_csv(exercises: list[Puzzle]) -> None:
    puzzle = pick_examples("outpost", exercises, 1)[0]
    forged = replace(puzzle, extra={**puzzle.extra, "Facts": "The knight on a1 is a superb outpost."})
    assert [f.text for f in brought_facts(forged, "outpost")] == [f.text for f in brought_facts(puzzle, "outpost")]
    assert "superb" not in explain_concept("outpost", forged).text
    assert brought_facts(pick_example("fork", read_puzzles(SAMPLE).puzzles), "fork") == []  # not an exercise


def test_an_exercise_source_names_the_players_from_the_pgn_headers(exercises: list[Puzzle]) -> None:
    puzzle = pick_examples("outpost", exercises, 1)[0]
    source = example_source(puzzle)
    assert source is not None
    number = int(puzzle.extra["SourceGame"])
    with (ROOT / "chessteach" / "data" / "games" / puzzle.extra["SourceFile"]).open(encoding="utf-8") as handle:
        for _ in range(number):
            headers = chess.pgn.read_headers(handle)
    assert headers is not None
    assert source.startswith(f"{headers['White']} - {headers['Black']}, ")
    assert f"(game {number} of {puzzle.extra['SourceFile']}, ply {puzzle.extra['SourcePly']})" in source


@pytest.mark.parametrize("name", ["../../etc/passwd", "no-such-file.pgn", "candidates-zurich-1953.pgn"])
def test_a_bad_source_stays_in_the_games_directory_and_is_not_an_error(
    name: str, exercises: list[Puzzle], caplog: pytest.LogCaptureFixture
) -> None:
    puzzle = exercises[0]
    bad = replace(puzzle, extra={**puzzle.extra, "SourceFile": name, "SourceGame": "99999"})
    with caplog.at_level(logging.WARNING, logger="chessteach.teaching"):
        assert example_source(bad) == f"game 99999 of {name}, ply {puzzle.extra['SourcePly']}"
    assert caplog.records


def test_a_lichess_example_shows_its_game_address(sample: list[Puzzle]) -> None:
    puzzle = pick_example("fork", sample)
    assert example_source(puzzle) == f"the Lichess game {puzzle.extra['GameUrl']}"
    assert f"From the Lichess game {puzzle.extra['GameUrl']}." in explain_concept("fork", puzzle).text


def test_the_general_sections_come_from_the_examples(exercises: list[Puzzle], sample: list[Puzzle]) -> None:
    examples = pick_examples("outpost", exercises, 3)
    explanation = explain_concept("outpost", examples)
    concept = get_concept("outpost")
    spot, mistakes = explanation.sections["How to spot it"], explanation.sections["Common mistakes"]
    assert spot.startswith(concept.how_to_spot) and mistakes.startswith(concept.common_mistakes)
    assert "In 3 of 3 examples the facts show an outpost" in spot
    for number, puzzle in enumerate(examples, 1):
        board = puzzle.position()
        move = puzzle.solver_moves[0]
        piece = board.piece_at(move.from_square)
        assert piece is not None
        assert (
            f"In example {number} the {'white' if piece.color else 'black'} {chess.piece_name(piece.piece_type)}"
            f" on {chess.square_name(move.from_square)} moves to {chess.square_name(move.to_square)}" in spot
        )
        assert board.san(move) in spot
        # the worked example: its source, the best move, the distractors and the recorded margin
        assert f"### Example {number}: puzzle {puzzle.id}" in explanation.sections["Worked example"]
        assert f"by at least {puzzle.extra['Margin']} in winning chances" in explanation.sections["Worked example"]
        assert all(
            board.san(m) in explanation.sections["Worked example"]
            for m in [chess.Move.from_uci(u) for u in puzzle.extra["Distractors"].split()]
        )
    assert "tempting alternatives" in mistakes
    forks = pick_examples("fork", sample, 3)
    spot = explain_concept("fork", forks).sections["How to spot it"]
    assert "the motif is a fork: the forking piece is a knight in 1, a pawn in 1 and a queen in 1" in spot
    assert "the pieces it hits include a king in 3 and a rook in 3" in spot


def test_each_example_is_checked_on_its_own_line(exercises: list[Puzzle]) -> None:
    examples = pick_examples("outpost", exercises, 2)
    explanation = explain_concept("outpost", examples)
    assert check_explanation(explanation, examples).false == 0
    # the same text against the examples in the other order: the worked examples' moves are now false
    swapped = check_explanation(explanation, list(reversed(examples)))
    assert swapped.false > 0
    assert all(c.section == "Worked example" for c in swapped.false_claims)


def test_markdown_puts_each_board_under_its_example(exercises: list[Puzzle]) -> None:
    examples = pick_examples("weakSquares", exercises, 3)
    page = explanation_markdown(explain_concept("weakSquares", examples), examples)
    assert page.count("<svg") == 3 and "## Fact-check" in page and " 0 false" in page
    for number, puzzle in enumerate(examples, 1):
        heading = f'### Example {number}: puzzle {puzzle.id}\n\n<div class="board">'
        assert heading in page
    assert "the red ones the distractors" in page


def test_teacher_prompt_gets_every_examples_facts(exercises: list[Puzzle]) -> None:
    examples = pick_examples("outpost", exercises, 3)
    teacher = ScriptedTeacher(WELL_FORMED.format(line=""))
    explanation = explain_concept("outpost", examples, teacher=teacher)
    user = teacher.prompts[0][1]["content"]  # type: ignore[index]
    for puzzle in examples:
        example = gather_example("outpost", puzzle)
        assert puzzle.position().fen() in user
        assert all(f.text[1:] in user for f in example.brought)
    assert "What the examples share (checked):" in user and "In 3 of 3 examples" in user
    assert explanation.example_ids == tuple(p.id for p in examples)
    assert check_explanation(explanation, examples).false == 0
    # one example: the prompt as before, no other examples
    assert "Another example" not in teacher_prompt("outpost", examples[0])[1]["content"]


def test_cli_explain_outpost_shows_examples_from_exercises(tmp_path: Path) -> None:
    out = tmp_path / "outpost.md"
    args = ["explain", "--concept", "outpost", "--examples", "2", "--nodes", str(NODES), "-o", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    page = out.read_text()
    assert page.count("<svg") == 2 and "### Example 2" in page and "candidates-" in page
    assert "Re1#" not in page  # not the mate in one of the Lichess sample
    assert "outpost on puzzles " in result.output and " 0 false" in result.output


def test_cli_explain_positional_concept_without_exercises_falls_back_to_the_sample() -> None:
    result = CliRunner().invoke(app, ["explain", "--concept", "bishopPair", "--examples", "1"])
    assert result.exit_code == 0, result.output
    assert "bishopPair on puzzle " in result.output and " 0 false" in result.output


def test_cli_explain_examples_must_be_positive() -> None:
    result = CliRunner().invoke(app, ["explain", "--concept", "fork", "--examples", "0"])
    assert result.exit_code == 2 and "Traceback" not in result.output


@pytest.mark.parametrize("distractors", ["a1a2 h7h8 b1b2", "zz99 e2e4", ""])
def test_bad_distractors_are_left_out_not_an_error(exercises: list[Puzzle], distractors: str) -> None:
    puzzle = pick_examples("outpost", exercises, 1)[0]
    bad = replace(puzzle, extra={**puzzle.extra, "Distractors": distractors})
    explanation = explain_concept("outpost", [bad, pick_examples("outpost", exercises, 2)[1]])
    page = explanation_markdown(explanation, [bad, pick_examples("outpost", exercises, 2)[1]])
    assert page.count("<svg") == 2 and " 0 false" in page


# ------------------------------------------------------------------ the engine's line of an exercise


@pytest.fixture(scope="module")
def searched(exercises: list[Puzzle], tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Puzzle], dict[str, Analysis]]:
    """Three outpost exercises and the real engine's search of each position (20,000 nodes, a fresh cache)."""
    examples = pick_examples("outpost", exercises, 3)
    cache = tmp_path_factory.mktemp("engine-line") / "analysis.sqlite"
    from chessteach.engine import AnalysisCache

    with EnginePool(limit=EngineLimit(nodes=NODES), workers=1, cache=AnalysisCache(cache)) as pool:
        analyses = pool.analyse([p.position() for p in examples])
    assert all(a is not None for a in analyses)
    return examples, {p.id: a for p, a in zip(examples, analyses, strict=True) if a is not None}


def _shown_line(text: str, puzzle: Puzzle) -> list[chess.Move]:
    """The moves of the worked example's "The engine's line: ..." sentence, played from the exercise's position
    (an illegal one fails the test)."""
    start = text.index("The engine's line: ") + len("The engine's line: ")
    words = text[start:].split(". What", 1)[0].split()
    board = puzzle.position()
    moves = []
    for word in words:
        if word[0].isdigit():  # a move number, 12. or 12...
            continue
        move = board.parse_san(word)
        board.push(move)
        moves.append(move)
    return moves


def test_an_exercise_example_shows_the_engines_line_from_its_best_move(
    searched: tuple[list[Puzzle], dict[str, Analysis]],
) -> None:
    examples, analyses = searched
    explanation = explain_concept("outpost", examples, analyses=analyses)
    shown = 0
    for number, puzzle in enumerate(examples, 1):
        text = explanation.sections["Worked example"].split(f"### Example {number}:", 1)[1].split("### Example", 1)[0]
        line = engine_line(puzzle, analyses[puzzle.id])
        if not line:  # the engine at these nodes prefers another move: said, and no line shown
            assert "now prefers another move" in text and "The engine's line" not in text
            continue
        shown += 1
        moves = _shown_line(text, puzzle)
        assert moves == list(line) and moves[0] == puzzle.moves[0] and 1 <= len(moves) <= ENGINE_LINE_PLIES
        assert moves == analyses[puzzle.id].best.pv[: len(moves)]
    assert shown >= 2
    # the fact-checker plays the engine's moves too: every claim about them checks as true
    check = check_explanation(explanation, examples, lines=example_lines(examples, analyses))
    assert check.false == 0, [(c.text, c.reason) for c in check.false_claims]
    # a claim about a position of the engine's line (the piece its reply moved, on its new square) is true on
    # the example's line with the engine's moves, false on the solution alone
    puzzle = max(examples, key=lambda p: len(engine_line(p, analyses[p.id])))
    best, reply = engine_line(puzzle, analyses[puzzle.id])[:2]
    board = puzzle.position()
    board.push(best)
    piece = board.piece_at(reply.from_square)
    assert piece is not None
    text = f"In the engine's line {describe(piece, reply.to_square)} is in play."
    (line,) = example_lines([puzzle], analyses)
    assert line.continuation == engine_line(puzzle, analyses[puzzle.id])[1:]
    assert (check_text(text, puzzle, line=line).verified, check_text(text, puzzle, line=line).false) == (1, 0)
    assert check_text(text, puzzle).false == 1
    page = explanation_markdown(explanation, examples, analyses=analyses)
    assert "The engine's line: " in page and ", 0 false," in page


def test_when_the_engine_prefers_another_move_no_line_is_shown(
    searched: tuple[list[Puzzle], dict[str, Analysis]],
) -> None:
    examples, analyses = searched
    puzzle = examples[0]
    real = analyses[puzzle.id]
    other = next(m for m in puzzle.position().legal_moves if m != puzzle.moves[0])
    elsewhere = replace(real, lines=[EngineLine(real.score, [other])])
    assert engine_line(puzzle, elsewhere) == ()
    explanation = explain_concept("outpost", puzzle, analyses={puzzle.id: elsewhere})
    text = explanation.sections["Worked example"]
    assert "now prefers another move to" in text and "The engine's line" not in text
    assert puzzle.position().san(other) not in text.split("now prefers", 1)[1].split(".")[0]
    assert check_explanation(explanation, puzzle, lines=example_lines([puzzle], {puzzle.id: elsewhere})).false == 0
    # an analysis of another position is not used
    moved = puzzle.position()
    moved.push(puzzle.moves[0])
    assert engine_line(puzzle, replace(real, fen=moved.fen())) == ()


def test_a_puzzle_shows_no_engine_line(fork_example: Puzzle) -> None:
    fake = Analysis(fork_example.position().fen(), [], 1, 1, "none")
    assert engine_line(fork_example, fake) == ()


def test_cli_explain_without_an_engine(tmp_path: Path) -> None:
    missing = str(tmp_path / "no-such-engine")
    # an exercise example needs the engine, as the other engine commands do: one line, exit code 2
    result = CliRunner().invoke(app, ["explain", "--concept", "outpost", "--examples", "1", "--engine", missing])
    assert result.exit_code == 2 and "no-such-engine" in result.output and "Traceback" not in result.output
    # --no-engine: the explanation without the engine's line
    result = CliRunner().invoke(app, ["explain", "--concept", "outpost", "-n", "1", "--engine", missing, "--no-engine"])
    assert result.exit_code == 0, result.output
    assert "The best move is" in result.output and "The engine's line" not in result.output and " 0 false" in result.output
    # a tactical theme's examples are Lichess puzzles: no engine is started
    result = CliRunner().invoke(app, ["explain", "--concept", "fork", "-n", "1", "--engine", missing])
    assert result.exit_code == 0, result.output


def test_cli_explain_shows_the_engines_line_and_reruns_from_the_cache(tmp_path: Path) -> None:
    cache = tmp_path / "analysis.sqlite"
    args = ["explain", "--concept", "outpost", "-n", "1", "--nodes", str(NODES), "--cache", str(cache)]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "The engine's line: " in first.output or "now prefers another move" in first.output
    assert " 0 false" in first.output
    assert CliRunner().invoke(app, args).output == first.output  # from the cache, the same line


def test_a_teacher_is_given_the_engines_line(searched: tuple[list[Puzzle], dict[str, Analysis]]) -> None:
    examples, analyses = searched
    teacher = ScriptedTeacher("## What it is\n\nAn outpost.")
    explain_concept("outpost", examples, teacher=teacher, analyses=analyses)
    user = str(teacher.prompts[0][1]["content"])
    lines = [engine_line(p, analyses[p.id]) for p in examples]
    for puzzle, line in zip(examples, lines, strict=True):
        if line:
            assert f"The engine's line: {numbered_line(puzzle.position(), line)}." in user
    assert "The engine's line" not in str(teacher_prompt("outpost", examples)[1]["content"])
