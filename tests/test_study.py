"""``chessteach study``: a player's study guide from real games of the bundled Madrid 2022 Candidates, reviewed by
the real Stockfish at a low node count (three of Firouzja's games, one given twice), checked against the review,
reparsed (the PGN study, ``drills.csv``) and opened in headless Chromium."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import chess
import chess.pgn
import numpy as np
import pytest
import test_report
from PIL import Image
from test_report import BOARD_DARK, BOARD_LIGHT, _pixels_near, console_errors, screenshot
from typer.testing import CliRunner

from chessteach.cli import app
from chessteach.engine import AnalysisCache, EngineLimit, EnginePool, Judgment
from chessteach.games.read import read_games
from chessteach.puzzles.lichess_csv import bundled_exercises, bundled_puzzles, read_puzzles
from chessteach.study.drills import OWN, Drill, has_better_move
from chessteach.study.guide import Guide, make_guide
from chessteach.study.page import own_examples
from chessteach.study.player import UnknownPlayerError, player_games
from chessteach.study.profile import BLUNDER, MISSED_SHARE, MISSED_WIN, MISTAKE

NODES = 20_000
GAMES = (33, 40, 47)
"""Madrid 2022: Firouzja-Rapport, Nakamura-Firouzja, Duda-Firouzja (errors on both sides at 20,000 nodes)."""
PLAYER = "firouzja"
BAR = (0xC0, 0x50, 0x4D)  # the profile chart's bars


@pytest.fixture(scope="module")
def pgn(pgn_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The three games, the second one given again at the end (a duplicate to drop)."""
    records = list(read_games(pgn_dir / "candidates-madrid-2022.pgn"))
    games = [records[n - 1].game for n in (*GAMES, GAMES[1])]
    path = tmp_path_factory.mktemp("study-games") / "firouzja.pgn"
    path.write_text("\n\n".join(str(g) for g in games) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("study-cache") / "analysis.sqlite"


@pytest.fixture(scope="module")
def guide_dir(pgn: Path, cache: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """``chessteach study`` run once (the engine reviews the games) and its output."""
    out = tmp_path_factory.mktemp("study") / "guide"
    args = ["study", str(pgn), "--player", PLAYER, "-o", str(out), "--nodes", str(NODES), "-w", "2",
            "--cache", str(cache)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return out, result.output


@pytest.fixture(scope="module")
def guide(guide_dir: tuple[Path, str], pgn: Path, cache: Path) -> Guide:
    """The same guide made again through the library, every analysis from the cache the command filled."""
    games = player_games(pgn, PLAYER)
    puzzles = read_puzzles(bundled_puzzles()).puzzles + read_puzzles(bundled_exercises()).puzzles
    with EnginePool(limit=EngineLimit(nodes=NODES), workers=1, cache=AnalysisCache(cache)) as pool:
        made = make_guide(games[0].name, games, pool, puzzles)
        assert pool.searches == 0, "the rerun searched positions the cache holds"
    return made


# --- The player's games ---------------------------------------------------------------------------------


def test_the_players_games_by_any_part_of_the_name(pgn: Path) -> None:
    games = player_games(pgn, "FIROUZJA")
    assert [g.number for g in games] == [1, 2, 3]  # the fourth game repeats the second: dropped
    assert [g.color for g in games] == [chess.WHITE, chess.BLACK, chess.BLACK]
    assert {g.name for g in games} == {"Firouzja, Alireza"}
    both = player_games(pgn, "rapport", ["Nakamura"])
    assert [(g.number, g.name) for g in both] == [(1, "Rapport, Richard"), (2, "Nakamura, Hikaru")]


def test_an_unknown_name_lists_the_close_names(pgn: Path) -> None:
    with pytest.raises(UnknownPlayerError, match=r"no player matches 'Firouzya'; close names: Firouzja, Alireza"):
        player_games(pgn, "Firouzya")
    result = CliRunner().invoke(app, ["study", str(pgn), "--player", "Nakamur4", "--no-cache"])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Nakamura, Hikaru" in lines[0], result.output


def test_hostile_names_stay_text(cache: Path, tmp_path: Path) -> None:
    """A player named with markup, braces and quotes: the page escapes it, the PGN study still parses."""
    name = '<b>Mallory</b> "} {[%cal Ra1a8]'
    pgn = tmp_path / "hostile.pgn"
    pgn.write_text(f'[Event "{{x}}"]\n[White "Alice"]\n[Black "{name.replace(chr(34), "")}"]\n[Result "1-0"]\n\n'
                   "1. e4 e5 2. Qh5 Nc6 3. Bc4 Nf6 4. Qxf7# 1-0\n", encoding="utf-8")
    out = tmp_path / "guide"
    result = CliRunner().invoke(app, ["study", str(pgn), "--player", "mallory", "-o", str(out), "--nodes",
                                      str(NODES), "-w", "1", "--cache", str(cache)])
    assert result.exit_code == 0, result.output
    html = (out / "index.html").read_text(encoding="utf-8")
    assert "<b>Mallory" not in html and "&lt;b&gt;Mallory&lt;/b&gt;" in html
    with open(out / "study.pgn", encoding="utf-8") as fh:
        chapters = []
        while (game := chess.pgn.read_game(fh)) is not None:
            chapters.append(game)
    assert chapters and all(not g.errors for g in chapters)
    own = chapters[0]  # 3... Nf6?? allows mate: the drill asks for a defence
    assert own.headers["FEN"] == "r1bqkbnr/pppp1ppp/2n5/4p2Q/2B1P3/8/PPPP1PPP/RNB1K1NR b KQkq - 3 3"
    assert own.next() is not None and own.next().move != chess.Move.from_uci("g8f6")  # type: ignore[union-attr]


# --- The profile ----------------------------------------------------------------------------------------


def test_the_profile_counts_the_reviews_judgments(guide: Guide) -> None:
    study = guide.study
    assert len(study.reviews) == 3
    colors = {r.number: (chess.WHITE if "Firouzja" in r.headers["White"] else chess.BLACK) for r in study.reviews}
    own_moves = [m for r in study.reviews for m in r.moves if m.color == colors[r.number]]
    assert len(study.decisions) == len(own_moves)
    assert study.count(MISTAKE) == sum(r.side(colors[r.number]).mistakes for r in study.reviews)
    assert study.count(BLUNDER) == sum(r.side(colors[r.number]).blunders for r in study.reviews)
    assert study.count(MISTAKE) + study.count(BLUNDER) > 0, "Firouzja errs in these games at this node count"
    assert len(study.opponents) == sum(len(r.moves) for r in study.reviews) - len(own_moves)
    for decision in study.decisions:  # a missed win follows the opponent's mistake and gives most of it back
        review = next(r for r in study.reviews if r.number == decision.game)
        previous = next((m for m in review.moves if m.ply == decision.move.ply - 1), None)
        opponent_erred = previous is not None and previous.judgment in (Judgment.MISTAKE, Judgment.BLUNDER)
        missed = opponent_erred and decision.move.win_drop >= MISSED_SHARE * previous.win_drop > 0  # type: ignore[union-attr]
        assert (MISSED_WIN in decision.errors) == missed
        if decision.move.played_facts is not None:  # at a critical moment, the review's refutation
            assert decision.refutation == tuple(decision.move.played_facts.after_reply)
    assert study.profile, "no concept at play in any decision"
    for row in study.profile:
        at_play = [d for d in study.decisions if row.concept in d.concepts]
        assert row.player.n == len(at_play) and row.player.errors == sum(d.wrong for d in at_play)
        assert row.player.low <= row.player.rate <= row.player.high
        assert sum(r.n for r in row.by_phase.values()) == sum(r.n for r in row.by_color.values()) == row.player.n
        assert row.opponents.n == sum(row.concept in d.concepts for d in study.opponents)
        assert row.elsewhere.n == len(study.decisions) - row.player.n
    assert guide.weak and all(r.player.errors for r in guide.weak)


# --- The drills -----------------------------------------------------------------------------------------


def _own(guide: Guide) -> list[Drill]:
    return [d for d in guide.drills if d.kind == OWN]


def test_every_drills_answer_is_the_engines_best_move_and_legal(guide: Guide) -> None:
    own = _own(guide)
    assert own, "the player's errors should give drills"
    for drill in own:
        assert drill.decision is not None
        move = drill.decision.move
        board = chess.Board(move.fen_before)
        assert drill.fen == board.fen()
        assert drill.answer in board.legal_moves and board.san(drill.answer) == move.best_pv_san[0]
        assert drill.answer_san == tuple(move.best_pv_san) and drill.answer != drill.played
    losses = [d.decision.move.win_drop for d in own if d.decision]
    assert losses == sorted(losses, reverse=True)  # worst first
    puzzles = [d for d in guide.drills if d.kind != OWN]
    assert puzzles, "the weak concepts should have puzzles or exercises in the bundled sets"
    for drill in puzzles:
        assert drill.answer in drill.board.legal_moves and drill.concepts[0] in drill.puzzle.themes
    for concept in {d.concepts[0] for d in puzzles}:
        ratings = [d.puzzle.rating for d in puzzles if d.concepts[0] == concept and d.puzzle.rating is not None]
        assert ratings == sorted(ratings)


def test_the_pgn_study_reparses_with_every_fen_and_arrow(guide_dir: tuple[Path, str], guide: Guide) -> None:
    chapters = []
    with open(guide_dir[0] / "study.pgn", encoding="utf-8") as fh:
        while (game := chess.pgn.read_game(fh)) is not None:
            chapters.append(game)
    assert len(chapters) == len(guide.drills)
    for game, drill in zip(chapters, guide.drills, strict=True):
        assert not game.errors, game.errors
        assert game.headers["FEN"] == drill.fen and game.headers["SetUp"] == "1"
        assert game.board().fen() == drill.fen
        first = game.next()
        assert first is not None and first.move == drill.answer
        assert [first.parent.board().san(m) for m in [first.move]] == [drill.answer_san[0]]
        arrows = first.arrows()
        assert (drill.answer.from_square, drill.answer.to_square, "green") in [
            (a.tail, a.head, a.color) for a in arrows]
        highlighted = {a.tail for a in arrows if a.tail == a.head}
        assert highlighted == set(drill.highlights or (drill.answer.to_square,))
        if drill.played is not None and drill.played != drill.answer:
            assert (drill.played.from_square, drill.played.to_square, "red") in [
                (a.tail, a.head, a.color) for a in arrows]
            assert [v.move for v in game.variations] == [drill.answer, drill.played]
        assert drill.question in game.comment
        assert len(list(game.mainline_moves())) == len(drill.answer_san)


def test_drills_csv_reads_back_as_puzzles(guide_dir: tuple[Path, str], guide: Guide) -> None:
    loaded = read_puzzles(guide_dir[0] / "drills.csv")
    assert not loaded.errors
    assert [p.id for p in loaded.puzzles] == [d.puzzle.id for d in guide.drills]
    for puzzle, drill in zip(loaded.puzzles, guide.drills, strict=True):
        assert puzzle.position().fen() == drill.fen
        assert puzzle.solver_moves[0] == drill.answer
        assert puzzle.setup is (drill.kind == "puzzle")
        assert "Distractors" not in puzzle.extra


def test_the_command_reports_and_a_rerun_costs_no_engine_time(guide_dir: tuple[Path, str], pgn: Path,
                                                                cache: Path, tmp_path: Path) -> None:
    out, output = guide_dir
    assert sorted(p.name for p in out.iterdir()) == ["drills.csv", "index.html", "study.pgn"]
    assert "Firouzja, Alireza: 3 game(s)" in output
    again = CliRunner().invoke(app, ["study", str(pgn), "--player", PLAYER, "-o", str(tmp_path / "again"),
                                     "--nodes", str(NODES), "-w", "1", "--cache", str(cache)])
    assert again.exit_code == 0, again.output
    assert " 0 position(s) searched by the engine" in " ".join(again.output.split())
    assert (tmp_path / "again" / "study.pgn").read_text(encoding="utf-8") == (out / "study.pgn").read_text(
        encoding="utf-8")


def test_the_exam_takes_drills_csv(guide_dir: tuple[Path, str], guide: Guide, tiny_model_dir: Path,
                                   tmp_path: Path) -> None:
    """``chessteach exam`` examines a (tiny, random) student on the weakest concept with the drills as puzzles."""
    concept = guide.weak[0].concept
    result = CliRunner().invoke(app, [
        "exam", "--student", f"hf:{tiny_model_dir}", "--themes", concept, "--puzzles", str(guide_dir[0] / "drills.csv"),
        "-n", "2", "-o", str(tmp_path / "exam"), "--cache", str(tmp_path / "exams.sqlite"), "--max-new-tokens", "4"])
    assert result.exit_code == 0, result.output
    assert "uplift" in result.output and (tmp_path / "exam" / "answers.csv").exists()


# --- The page -------------------------------------------------------------------------------------------


def test_the_page_is_self_contained_with_hidden_answers(guide_dir: tuple[Path, str], guide: Guide) -> None:
    html = (guide_dir[0] / "index.html").read_text(encoding="utf-8")
    assert "<script" not in html and "<link" not in html and "src=" not in html
    assert html.count("<details>") == len(guide.drills)
    assert html.count('<svg class="chart"') == 1
    for drill in guide.drills:
        assert f'href="https://lichess.org/analysis/{drill.fen.replace(" ", "_")}"' in html
    for row in guide.weak:
        assert f'id="concept-{row.concept}"' in html
    assert html.count('<p class="writeup">') == sum(
        min(3, sum(row.concept in d.concepts and has_better_move(d) for d in guide.study.errors)) for row in guide.weak)


def test_the_write_ups_say_what_the_players_own_positions_share(guide_dir: tuple[Path, str], guide: Guide) -> None:
    """Section 1's general sentences, fed with the player's positions: each weak concept's positions are examples
    whose solution is the engine's better move, and the page says what they share (the moving piece, where it
    went), numbered as the positions are shown."""
    html = (guide_dir[0] / "index.html").read_text(encoding="utf-8")
    shown = 0
    for row in guide.weak:
        mine = [d for d in guide.study.errors if row.concept in d.concepts and has_better_move(d)][:3]
        examples = own_examples(row.concept, mine)
        assert len(examples) == len(mine)
        for example, decision in zip(examples, mine, strict=True):
            board, move = example.first_move
            assert board.san(move) == decision.move.best_pv_san[0]
            assert all(f.concept == row.concept for f in example.facts)
        if mine:
            shown += 1
            first = mine[0].move.best_pv_san[0]
            section = html.split(f'id="concept-{row.concept}"', 1)[1].split("</section>", 1)[0]
            assert "How to spot it in your games:" in section and f"({first}" in section
    assert shown, "no weak concept with the player's own positions: the test games should have some"
    assert html.count('<p class="shared">') >= shown


chromium = test_report.chromium  # the same fixture: Chromium on PATH, or the test is skipped


def test_the_page_renders_in_chromium(chromium: str, guide_dir: tuple[Path, str], tmp_path: Path) -> None:
    page = guide_dir[0] / "index.html"
    assert console_errors(chromium, page, tmp_path / "profile") == []
    png = screenshot(chromium, page, tmp_path / "study.png", tmp_path / "profile", size=(1280, 2400))
    image = np.asarray(Image.open(png).convert("RGB"))
    assert image.std() > 20, "the page looks blank"
    assert _pixels_near(image, BAR) > 500, "no profile chart on screen"
    assert _pixels_near(image, BOARD_LIGHT) > 20_000 and _pixels_near(image, BOARD_DARK) > 20_000, "no board"
    if os.environ.get("CHESSTEACH_README_UPDATE"):
        shutil.copyfile(png, Path(__file__).resolve().parents[1] / "docs" / "study.png")
