"""Finding the engine binary and the UCI options it is run with (``engines/stockfish.toml``)."""

from __future__ import annotations

import logging
import os
import platform
import shutil
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from chessteach.errors import EngineNotFoundError

logger = logging.getLogger(__name__)

ENGINE_ENV = "CHESSTEACH_ENGINE"


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
        raise ValueError(f"{config_file or 'engines/stockfish.toml'}: bad TOML: {exc}") from exc
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
