"""The project's error classes. Each names the bad input it was given."""


class ChessteachError(Exception):
    """Base class for every error chessteach raises on purpose."""


class EngineNotFoundError(ChessteachError, FileNotFoundError):
    """No chess engine binary could be found."""


class EngineFailedError(ChessteachError, RuntimeError):
    """An engine process died, hung or answered nonsense, twice in a row for one position."""


class BadRecordError(ChessteachError, ValueError):
    """One record of an input file (a puzzle row, a game) is malformed.

    ``source`` names the file, ``line`` the 1-based line where the record starts,
    ``record`` its id (a PuzzleId, a game number) when it has one.
    """

    def __init__(self, message: str, *, source: str = "", line: int | None = None, record: str | None = None):
        self.source = source
        self.line = line
        self.record = record
        self.reason = message
        where = source or "<input>"
        if line is not None:
            where += f":{line}"
        if record is not None:
            where += f" [{record}]"
        super().__init__(f"{where}: {message}")


class UsageError(ChessteachError):
    """Something the user gave (a program, an option, a file) cannot be used; the command line reports it in one
    line and exits with code 2."""


class InputError(UsageError, ValueError):
    """A file or a value the user gave is malformed (a configuration file that is not TOML, ...); the message
    names it and says what is wrong."""


class RecipeError(UsageError, ValueError):
    """A training recipe (``configs/grpo/*.yaml`` and its command-line overrides) asks for what cannot be: an
    unknown or repeated reward, a value out of its range; the message names the key and the valid values."""


class EngineStartError(UsageError, RuntimeError):
    """The engine program did not start as a UCI engine: it could not be run, it exited, it echoed its input, or no
    ``uciok`` came within the handshake timeout. ``path`` is the program."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: not a UCI engine ({reason})")


class EngineOptionError(UsageError, ValueError):
    """A UCI option the engine does not have, or a value it does not accept.

    ``name`` and ``value`` are the option as given, ``reason`` what is wrong with it and what the engine accepts
    (``"Hash accepts an integer 1..33554432"``).
    """

    def __init__(self, name: str, value: object, reason: str) -> None:
        self.name = name
        self.value = value
        self.reason = reason
        super().__init__(f"{name}={value}: {reason}")


class CacheError(UsageError):
    """The analysis cache file cannot be created, opened or read (``path`` names it)."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class ClusterError(UsageError, RuntimeError):
    """``--cluster``: Ray is not installed, the cluster cannot be joined, or a node's engine is not the driver's."""
