"""The HTML game report, built from real games reviewed by the real Stockfish and opened in headless Chromium.

Chromium is found on PATH (CI installs Debian's ``chromium``). Its console is read over the DevTools
protocol through ``--remote-debugging-pipe`` (file descriptors 3 and 4, NUL-terminated JSON), which needs
nothing beyond the standard library.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
import re
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from markupsafe import escape
from PIL import Image

from chessteach.concepts.notation import numbered_sans
from chessteach.engine import AnalysisCache, EngineLimit, EnginePool
from chessteach.games.read import read_games
from chessteach.games.report import write_report
from chessteach.games.review import GameReview, review_games
from chessteach.teaching.moments import games_writeups

BUNDLED_PGN = Path(__file__).resolve().parents[1] / "chessteach" / "data" / "games" / "candidates-2022-sample.pgn"
NODES = 20_000
HOSTILE = '<script>alert("x")</script> Mallory'

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
BOARD_LIGHT, BOARD_DARK = (0xFF, 0xCE, 0x9E), (0xD1, 0x8B, 0x47)  # chess.svg's default square colours
GRAPH_FILL = (0x4A, 0x4A, 0x4A)  # the graph's background (black's share of the win%)


# --- Fixtures ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reviews(pgn_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> list[GameReview]:
    """The bundled Candidates 2022 sample and the first two games of Zurich 1953 (a blunder, then a game
    without critical moments), reviewed at a low node count."""
    games = [r.game for r in read_games(BUNDLED_PGN) if r.game is not None]
    games += [r.game for r in list(read_games(pgn_dir / "candidates-zurich-1953.pgn"))[:2] if r.game is not None]
    cache = AnalysisCache(tmp_path_factory.mktemp("report-cache") / "analysis.sqlite")
    with EnginePool(limit=EngineLimit(nodes=NODES), workers=1, cache=cache) as pool:
        return review_games(games, pool)


@pytest.fixture(scope="module")
def report(reviews: list[GameReview], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of all the games, the first game's White renamed to a script tag."""
    first = reviews[0]
    hostile = dataclasses.replace(first, headers={**first.headers, "White": HOSTILE, "Event": "<b>bold</b> & co"})
    path = tmp_path_factory.mktemp("report") / "report.html"
    return write_report(
        [hostile, *reviews[1:]], path, title="Review <of> games", source="sample.pgn", writeups=games_writeups(reviews)
    )


@pytest.fixture(scope="module")
def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.skip("chromium is not installed (CI installs Debian's chromium package)")
    return path


# --- Chromium ------------------------------------------------------------------------------------------


class DevTools:
    """A Chromium started with ``--remote-debugging-pipe``: it reads commands on fd 3 and writes on fd 4."""

    def __init__(self, chromium: str, profile: Path) -> None:
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def on_fds_3_and_4() -> None:  # in the child: move the pipe ends above 9 first, then onto 3 and 4
            read_end = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10)
            write_end = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
            os.dup2(read_end, 3)
            os.dup2(write_end, 4)

        self.process = subprocess.Popen(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--remote-debugging-pipe"],
            preexec_fn=on_fds_3_and_4,
            close_fds=False,  # our pipes are close-on-exec; only the duplicates on 3 and 4 get through
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict[str, Any]:
        """Send a command and wait for its answer; events that arrive meanwhile go to :attr:`events`."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + 30
        while True:
            answer = self._receive(deadline - time.monotonic())
            if answer is None:
                raise TimeoutError(f"no answer from chromium to {method}")
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return dict(answer.get("result", {}))
            self.events.append(answer)

    def wait_for(self, method: str, timeout: float) -> None:
        """Collect events until ``method`` arrives (or the time is up)."""
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == method for e in self.events):
            event = self._receive(deadline - time.monotonic())
            if event is None:
                raise TimeoutError(f"chromium sent no {method}")
            self.events.append(event)

    def drain(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while (event := self._receive(deadline - time.monotonic())) is not None:
            self.events.append(event)

    def _receive(self, timeout: float) -> dict[str, Any] | None:
        while b"\0" not in self._buffer:
            if timeout <= 0 or not select.select([self._from_chrome], [], [], timeout)[0]:
                return None
            chunk = os.read(self._from_chrome, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return dict(json.loads(raw))

    def close(self) -> None:
        with contextlib.suppress(OSError, RuntimeError, TimeoutError):  # it may be gone already
            self.call("Browser.close")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_chrome)
        os.close(self._from_chrome)


def console_errors(chromium: str, page: Path, profile: Path) -> list[str]:
    """Everything the page reports as an error while it loads: ``console.error``, uncaught exceptions and the
    browser's own error log (a resource that fails to load, a blocked request)."""
    devtools = DevTools(chromium, profile)
    try:
        target = devtools.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = devtools.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Runtime", "Log", "Page"):
            devtools.call(f"{domain}.enable", session=session)
        devtools.call("Page.navigate", {"url": page.resolve().as_uri()}, session=session)
        devtools.wait_for("Page.loadEventFired", timeout=30)
        devtools.drain(0.5)  # late messages
    finally:
        devtools.close()
    errors = []
    for event in devtools.events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
            errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params["args"]))
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            errors.append(details.get("exception", {}).get("description") or details["text"])
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            errors.append(f"{params['entry']['text']} ({params['entry'].get('url', '')})")
    return errors


def screenshot(chromium: str, page: Path, out: Path, profile: Path, size: tuple[int, int] = (1280, 2400)) -> Path:
    """The page as Chromium draws it, ``size`` pixels from the top."""
    subprocess.run(
        [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--screenshot={out}",
            f"--window-size={size[0]},{size[1]}",
            page.resolve().as_uri(),
        ],
        check=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return out


def _pixels_near(image: np.ndarray, rgb: tuple[int, int, int], tolerance: int = 6) -> int:
    return int((np.abs(image[..., :3].astype(int) - rgb) <= tolerance).all(axis=-1).sum())


# --- The HTML ------------------------------------------------------------------------------------------


def test_one_board_per_moment_and_one_graph_per_game(report: Path, reviews: list[GameReview]) -> None:
    html = report.read_text(encoding="utf-8")
    moments = [m for r in reviews for m in r.moments]
    assert moments, "the games should have critical moments"
    assert html.count('<svg class="board"') == len(moments)
    assert html.count('<svg class="graph"') == len(reviews)
    for index, review in enumerate(reviews, start=1):
        assert f'id="game-{index}"' in html and f'href="#game-{index}"' in html  # the summary links to each game
        for moment in review.moments:
            assert f'id="game-{index}-ply-{moment.ply}"' in html
    # Arrows: every moment has the red one (the move played), the green one where the engine preferred another.
    assert html.count('fill="#882020"') == len(moments)  # python-chess's "red" arrow
    assert html.count('fill="#15781B"') == sum(m.best_san is not None and m.best_san != m.san for m in moments)


def test_report_shows_the_numbers(report: Path, reviews: list[GameReview]) -> None:
    html = report.read_text(encoding="utf-8")
    first = reviews[0]
    assert "GM Nepomniachtchi, Ian (2766)" in html  # title, name and Elo from the headers
    assert f"{first.white.accuracy:.1f}%" in html and f"{first.black.accuracy:.1f}%" in html
    for phase in first.white.by_phase.values():
        assert f"{phase:.1f}%" in html
    for moment in (m for r in reviews for m in r.moments):
        assert f"{moment.win_before:.0f}% → {moment.win_after:.0f}%" in html
        assert moment.san in html
    assert "None: no mistakes or blunders" in html  # the Zurich draw has no critical moment


def test_report_shows_each_refutation_beside_the_engine_line(report: Path, reviews: list[GameReview]) -> None:
    """Each critical moment's refutation: its numbered line (with what it wins) after the engine's line, and
    its facts under a heading naming the line up to the position they hold on."""
    html = report.read_text(encoding="utf-8")
    refuted = [m for r in reviews for m in r.moments if m.refutation is not None]
    assert refuted and html.count("<dt>Refutation</dt>") == len(refuted)
    for moment in refuted:
        assert moment.refutation is not None
        line = numbered_sans(moment.ply + 1, moment.refutation.san)
        wins = f' <span class="muted">({moment.refutation.wins})</span>' if moment.refutation.wins else ""
        assert f"<dt>Refutation</dt>\n        <dd>{escape(line)}{wins}</dd>" in html
        for fact in moment.refutation.facts:
            assert str(escape(fact.text[:1].upper() + fact.text[1:])) in html
    assert "<h5>Refutation: after " in html


def test_report_is_self_contained_and_escapes_headers(report: Path) -> None:
    html = report.read_text(encoding="utf-8")
    assert "<script" not in html.lower()  # no JavaScript at all, so the player's name did not inject one
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; Mallory" in html
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co" in html and "<b>bold</b>" not in html
    assert "<title>Review &lt;of&gt; games</title>" in html
    assert not re.search(r"""(src|href|url)\s*[=(]\s*["']?\s*(https?:)?//""", html, re.IGNORECASE)
    assert "<link" not in html and "@import" not in html


def test_report_shows_the_write_ups_it_is_given(report: Path, reviews: list[GameReview], tmp_path: Path) -> None:
    """Each moment's write-up comes from the caller (ply -> text per game); without any, no moment shows one."""
    html = report.read_text(encoding="utf-8")
    writeups = games_writeups(reviews)
    assert html.count('<p class="writeup">') == sum(len(w) for w in writeups) > 0
    assert str(escape(writeups[0][reviews[0].moments[0].ply])) in html
    bare = write_report(reviews, tmp_path / "bare.html").read_text(encoding="utf-8")
    assert '<p class="writeup">' not in bare
    with pytest.raises(ValueError, match="write-ups of 1 review"):
        write_report(reviews[:1], tmp_path / "wrong.html", writeups=[])


def test_no_games(tmp_path: Path) -> None:
    path = write_report([], tmp_path / "empty.html")
    assert "No games were reviewed." in path.read_text(encoding="utf-8")


# --- In the browser ------------------------------------------------------------------------------------


def test_report_has_no_console_errors(chromium: str, report: Path, tmp_path: Path) -> None:
    assert console_errors(chromium, report, tmp_path / "profile") == []


def test_console_check_catches_errors(chromium: str, tmp_path: Path) -> None:
    page = tmp_path / "broken.html"
    page.write_text(
        "<!doctype html><title>broken</title>"
        '<script>console.error("deliberate failure")</script>'
        "<script>this is not javascript(</script>"
        '<img src="missing.png" alt="">',
        encoding="utf-8",
    )
    errors = console_errors(chromium, page, tmp_path / "profile")
    assert any("deliberate failure" in e for e in errors), errors
    assert any("SyntaxError" in e for e in errors), errors
    assert any("missing.png" in e for e in errors), errors


def test_screenshot_shows_boards_and_graph(chromium: str, report: Path, tmp_path: Path) -> None:
    png = screenshot(chromium, report, tmp_path / "report.png", tmp_path / "profile")
    image = np.asarray(Image.open(png).convert("RGB"))
    assert image.shape[:2] == (2400, 1280)
    assert image.std() > 20, "the page looks blank"
    # The first games' boards (a board is about 340 px wide) and graphs are within the first 2400 pixels.
    assert _pixels_near(image, BOARD_LIGHT) > 20_000, "no board's light squares on screen"
    assert _pixels_near(image, BOARD_DARK) > 20_000, "no board's dark squares on screen"
    assert _pixels_near(image, GRAPH_FILL) > 50_000, "no win% graph on screen"
