"""pytest's settings for the whole checkout: the package's doctests (``--doctest-modules`` over ``chessteach``,
see pyproject.toml) and the tests in ``tests/`` (their fixtures are in ``tests/conftest.py``)."""

from __future__ import annotations

import importlib.util

import pytest

TRAIN_ONLY = ["chessteach/rl/config.py", "chessteach/rl/metrics.py", "chessteach/rl/train.py"]
"""Modules that import TRL or transformers as they load: their doctests need the [train] extra."""

collect_ignore = [] if all(importlib.util.find_spec(m) for m in ("trl", "transformers")) else TRAIN_ONLY


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test or doctest touches the user's real analysis cache (nor the exam cache, which goes beside it)."""
    monkeypatch.setenv("CHESSTEACH_CACHE", str(tmp_path_factory.mktemp("cache") / "analysis.sqlite"))
