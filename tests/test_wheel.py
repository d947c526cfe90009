"""The built wheel, installed as a user installs it, works outside the source tree.

The wheel is built (``pip wheel --no-deps --no-build-isolation``, with the setuptools of the test's own
environment, so nothing is downloaded) from a copy of the checkout, so that the build leaves nothing in it. It is
installed into a fresh virtual environment under the test's temporary directory (``python -m venv
--without-pip``, then this environment's pip ``--python`` that one, ``--no-deps``), and the commands run from
another temporary directory, with no ``PYTHONPATH``.

Its dependencies are not installed from the registry on every run (slow, and a network this test should not
need): a ``.pth`` file in the new environment's site-packages holds the path of this environment's site-packages.
A plain path line in a ``.pth`` file only appends that directory to ``sys.path``; the ``.pth`` files inside it
(the editable install's finder among them) are not run. So ``chessteach`` itself is imported from the wheel
installed in the new environment, which comes first on ``sys.path``, and the test checks that it is.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
NOT_COPIED = (".git", ".venv", "build", "dist", "runs", "review", "out", ".whl", ".gl", "*.egg-info", "__pycache__",
              ".*_cache")
"""What the copy the wheel is built from leaves out (the checkout's environment, build and run outputs)."""
DATA_FILES = (
    "chessteach/data/stockfish.toml",
    "chessteach/data/games/candidates-2022-sample.pgn",
    "chessteach/data/games/candidates-madrid-2022.pgn",
    "chessteach/data/games/candidates-zurich-1953.pgn",
    "chessteach/data/games/norway-chess-2022-classical.pgn",
    "chessteach/data/puzzles/lichess-sample.csv",
    "chessteach/data/puzzles/positional-exercises.csv",
    "chessteach/templates/report.html.j2",
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from a copy of the checkout (its links into puzzles/ and engines/ kept as links)."""
    source = tmp_path_factory.mktemp("source") / "chessteach"
    shutil.copytree(ROOT, source, symlinks=True, ignore=shutil.ignore_patterns(*NOT_COPIED))
    dist = tmp_path_factory.mktemp("dist")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(dist), str(source)], check=True)
    [built] = dist.glob("chessteach-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the wheel installed and this environment's packages behind it."""
    path = tmp_path_factory.mktemp("venv") / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    python = path / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", "--python", str(python), "install",
         "--no-deps", str(wheel)],
        check=True,
    )
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    (Path(site) / "dependencies-from-the-test-environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return path


@pytest.fixture
def run(venv: Path, tmp_path: Path) -> Callable[..., str]:
    """Run a command of the new environment from a directory outside the checkout (``width`` columns); return its
    stdout."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(CHESSTEACH_CACHE=str(tmp_path / "analysis.sqlite"), PATH=f"{venv / 'bin'}:{env['PATH']}")

    def run(*args: str, width: int = 80) -> str:
        done = subprocess.run(args, cwd=tmp_path, env={**env, "COLUMNS": str(width)}, capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == 0, f"{' '.join(args)} exited with {done.returncode}:\n{done.stderr[-3000:]}"
        return done.stdout

    return run


def test_the_wheel_holds_the_data_files_themselves(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        sizes = {info.filename: info.file_size for info in archive.infolist()}
    for name in DATA_FILES:  # links in the source tree (chessteach/data/puzzles -> puzzles/), files in the wheel
        assert sizes.get(name, 0) == (ROOT / name).stat().st_size, name
    assert not any(name.startswith(("tests/", "puzzles/", "engines/")) for name in sizes)


def test_the_installed_package_works_outside_the_checkout(venv: Path, run: Callable[..., str], tmp_path: Path) -> None:
    where = run("python", "-c", "import chessteach, chessteach.data as d; print(chessteach.__file__); "
                                "print(d.bundled('games')); print(d.bundled('puzzles'))").split()
    package, games, puzzles = (Path(p) for p in where)
    assert package.is_relative_to(venv) and not package.is_relative_to(ROOT), package
    assert games.is_relative_to(venv) and puzzles.is_relative_to(venv)
    assert Path(str(shutil.which("chessteach", path=f"{venv / 'bin'}:{os.environ['PATH']}"))).is_relative_to(venv)

    analysed = run("chessteach", "analyze", str(games / "candidates-2022-sample.pgn"), "-o", "review",
                   "--nodes", "5000")
    assert "2 game(s) reviewed" in analysed and "Nepomniachtchi, Ian" in analysed
    assert {p.name for p in (tmp_path / "review").iterdir()} >= {"annotated.pgn", "moves.csv", "games.csv",
                                                                  "report.html"}

    tagged = run("chessteach", "puzzles", "tag", str(puzzles / "lichess-sample.csv"), "-o", "tagged.csv")
    assert "tagged puzzles to tagged.csv" in tagged and (tmp_path / "tagged.csv").stat().st_size > 0

    explained = run("chessteach", "explain", "--concept", "outpost")  # the example from the bundled sample
    assert "fact-check:" in explained and "0 false" in explained

    helped = run("chessteach", "exam", "--help", width=400)  # its --puzzles default: the installed sample
    assert f"[default: {puzzles / 'lichess-sample.csv'}]" in helped

    shown = run("chessteach", "exercises", "show", str(puzzles / "positional-exercises.csv"), "--id", "9ccf87e9")
    assert "Best: Nd5" in shown
