"""Finding the engine binary and the UCI options it is run with (``engines/stockfish.toml``)."""

from __future__ import annotations

import logging
import os
import platform
import shutil
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import chess.engine

from chessteach.errors import EngineNotFoundError, EngineOptionError, InputError

logger = logging.getLogger(__name__)

ENGINE_ENV = "CHESSTEACH_ENGINE"

PER_SEARCH_OPTIONS = frozenset({"multipv", "ponder"})
"""Options chessteach sets for each search itself; given in a configuration, they are left out."""


def _default_config_text() -> str:
    """The bundled ``engines/stockfish.toml`` (``chessteach/data/stockfish.toml`` links to it)."""
    return resources.files("chessteach.data").joinpath("stockfish.toml").read_text()


@dataclass(frozen=True)
class EngineConfig:
    """Where the engine is and how it is configured.

    ``options`` are UCI options sent once per process (``Threads``, ``Hash``, ...). ``timeout`` is how
    many seconds one search may run before its process counts as hung.
    """

    path: str
    options: dict[str, Any] = field(default_factory=dict)
    timeout: float = 60.0

    @property
    def options_key(self) -> str:
        """The options as a stable string, part of every cache key (they can change the engine's results)."""
        return " ".join(f"{k}={self.options[k]}" for k in sorted(self.options))

    @property
    def uci_options(self) -> dict[str, Any]:
        """The options sent to each new process (those of :data:`PER_SEARCH_OPTIONS` left out)."""
        return {k: v for k, v in self.options.items() if k.lower() not in PER_SEARCH_OPTIONS}


def describe_option(option: chess.engine.Option) -> str:
    """What an engine option accepts, in words.

    >>> describe_option(chess.engine.Option("Hash", "spin", 16, 1, 1024, None))
    'an integer 1..1024'
    """
    if option.type == "spin":
        return f"an integer {option.min}..{option.max}"
    if option.type == "check":
        return "true or false"
    if option.type == "combo":
        return f"one of {', '.join(option.var or [])}"
    if option.type == "button":
        return "no value (it is a button)"
    return "a string on one line"


def check_options(
    options: Mapping[str, Any], available: Mapping[str, chess.engine.Option], *, engine: str = "the engine"
) -> dict[str, Any]:
    """``options`` as the engine takes them (integers for spins, booleans for checks), checked against the option
    list the engine itself announced (``available``, python-chess's ``engine.options``; names are case-insensitive).

    Raises :class:`EngineOptionError` naming the first option the engine does not have, or whose value it does not
    accept, and what it accepts.

    >>> hash_ = chess.engine.Option("Hash", "spin", 16, 1, 1024, None)
    >>> check_options({"hash": "32"}, {"Hash": hash_})
    {'hash': 32}
    >>> check_options({"Hash": 0}, {"Hash": hash_})
    Traceback (most recent call last):
    ...
    chessteach.errors.EngineOptionError: Hash=0: Hash accepts an integer 1..1024
    """
    by_name = {name.lower(): option for name, option in available.items()}
    checked: dict[str, Any] = {}
    for name, value in options.items():
        option = by_name.get(name.lower())
        if option is None:
            raise EngineOptionError(name, value, f"{engine} has no option {name!r} (it has: {', '.join(available)})")
        if option.is_managed():
            raise EngineOptionError(name, value, f"{option.name} is set by chessteach for each search")
        checked[name] = _option_value(option, name, value)
    return checked


def _option_value(option: chess.engine.Option, name: str, value: Any) -> Any:
    wrong = EngineOptionError(name, value, f"{option.name} accepts {describe_option(option)}")
    if option.type == "check":
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "false"):
            return str(value).lower() == "true"
        raise wrong
    if option.type == "spin" and (isinstance(value, bool) or not str(value).strip().lstrip("-").isdigit()):
        raise wrong
    try:
        return option.parse(value)
    except chess.engine.EngineError:
        raise wrong from None


def load_config(
    engine: str | os.PathLike[str] | None = None,
    *,
    config_file: str | os.PathLike[str] | None = None,
    overrides: dict[str, Any] | None = None,
) -> EngineConfig:
    """Find the engine and read its options.

    The binary is, in order: ``engine``, ``$CHESSTEACH_ENGINE``, the candidates of the config file
    (``stockfish`` on PATH, ``/usr/games/stockfish``, ...). Options come from the config file
    (by default the bundled ``engines/stockfish.toml``), then ``overrides``.

    Raises :class:`EngineNotFoundError` with the install line for this system when nothing is found.
    """
    text = Path(config_file).read_text() if config_file else _default_config_text()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{config_file or 'engines/stockfish.toml'}: bad TOML: {exc}") from exc
    options = dict(data.get("options", {}))
    options.update(overrides or {})
    section = data.get("engine", {})
    path = find_engine(engine, candidates=section.get("candidates"), install=data.get("install", {}))
    return EngineConfig(path=path, options=options, timeout=float(section.get("timeout", 60)))


def install_hint(install: dict[str, str] | None = None) -> str:
    """The line that installs Stockfish on this system."""
    install = install or {}
    system = platform.system()
    if system == "Linux" and (Path("/etc/debian_version").exists() or shutil.which("apt-get")):
        return install.get("debian", "sudo apt-get install -y stockfish")
    if system == "Darwin":
        return install.get("macos", "brew install stockfish")
    return install.get("other", "install Stockfish and pass --engine PATH (or set CHESSTEACH_ENGINE)")


def find_engine(
    engine: str | os.PathLike[str] | None = None,
    *,
    candidates: list[str] | None = None,
    install: dict[str, str] | None = None,
) -> str:
    """Return the absolute path of an executable engine, or raise :class:`EngineNotFoundError`."""
    explicit = engine if engine is not None else os.environ.get(ENGINE_ENV) or None
    if explicit is not None:
        found = shutil.which(str(explicit))
        if found is None:
            origin = "--engine" if engine is not None else f"${ENGINE_ENV}"
            raise EngineNotFoundError(
                f"engine {str(explicit)!r} (from {origin}) is not an executable file; "
                f"install Stockfish with: {install_hint(install)}"
            )
        return os.path.abspath(found)
    for candidate in candidates or ["stockfish", "/usr/games/stockfish"]:
        found = shutil.which(candidate)
        if found is not None:
            logger.debug("engine found at %s", found)
            return os.path.abspath(found)
    raise EngineNotFoundError(
        f"no chess engine found (tried --engine, ${ENGINE_ENV}, {', '.join(candidates or [])}); "
        f"install Stockfish with: {install_hint(install)}"
    )
