"""The study guide as one self-contained HTML page: the profile as a chart and a table, write-ups of the weakest
concepts with the player's own positions, and the drills with their answers hidden until asked (``<details>``).

Boards are inline SVG (python-chess), the chart is inline SVG; no script, no style sheet, no image is
fetched. The only links leave the page: each position opens on Lichess's analysis board.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from html import escape
from pathlib import Path

import chess
import chess.svg

from chessteach.concepts.catalog import CONCEPTS
from chessteach.games.review import PHASES
from chessteach.puzzles.puzzle import Puzzle
from chessteach.study.drills import Drill, has_better_move, lichess_url
from chessteach.study.profile import BLUNDER, COLORS, MISSED_WIN, MISTAKE, ConceptRow, Decision, PlayerStudy
from chessteach.teaching.examples import Example, shared_sentences
from chessteach.teaching.sections import COMMON_MISTAKES, HOW_TO_SPOT
from chessteach.teaching.template import MomentExplainer, TemplateExplainer

BOARD_SIZE = 300
CHART_ROWS = 14
"""Concepts the chart shows at most (those at play most often)."""
EXAMPLES = 3
"""The player's own positions shown per weak concept."""

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { margin-bottom: 0.2em; } .lead { color: #555; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: right; } th { background: #f2f2f2; }
td.name, th.name { text-align: left; }
.position { display: flex; gap: 1.2em; align-items: flex-start; margin: 1em 0; padding: 0.8em;
  border: 1px solid #ddd; border-radius: 6px; }
.position .text { flex: 1; } details { margin-top: 0.6em; } summary { cursor: pointer; font-weight: bold; }
.concept { margin: 2em 0; } .definition { background: #f7f7f2; padding: 0.6em; border-left: 4px solid #b58863; }
.chart text { font-size: 12px; fill: #222; }
"""


def _concept_name(concept: str) -> str:
    entry = CONCEPTS.get(concept)
    return entry.name if entry is not None else concept


def _percent(value: float) -> str:
    return "–" if math.isnan(value) else f"{100 * value:.0f}%"


def profile_chart(rows: Sequence[ConceptRow], *, limit: int = CHART_ROWS) -> str:
    """The profile as an inline SVG bar chart: per concept, the player's error rate (bar) with its 95% interval
    (whisker) and the opponents' rate (black tick)."""
    rows = list(rows)[:limit]
    label_w, bar_w, row_h, top = 190, 520, 24, 30
    height = top + row_h * len(rows) + 30
    width = label_w + bar_w + 140
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="error rate by concept">',
        f'<text x="{label_w}" y="16">error rate where the concept was at play (bar: the player, with its 95% '
        'interval; tick: the opponents)</text>',
    ]
    for tick in range(0, 101, 25):
        x = label_w + bar_w * tick / 100
        parts.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{height - 26}" stroke="#ddd"/>')
        parts.append(f'<text x="{x - 10:.1f}" y="{height - 10}">{tick}%</text>')
    for i, row in enumerate(rows):
        y = top + i * row_h
        rate = row.player.rate
        parts.append(f'<text x="0" y="{y + 15}">{escape(_concept_name(row.concept))}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{bar_w * rate:.1f}" height="{row_h - 8}" '
                     f'fill="#c0504d"/>')
        if not math.isnan(row.player.low):
            x1, x2 = label_w + bar_w * row.player.low, label_w + bar_w * row.player.high
            parts.append(f'<line x1="{x1:.1f}" y1="{y + row_h / 2:.1f}" x2="{x2:.1f}" y2="{y + row_h / 2:.1f}" '
                         'stroke="#333" stroke-width="1.5"/>')
        if row.opponents.n:
            x = label_w + bar_w * row.opponents.rate
            parts.append(f'<line x1="{x:.1f}" y1="{y + 1}" x2="{x:.1f}" y2="{y + row_h - 3}" stroke="#000" '
                         'stroke-width="3"/>')
        parts.append(f'<text x="{label_w + bar_w + 8}" y="{y + 15}">{row.player.errors} of {row.player.n}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _rate_cell(errors: int, n: int) -> str:
    return f"{errors}/{n}" if n else "–"


def profile_table(rows: Sequence[ConceptRow]) -> str:
    """The profile as a table: per concept the player's decisions and errors, the rate and its interval, the
    opponents' rate, the player's rate elsewhere, and the counts by phase and colour."""
    head = ("<tr><th class=name>concept</th><th>at play</th><th>went wrong</th><th>rate [95% interval]</th>"
            "<th>opponents</th><th>player elsewhere</th>"
            + "".join(f"<th>{p}</th>" for p in PHASES) + "".join(f"<th>as {c}</th>" for c in COLORS) + "</tr>")
    body = []
    for r in rows:
        interval = f"{_percent(r.player.rate)} [{_percent(r.player.low)}, {_percent(r.player.high)}]"
        cells = [
            f'<td class=name title="{escape(r.concept)}">{escape(_concept_name(r.concept))}</td>',
            f"<td>{r.player.n}</td>", f"<td>{r.player.errors}</td>", f"<td>{interval}</td>",
            f"<td>{_percent(r.opponents.rate)} ({_rate_cell(r.opponents.errors, r.opponents.n)})</td>",
            f"<td>{_percent(r.elsewhere.rate)}</td>",
            *(f"<td>{_rate_cell(r.by_phase[p].errors, r.by_phase[p].n)}</td>" for p in PHASES),
            *(f"<td>{_rate_cell(r.by_color[c].errors, r.by_color[c].n)}</td>" for c in COLORS),
        ]
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f'<table class="profile">{head}{"".join(body)}</table>'


def _board(board: chess.Board, *, best: chess.Move | None, played: chess.Move | None,
           squares: Sequence[chess.Square] = ()) -> str:
    arrows = []
    if played is not None and played != best:
        arrows.append(chess.svg.Arrow(played.from_square, played.to_square, color="red"))
    if best is not None:
        arrows.append(chess.svg.Arrow(best.from_square, best.to_square, color="green"))
    fill = dict.fromkeys(squares, "#e6646480")
    svg = chess.svg.board(board, size=BOARD_SIZE, arrows=arrows, fill=fill, orientation=board.turn)
    return svg.replace("<svg ", '<svg class="board" ', 1)


def _link(fen: str) -> str:
    return f'<a href="{escape(lichess_url(fen))}" target="_blank" rel="noopener">open on Lichess</a>'


def _example(decision: Decision, writeup: str, number: int) -> str:
    move = decision.move
    board = chess.Board(move.fen_before)
    best = board.parse_san(move.best_pv_san[0]) if move.best_pv_san else None
    played = chess.Move.from_uci(move.uci)
    squares = [s for f in decision.better for s in f.squares]
    facts = "".join(f"<li>{escape(f.text[:1].upper() + f.text[1:])}</li>" for f in (*decision.better, *decision.refutation)[:6])
    return (
        '<div class="position">'
        + _board(board, best=best, played=played, squares=squares)
        + f'<div class="text"><p><b>Position {number}: game {decision.game}</b> ({escape(", ".join(decision.errors))})</p>'
        + f'<p class="writeup">{escape(writeup)}</p>'
        + (f"<ul>{facts}</ul>" if facts else "")
        + f"<p>{_link(move.fen_before)}</p></div></div>"
    )


def own_examples(concept: str, decisions: Sequence[Decision]) -> list[Example]:
    """The player's positions as examples of the concept, in the form :mod:`chessteach.teaching.examples` writes
    explanations from: each position with the engine's better move as its solution, and the decision's checked
    facts of that concept (those of the better move first, then the refutation's), numbered in order; each
    decision must have a better move (:func:`~chessteach.study.drills.has_better_move`)."""
    examples = []
    for number, decision in enumerate(decisions, 1):
        move = decision.move
        board = chess.Board(move.fen_before)
        best = board.parse_san(move.best_pv_san[0])
        puzzle = Puzzle.from_solution(move.fen_before, [best.uci()], id=f"position-{number}")
        facts = tuple(f for f in (*decision.better, *decision.refutation) if f.concept == concept)
        examples.append(Example(concept, puzzle, facts))
    return examples


def _own_sentences(concept: str, decisions: Sequence[Decision]) -> str:
    """What the player's positions of the concept share (the explanations' general sentences, fed with the
    player's games), as a paragraph per section; the positions are the examples, numbered as shown."""
    examples = own_examples(concept, decisions)
    if not examples:
        return ""
    shared = shared_sentences(examples)
    parts = []
    for section, label in ((HOW_TO_SPOT, "How to spot it in your games"), (COMMON_MISTAKES, "What went wrong")):
        sentences = [t.replace("examples", "positions").replace("example", "position") for t in shared[section]]
        if sentences:
            parts.append(f'<p class="shared"><i>{label}:</i> {escape(" ".join(sentences))}</p>')
    return "".join(parts)


def concept_writeup(row: ConceptRow, study: PlayerStudy, explainer: MomentExplainer, *, examples: int = EXAMPLES) -> str:
    """The write-up of one weak concept: its catalog definition and how to spot it, the player's numbers, and
    their own positions where it was at play and they went wrong, each with its moment's write-up."""
    entry = CONCEPTS.get(row.concept)
    mine = [d for d in study.errors if row.concept in d.concepts and has_better_move(d)][:examples]
    definition = ""
    if entry is not None:
        definition = f'<p class="definition"><b>{escape(entry.name)}.</b> {escape(entry.definition)}'
        if entry.how_to_spot:
            definition += f" <i>How to spot it:</i> {escape(entry.how_to_spot)}"
        definition += "</p>"
    numbers = (f"<p>At play in {row.player.n} of your decisions; you went wrong in {row.player.errors} "
               f"({_percent(row.player.rate)}, 95% interval {_percent(row.player.low)}–{_percent(row.player.high)}); "
               f"your opponents in the same games: {_percent(row.opponents.rate)} of {row.opponents.n}; "
               f"you elsewhere: {_percent(row.elsewhere.rate)}.</p>")
    shown = "".join(_example(d, explainer.explain_moment(d.move), n) for n, d in enumerate(mine, 1))
    return (f'<section class="concept" id="concept-{escape(row.concept)}"><h3>{escape(_concept_name(row.concept))}'
            f"</h3>{definition}{numbers}{_own_sentences(row.concept, mine)}{shown}</section>")


def drill_html(drill: Drill, number: int) -> str:
    """One drill: the board, the question, the answer hidden in a ``<details>``, a link to Lichess."""
    board = drill.board
    answer = drill.answer
    squares = drill.highlights if drill.kind != "own" else ()
    line = " ".join(drill.answer_san)
    return (
        f'<div class="position drill" id="drill-{number}">'
        + _board(board, best=None, played=None, squares=squares)
        + f'<div class="text"><p><b>{number}. {escape(drill.title)}</b> ({escape(drill.difficulty)})</p>'
        + f"<p>{escape(drill.question)}</p><p>Concepts: {escape(', '.join(drill.concepts) or 'none found')}</p>"
        + f'<details><summary>Answer</summary><p class="answer"><b>{escape(drill.answer_san[0])}</b> '
        + f"(line: {escape(line)}). {escape(drill.note)}</p>"
        + _board(board, best=answer, played=drill.played, squares=drill.highlights)
        + f"</details><p>{_link(drill.fen)}</p></div></div>"
    )


def _games_table(study: PlayerStudy) -> str:
    rows = []
    for review in study.reviews:
        h = review.headers
        mine = [d for d in study.decisions if d.game == review.number]
        color = mine[0].color_name if mine else "?"
        errors = sum(d.wrong for d in mine)
        rows.append(f"<tr><td>{review.number}</td><td class=name>{escape(h.get('White', '?'))} – "
                    f"{escape(h.get('Black', '?'))}</td><td class=name>{escape(h.get('Event', '?'))}, "
                    f"{escape(h.get('Date', '?'))}</td><td>{color}</td><td>{escape(h.get('Result', '*'))}</td>"
                    f"<td>{errors}</td></tr>")
    return ("<table><tr><th>#</th><th class=name>game</th><th class=name>event</th><th>colour</th>"
            f"<th>result</th><th>errors</th></tr>{''.join(rows)}</table>")


def write_page(
    path: str | os.PathLike[str],
    study: PlayerStudy,
    weak: Sequence[ConceptRow],
    drills: Sequence[Drill],
    *,
    source: str = "",
    explainer: MomentExplainer | None = None,
) -> Path:
    """Write the study guide (``index.html``) and return its path."""
    explainer = explainer or TemplateExplainer()
    counts = {kind: study.count(kind) for kind in (MISTAKE, BLUNDER, MISSED_WIN)}
    summary = (f"{len(study.reviews)} game(s){f' from {escape(source)}' if source else ''}; "
               f"{len(study.decisions)} decisions: {counts[BLUNDER]} blunder(s), {counts[MISTAKE]} mistake(s), "
               f"{counts[MISSED_WIN]} missed win(s).")
    writeups = "".join(concept_writeup(r, study, explainer) for r in weak) or "<p>No concept stands out: no errors.</p>"
    drill_parts = "".join(drill_html(d, i) for i, d in enumerate(drills, start=1)) or "<p>No drills.</p>"
    html = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Study guide: {escape(study.player)}'
        f"</title><style>{_STYLE}</style></head><body>"
        f"<h1>Study guide: {escape(study.player)}</h1><p class=lead>{summary}</p>"
        f"{_games_table(study)}"
        "<h2>The concepts you keep missing</h2>"
        "<p>A concept is at play in a decision when the engine's refutation of the move played, or its better "
        "move, shows it. A decision went wrong at a mistake, a blunder or a missed win.</p>"
        f'<div class="profile-chart">{profile_chart(study.profile)}</div>{profile_table(study.profile)}'
        f"<h2>Write-ups</h2>{writeups}"
        f"<h2>Drills</h2><p>Your own positions, worst first, then puzzles of the same concepts, easiest first. "
        f"Think first; then open the answer.</p>{drill_parts}"
        "</body></html>"
    )
    out = Path(path)
    out.write_text(html, encoding="utf-8")
    return out


__all__ = ["concept_writeup", "drill_html", "own_examples", "profile_chart", "profile_table", "write_page"]
