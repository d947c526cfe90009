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
