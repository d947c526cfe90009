"""The command line's shape: one module per command, the engine options declared once, and exit code 2 with one
line naming the bad input for every usage error (see the exit codes in :mod:`chessteach.cli`)."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from chessteach.cli import COMMANDS, app
from chessteach.cli.options import EngineSettings

ENGINE_OPTIONS = ("--nodes", "--workers", "--engine", "--engine-config", "--engine-option", "--cache", "--no-cache")
ENGINE_COMMANDS = ("analyze", "evals", "explain", "puzzles verify", "puzzles mine", "exercises mine")
"""The commands that take every engine option."""


def _command(path: str) -> Any:
    """The click command at ``path`` (typer's own copy of click, or click, by version)."""
    command: Any = typer.main.get_command(app)
    for name in path.split():
        command = command.commands[name]
    return command


def _options(path: str) -> dict[str, Any]:
    return {p.opts[0]: p for p in _command(path).params if p.param_type_name == "option"}


def test_each_command_lives_in_the_module_of_its_name() -> None:
    root = _command("")
    assert sorted(root.commands) == sorted(c.name for c in COMMANDS)
    for command in COMMANDS:
        module = importlib.import_module(f"chessteach.cli.{command.name}")
        if isinstance(command.target, typer.Typer):
            callbacks = [c.callback for c in command.target.registered_commands]
            assert callbacks and {c.__module__ for c in callbacks if c is not None} == {module.__name__}
        else:
            assert command.target.__module__ == module.__name__


@pytest.mark.parametrize("path", ENGINE_COMMANDS)
def test_the_engine_options_are_the_same_everywhere(path: str) -> None:
    reference, options = _options("analyze"), _options(path)
    for name in ENGINE_OPTIONS:
        assert options[name].help == reference[name].help, (path, name)
        if name != "--nodes":
            assert options[name].default == reference[name].default, (path, name)


def test_the_options_reach_the_command_as_one_settings_object(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen: list[EngineSettings] = []

    def open_pool(self: EngineSettings) -> None:
        seen.append(self)
        raise typer.Exit(0)

    monkeypatch.setattr(EngineSettings, "open_pool", open_pool)
    pgn = tmp_path / "one.pgn"
    pgn.write_text('[Event "?"]\n[Result "1-0"]\n\n1. e4 e5 2. Qh5 Nc6 3. Bc4 Nf6 4. Qxf7# 1-0\n', encoding="utf-8")
    args = ["evals", str(pgn), "--nodes", "1234", "-w", "3", "--engine", "sf", "--engine-option", "Hash=16",
            "--engine-option", "Threads=1", "--cache", str(tmp_path / "c.sqlite")]
    result = CliRunner().invoke(app, args)
    assert seen == [
        EngineSettings(engine="sf", engine_option=("Hash=16", "Threads=1"), nodes=1234, workers=3,
                       cache=tmp_path / "c.sqlite")
    ], result.output


@pytest.fixture
def pgn(pgn_dir: Path) -> Path:
    return pgn_dir / "candidates-2022-sample.pgn"


USAGE_ERRORS = {
    "a missing file": (["analyze", "{tmp}/missing.pgn"], "missing.pgn"),
    "a file without a game": (["analyze", "{tmp}/binary.pgn", "--no-cache"], "no game to analyse"),
    "a directory for a file": (["puzzles", "mine", "{pgn}", "-o", "{tmp}"], "is a directory"),
    "a bad --nodes": (["evals", "{pgn}", "--nodes", "0"], "--nodes"),
    "a bad --workers": (["puzzles", "verify", "{csv}", "-w", "0"], "--workers"),
    "a missing puzzle file": (["puzzles", "verify", "{tmp}/missing.csv"], "missing.csv"),
    "a bad FEN": (["puzzles", "tag", "--fen", "8/8/8 w", "--solution", "e2e4"], "'8/8/8'"),
    "an unknown concept to explain": (["explain", "--concept", "forkk"], "forkk"),
    "an unknown concept to examine": (["exam", "--student", "smollm2", "--themes", "forkk"], "forkk"),
    "a bad rating band": (["exam", "--student", "smollm2", "--themes", "fork", "--rating", "high"], "high"),
    "a puzzle file for exercises": (["exercises", "show", "{csv}"], "no Distractors column"),
    "an engine that is none": (["evals", "{pgn}", "--engine", "{tmp}/no-such-engine", "--no-cache"], "no-such-engine"),
    "an engine config that is not TOML": (["evals", "{pgn}", "--engine-config", "{tmp}/bad.toml", "--no-cache"],
                                          "bad TOML"),
    "an engine option the engine lacks": (["evals", "{pgn}", "--engine-option", "Hashh=16", "--no-cache"], "Hashh"),
    "a benchmark's engine": (["bench", "review", "--engine", "{tmp}/no-such-engine"], "no-such-engine"),
}


@pytest.mark.parametrize("case", USAGE_ERRORS)
def test_a_usage_error_exits_2_in_one_line_naming_it(case: str, tmp_path: Path, pgn: Path, lichess_csv: Path) -> None:
    (tmp_path / "binary.pgn").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "bad.toml").write_text("[options\nHash = ", encoding="utf-8")
    args, named = USAGE_ERRORS[case]
    filled = [a.format(tmp=tmp_path, pgn=pgn, csv=lichess_csv) for a in args]
    result = CliRunner().invoke(app, filled)
    assert result.exit_code == 2, (case, result.output)
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit), (case, result.exception)
    assert named in " ".join(result.output.replace("│", " ").split()), (case, result.output)  # click's box unwrapped
