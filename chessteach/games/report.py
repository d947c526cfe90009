"""The HTML game report: one self-contained page with every reviewed game.

Per game: the players and the event, each side's accuracy table (Lichess accuracy, ACPL, the judgments'
counts, accuracy by phase), white's win% graph, and every critical moment with a board, the move's
judgment, the win% before and after it, the engine's line, the refutation of the move played (the opponent's
best reply and what it wins), the write-up and the checked facts.

The page needs nothing from the network: the CSS is inline, the graph (matplotlib) and the boards
(python-chess) are inline SVG, and there is no JavaScript. The layout lives in the Jinja2 template
``chessteach/templates/report.html.j2``; this module turns reviews into what the template shows. The example is not
run as a doctest (``reviews`` come from :func:`~chessteach.games.review.review_games`, which needs the engine;
``tests/test_report.py`` writes reports of real reviews):

>>> from pathlib import Path
>>> write_report(reviews, Path("report.html"), title="Candidates 2022")  # doctest: +SKIP
PosixPath('report.html')
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import chess
import chess.svg
import jinja2
import matplotlib
from markupsafe import Markup, escape
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from chessteach.concepts.facts import Fact
from chessteach.concepts.notation import numbered_sans, ply_label
from chessteach.engine import Judgment
from chessteach.games.moments import SWING, Refutation
from chessteach.games.review import PHASES, GameReview, MoveReview, SideStats, format_score

logger = logging.getLogger(__name__)

TEMPLATE = "report.html.j2"
"""The page template, in ``chessteach/templates``."""

JUDGMENT_COLORS = {
    Judgment.INACCURACY: "#3b8fd4",
    Judgment.MISTAKE: "#e08a00",
    Judgment.BLUNDER: "#d63b3b",
}
"""One colour per judgment, shared by the graph's dots and the page's badges."""

SWING_COLOR = "#7a5cc4"
"""The colour of a critical moment without a judgment (a large swing of win%)."""

GRAPH_MARKED = (Judgment.MISTAKE, Judgment.BLUNDER)
"""The judgments marked with a dot on the win% graph."""

GRAPH_SIZE = (9.6, 2.8)
"""The graph's size in inches (it scales to the page's width)."""

PLAYED_ARROW = "red"
BEST_ARROW = "green"
"""Arrow colours on the boards (python-chess's named colours): the move played, the engine's best move."""

BEST_LINE_PLIES = 8
"""How many plies of the engine's line the report shows."""

_SVG_START = re.compile(r"<svg\b")


@dataclass(frozen=True)
class FactGroup:
    """Fact sentences about one position, under a heading (``After 17... Bxb2``)."""

    heading: str
    sentences: list[str]


@dataclass(frozen=True)
class MomentView:
    """A critical moment as the page shows it."""

    anchor: str
    label: str
    verdict: str
    color: str
    mover: str
    board_svg: Markup
    win_before: float
    win_after: float
    eval_before: str
    eval_after: str
    best_label: str | None
    best_line: str
    refutation_line: str
    refutation_wins: str | None
    writeup: str
    facts: list[FactGroup]


@dataclass(frozen=True)
class SideView:
    """One side's row of the accuracy table."""

    color: str
    player: str
    stats: SideStats


@dataclass(frozen=True)
class GameView:
    """A game as the page shows it."""

    anchor: str
    number: int
    title: str
    white: str
    black: str
    result: str
    details: list[str]
    opening: str | None
    sides: list[SideView]
    graph_svg: Markup | None
    graph_marks: int
    moments: list[MomentView]
    errors: list[str] = field(default_factory=list)


def write_report(
    reviews: Sequence[GameReview],
    path: Path,
    *,
    title: str | None = None,
    source: str | None = None,
    writeups: Sequence[Mapping[int, str]] | None = None,
    reviewed: int | None = None,
) -> Path:
    """Write the HTML report of ``reviews`` to ``path`` (one self-contained file) and return the path.

    ``title`` heads the page (by default the players, or "Game review" for several games); ``source``
    (the PGN's name, say) is shown under it. With several games the page opens with a summary table
    linking to each game. ``writeups`` holds, for each review in order, the write-up of its critical moments
    by ply (see :func:`chessteach.teaching.moments.moment_writeups`); a moment without one shows none.
    ``reviewed``, when more games were reviewed than ``reviews`` holds (the first of them), is said under the
    title, with where the others are.
    """
    path = Path(path)
    if writeups is not None and len(writeups) != len(reviews):
        raise ValueError(f"expected the write-ups of {len(reviews)} review(s), got {len(writeups)}")
    games = [
        _game_view(review, index, writeups[index - 1] if writeups is not None else {})
        for index, review in enumerate(reviews, start=1)
    ]
    html = render_report(games, title=title or _default_title(games), source=source, reviewed=reviewed)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    logger.info("wrote %s: %d game(s), %d critical moment(s)", path, len(games), sum(len(g.moments) for g in games))
    return path


def render_report(
    games: Sequence[GameView], *, title: str, source: str | None = None, reviewed: int | None = None
) -> str:
    """The page's HTML for games already turned into views (see :func:`write_report`)."""
    template = _environment().get_template(TEMPLATE)
    return template.render(games=games, title=title, source=source, phases=PHASES, swing=SWING,
                           reviewed=max(reviewed or 0, len(games)))


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("chessteach", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = _pct
    env.filters["num"] = _num
    return env


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def _num(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _default_title(games: Sequence[GameView]) -> str:
    if len(games) == 1:
        return f"Game review: {games[0].title}"
    return "Game review"


# --- Games ---------------------------------------------------------------------------------------------


def _game_view(review: GameReview, index: int, writeups: Mapping[int, str]) -> GameView:
    headers = review.headers
    number = review.number or index
    anchor = f"game-{index}"
    white, black = _player(headers, "White"), _player(headers, "Black")
    return GameView(
        anchor=anchor,
        number=number,
        title=f"{headers.get('White', '?')} – {headers.get('Black', '?')}",
        white=white,
        black=black,
        result=_result(headers.get("Result", "*")),
        details=_details(headers),
        opening=_opening(headers),
        sides=[SideView("White", white, review.white), SideView("Black", black, review.black)],
        graph_svg=_graph_svg(review, anchor) if review.moves else None,
        graph_marks=sum(m.judgment in GRAPH_MARKED for m in review.moves),
        moments=[_moment_view(m, anchor, writeups.get(m.ply, "")) for m in review.moments],
        errors=list(review.errors),
    )


def _player(headers: dict[str, str], color: str) -> str:
    """``GM Ding, Liren (2806)`` from the PGN's name, title and Elo tags."""
    name = headers.get(color, "?") or "?"
    title = headers.get(f"{color}Title", "").strip()
    elo = headers.get(f"{color}Elo", "").strip()
    if title and title not in ("-", "?"):
        name = f"{title} {name}"
    if elo.isdigit() and int(elo) > 0:
        name = f"{name} ({elo})"
    return name


def _result(result: str) -> str:
    """The result as printed in books: ``½–½`` for a draw, ``1–0``, ``0–1``; ``*`` when unfinished."""
    return result.replace("1/2", "½").replace("-", "–")


def _details(headers: dict[str, str]) -> list[str]:
    """The event, site, round and date, skipping PGN's unknowns (``?``, ``????.??.??``)."""
    out = []
    for key in ("Event", "Site", "Round", "Date"):
        value = headers.get(key, "").strip()
        if not value or set(value) <= set("?.-"):
            continue
        if key == "Round":
            value = f"round {value}"
        elif key == "Date":
            value = value.replace(".??", "").replace(".", "-")
        out.append(value)
    return out


def _opening(headers: dict[str, str]) -> str | None:
    eco, name = headers.get("ECO", "").strip(), headers.get("Opening", "").strip()
    variation = headers.get("Variation", "").strip()
    if variation:
        name = f"{name}, {variation}" if name else variation
    text = " ".join(part for part in (eco if eco != "?" else "", name if name != "?" else "") if part)
    return text or None


# --- The graph -----------------------------------------------------------------------------------------


def _white_win(move: MoveReview) -> tuple[float, float]:
    """White's win% before and after ``move``."""
    if move.color == chess.WHITE:
        return move.win_before, move.win_after
    return 100 - move.win_before, 100 - move.win_after


def _graph_svg(review: GameReview, anchor: str) -> Markup:
    """White's win% after every ply as an inline SVG, mistakes and blunders marked with linked dots.

    The figure is built with matplotlib's object API (no pyplot), so it holds no global state and needs
    no closing; it is written to SVG in memory with text kept as text.
    """
    moves = review.moves
    xs = [moves[0].ply - 1] + [m.ply for m in moves]
    ys = [_white_win(moves[0])[0]] + [_white_win(m)[1] for m in moves]
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": anchor, "font.size": 9}):
        fig = Figure(figsize=GRAPH_SIZE, layout="constrained")
        ax = fig.add_subplot()
        ax.set_facecolor("#4a4a4a")
        ax.fill_between(xs, ys, 0, color="#f4f4f4", step=None, linewidth=0)
        ax.plot(xs, ys, color="#9a9a9a", linewidth=1)
        ax.axhline(50, color="#888888", linewidth=0.8, linestyle=":")
        _mark_phases(ax, moves)
        for judgment in GRAPH_MARKED:
            marked = [m for m in moves if m.judgment is judgment]
            if not marked:
                continue
            dots = ax.scatter(
                [m.ply for m in marked],
                [_white_win(m)[1] for m in marked],
                s=36,
                color=JUDGMENT_COLORS[judgment],
                edgecolors="white",
                linewidths=0.8,
                zorder=3,
                label=f"{judgment.label} ({len(marked)})",
            )
            dots.set_urls([f"#{_moment_anchor(anchor, m)}" for m in marked])
        ax.set_xlim(xs[0], max(xs[-1], xs[0] + 2))
        ax.set_ylim(0, 100)
        ax.set_yticks([0, 25, 50, 75, 100], ["0%", "25%", "50%", "75%", "100%"])
        ax.xaxis.set_major_formatter(_move_number_formatter())
        ax.set_xlabel("move")
        ax.set_ylabel("White's win%")
        ax.spines[["top", "right"]].set_visible(False)
        if ax.collections[1:]:  # fill_between is the first collection; the rest are the dots
            ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=len(GRAPH_MARKED), frameon=False, fontsize=8)
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None})
    return _inline_svg(buf.getvalue(), css_class="graph", label="White's winning chances move by move")


def _mark_phases(ax: Axes, moves: Sequence[MoveReview]) -> None:
    """A dashed line and the phase's name where the middlegame and the endgame begin."""
    previous = moves[0].phase
    for move in moves:
        if move.phase != previous:
            ax.axvline(move.ply - 0.5, color="#b0b0b0", linewidth=0.8, linestyle="--")
            ax.text(
                move.ply,
                97,
                move.phase,
                color="#404040",
                fontsize=8,
                va="top",
                bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1.5},
            )
            previous = move.phase


def _move_number_formatter() -> FuncFormatter:
    """Ticks in plies, labelled with move numbers (ply 20 is after black's 10th move)."""
    return FuncFormatter(lambda ply, _pos: f"{(ply + 1) // 2:.0f}")


def _inline_svg(svg: str, *, css_class: str, label: str, id_prefix: str | None = None) -> Markup:
    """An SVG document ready to sit inside HTML: no XML prolog, a class and an accessible label, and, with
    ``id_prefix``, its ids made unique on the page."""
    match = _SVG_START.search(svg)
    if match is None:
        raise ValueError("not an SVG document")
    svg = svg[match.start() :]
    if id_prefix:
        svg = svg.replace(' id="', f' id="{id_prefix}-').replace('href="#', f'href="#{id_prefix}-')
    attrs = f'<svg class="{css_class}" role="img" aria-label="{escape(label)}"'
    return Markup(_SVG_START.sub(attrs, svg, count=1))


# --- Moments -------------------------------------------------------------------------------------------


def _moment_anchor(game_anchor: str, move: MoveReview) -> str:
    return f"{game_anchor}-ply-{move.ply}"


def _moment_view(move: MoveReview, game_anchor: str, writeup: str) -> MomentView:
    anchor = _moment_anchor(game_anchor, move)
    if move.judgment is not None:
        verdict, color = move.judgment.label, JUDGMENT_COLORS[move.judgment]
    else:
        verdict, color = "Turning point", SWING_COLOR
    best_label = (
        ply_label(move.ply, move.best_san) if move.best_san is not None and move.best_san != move.san else None
    )
    return MomentView(
        anchor=anchor,
        label=ply_label(move.ply, move.san),
        verdict=verdict,
        color=color,
        mover="White" if move.color == chess.WHITE else "Black",
        board_svg=_board_svg(move, anchor),
        win_before=move.win_before,
        win_after=move.win_after,
        eval_before=format_score(move.eval_before),
        eval_after=format_score(move.eval_after),
        best_label=best_label,
        best_line=numbered_sans(move.ply, move.best_pv_san[:BEST_LINE_PLIES]),
        refutation_line=numbered_sans(move.ply + 1, move.refutation.san) if move.refutation is not None else "",
        refutation_wins=move.refutation.wins if move.refutation is not None else None,
        writeup=writeup,
        facts=_fact_groups(move),
    )


def _board_svg(move: MoveReview, anchor: str) -> Markup:
    """The position before the move, the mover at the bottom; red arrow: the move played, green: the best."""
    board = chess.Board(move.fen_before)
    played = chess.Move.from_uci(move.uci)
    arrows = [chess.svg.Arrow(played.from_square, played.to_square, color=PLAYED_ARROW)]
    if move.best_san is not None and move.best_san != move.san:
        best = board.parse_san(move.best_san)
        arrows.append(chess.svg.Arrow(best.from_square, best.to_square, color=BEST_ARROW))
    check = board.king(board.turn) if board.is_check() else None
    svg = chess.svg.board(board, orientation=board.turn, arrows=arrows, check=check)
    mover = "White" if board.turn == chess.WHITE else "Black"
    label = f"{mover} to move; played {move.san} (red arrow)"
    if len(arrows) > 1:
        label += f", best {move.best_san} (green arrow)"
    return _inline_svg(svg, css_class="board", label=label, id_prefix=anchor)


def _sentences(facts: Sequence[Fact]) -> list[str]:
    return [f.text[:1].upper() + f.text[1:] for f in facts]


def _fact_groups(move: MoveReview) -> list[FactGroup]:
    """The checked facts of the move played, along its refutation and of the best move, grouped by the position
    they are about."""
    groups: list[FactGroup] = []
    reply_ply = move.ply + 1
    played, best = move.played_facts, move.best_facts
    if played is not None:
        if played.after_move:
            groups.append(FactGroup(f"After {ply_label(move.ply, played.san)}", _sentences(played.after_move)))
        if move.refutation is not None:
            groups += _refutation_groups(move, move.refutation)
        elif played.reply_san and played.after_reply:
            heading = f"After the engine's reply {ply_label(reply_ply, played.reply_san)}"
            groups.append(FactGroup(heading, _sentences(played.after_reply)))
    if best is not None:
        if best.after_move:
            groups.append(FactGroup(f"After the better {ply_label(move.ply, best.san)}", _sentences(best.after_move)))
        if best.reply_san and best.after_reply:
            heading = f"After {ply_label(move.ply, best.san)} {ply_label(reply_ply, best.reply_san)}"
            groups.append(FactGroup(heading, _sentences(best.after_reply)))
    return groups


def _refutation_groups(move: MoveReview, refutation: Refutation) -> list[FactGroup]:
    """The refutation's facts, one group per position along its line, headed by the line up to there."""
    board = chess.Board(move.fen_before)
    board.push_uci(move.uci)
    headings: dict[str, str] = {}
    for i, san in enumerate(refutation.san):
        board.push_san(san)
        headings.setdefault(board.fen(), f"Refutation: after {numbered_sans(move.ply + 1, refutation.san[: i + 1])}")
    groups: dict[str, list[Fact]] = {}
    for fact in refutation.facts:
        groups.setdefault(fact.position or "", []).append(fact)
    return [FactGroup(headings.get(fen, "Refutation"), _sentences(facts)) for fen, facts in groups.items()]
