"""The architecture page stays true: the import layers hold, and the page names every module and only real files."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "architecture.md"
PATH = re.compile(r"`((?:chessteach|tests|configs|engines|puzzles|docs)/[\w./*-]+)`")
PACKAGES = ("cli", "rl", "study", "teaching", "exercises", "puzzles", "games", "concepts", "engine", "llm", "data")
MODULE = re.compile(r"`((?:" + "|".join(PACKAGES) + r")/[\w/]+\.py)`")
"""A module inside the package may be named without the leading ``chessteach/`` (``engine/pool.py``)."""


def _named_paths() -> set[str]:
    text = PAGE.read_text(encoding="utf-8")
    modules = {f"chessteach/{m}" for m in MODULE.findall(text)}
    return modules | {p for p in PATH.findall(text) if not MODULE.fullmatch(f"`{p}`")}


def _lint_imports() -> str:
    found = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    if not Path(found).exists():
        pytest.fail("lint-imports is not installed: it comes with the [dev] extra (import-linter)")
    return found


def test_the_import_contracts_are_kept() -> None:
    done = subprocess.run([_lint_imports()], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_every_path_the_page_names_exists() -> None:
    missing = []
    for name in sorted(_named_paths()):
        matches = list(ROOT.glob(name)) if "*" in name else [ROOT / name.rstrip("/")]
        if not any(m.exists() for m in matches):
            missing.append(name)
    assert not missing, f"docs/architecture.md names files that do not exist: {missing}"


def test_the_page_says_what_every_module_holds() -> None:
    named = _named_paths()
    modules = sorted(
        str(p.relative_to(ROOT))
        for p in (ROOT / "chessteach").rglob("*.py")
        if p.name not in {"__init__.py", "__main__.py"}
    )
    unnamed = [m for m in modules if m not in named]
    assert not unnamed, f"docs/architecture.md does not say what these modules hold: {unnamed}"
