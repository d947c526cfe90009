"""Options shared by several commands: the engine options, declared once (:func:`engine_options`) and parsed into
one :class:`EngineSettings`, and the puzzles a command works on (a CSV, or one puzzle given as a FEN; read whole, or
as a stream, :class:`PuzzleStream`)."""

from __future__ import annotations

import functools
import inspect
import itertools
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from chessteach.cli.console import fail, report_skipped
from chessteach.cli.paths import input_file
from chessteach.engine import DEFAULT_NODES, AnalysisCache, EngineConfig, EngineLimit, EnginePool, load_config
from chessteach.engine.process import identify_engine
from chessteach.errors import BadRecordError, ChessteachError, EngineOptionError, EngineStartError
from chessteach.games.budget import AdaptiveBudget
from chessteach.games.filters import game_filter
from chessteach.inputs import input_name
from chessteach.puzzles import LICHESS_COLUMNS, Puzzle, PuzzleError, PuzzleFile, iter_puzzles, read_puzzles
from chessteach.puzzles.filters import puzzle_filter

EngineOpt = Annotated[
    str | None,
    typer.Option("--engine", help="Engine binary (default: $CHESSTEACH_ENGINE, stockfish on PATH, /usr/games/stockfish)."),
]
EngineConfigOpt = Annotated[
    Path | None,
    typer.Option("--engine-config", help="A TOML file like engines/stockfish.toml.", exists=True, dir_okay=False),
]
EngineOptionOpt = Annotated[
    list[str] | None,
    typer.Option("--engine-option", help="A UCI option NAME=VALUE (repeatable), e.g. Hash=128."),
]
NodesOpt = Annotated[int, typer.Option("--nodes", min=1, help="Nodes per position (reproducible with Threads=1).")]
WorkersOpt = Annotated[
    int | None, typer.Option("--workers", "-w", min=1, help="Engine processes (default: one per core).")
]
CacheOpt = Annotated[
    Path | None,
    typer.Option("--cache", help="SQLite analysis cache (default: $CHESSTEACH_CACHE or the user cache dir)."),
]
def checked_cluster(value: str | None) -> str | None:
    """The ``--cluster`` callback: the value, checked by :func:`cluster_address` before any work."""
    if value is not None:
        cluster_address(value)  # a usage error before any work
    return value


ClusterOpt = Annotated[
    str | None,
    typer.Option(
        "--cluster",
        help="Run the engines on Ray: 'ray' joins $RAY_ADDRESS or a cluster started on this machine (else starts a"
        " local one), 'ray://HOST:PORT' goes through Ray Client. One engine per CPU of the cluster. Needs"
        " chessteach[cluster].",
        callback=checked_cluster,
    ),
]
NoCacheOpt = Annotated[bool, typer.Option("--no-cache", help="Do not read or write the analysis cache.")]
GameNumbersOpt = Annotated[
    list[int] | None, typer.Option("--game", "-g", min=1, help="Game number(s) in the file (default: all).")
]

AdaptiveOpt = Annotated[
    bool,
    typer.Option(
        "--adaptive/--fixed",
        help="Adaptive budget: every position at --first-nodes (default --nodes / 8), then deeper, up to --nodes,"
        " only where a judgment could change. --fixed: every position at --nodes.",
    ),
]

FirstNodesOpt = Annotated[
    int | None,
    typer.Option("--first-nodes", min=1, help="The adaptive budget's first search per position (implies --adaptive)."),
]


def review_budget(settings: EngineSettings, adaptive: bool, first_nodes: int | None) -> AdaptiveBudget | None:
    """The review's budget from ``--adaptive`` and ``--first-nodes``: None for a fixed one (every position at
    ``--nodes``). A first step above ``--nodes`` is a usage error."""
    if not adaptive and first_nodes is None:
        return None
    if first_nodes is not None and first_nodes > settings.nodes:
        fail(f"--first-nodes {first_nodes:,} is above --nodes {settings.nodes:,}")
    return AdaptiveBudget(nodes=settings.nodes, first=first_nodes)


@dataclass(frozen=True)
class EngineSettings:
    """The engine options of a command, parsed: the engine and its UCI options, the node limit per position, the
    number of engine processes and the analysis cache. A command decorated with :func:`engine_options` receives
    one; it hands it to the library through :meth:`open_pool` (or :meth:`config` where the library builds its own
    pool, as the benchmarks do)."""

    engine: str | None = None
    engine_config: Path | None = None
    engine_option: tuple[str, ...] = ()
    nodes: int = DEFAULT_NODES
    workers: int | None = None
    cache: Path | None = None
    no_cache: bool = False
    cluster: str | None = None

    @property
    def worker_count(self) -> int:
        """The engine processes: ``--workers``, or one per core."""
        return self.workers or os.cpu_count() or 1

    def config(self, cache: AnalysisCache | None = None) -> EngineConfig:
        """The engine configuration the options describe, checked before any work: the engine is found, answers
        the UCI handshake in time and takes every option (:func:`~chessteach.engine.process.identify_engine`; no
        engine is started for it when ``cache`` knows the binary). Any of these wrong ends the command with one
        line naming it and exit code 2."""
        overrides = parse_engine_options(self.engine_option)
        try:
            config = load_config(self.engine, config_file=self.engine_config, overrides=overrides)
            identify_engine(config, cache)
        except EngineStartError as exc:
            fail(f"--engine {exc}" if self.engine is not None else str(exc))
        except EngineOptionError as exc:
            where = self.engine_config or "engines/stockfish.toml"
            fail(f"--engine-option {exc}" if exc.name in overrides else f"{where}: {exc}")
        except ChessteachError as exc:  # no engine found, an engine config that is not TOML
            fail(str(exc))
        except (OSError, UnicodeDecodeError) as exc:  # an --engine-config that cannot be read as text
            fail(f"--engine-config {exc}")
        return config

    def open_pool(self) -> EnginePool:
        """The engine pool the options describe, its engine and cache checked first (see :meth:`config`)."""
        store = None if self.no_cache else AnalysisCache(self.cache)  # a CacheError ends the command (cli._Commands)
        try:
            config = self.config(store)
        except BaseException:
            if store is not None:
                store.close()
            raise
        limit = EngineLimit(nodes=self.nodes)
        if self.cluster is None:
            return EnginePool(limit=limit, workers=self.workers, config=config, cache=store)
        from chessteach.engine.cluster import RayEnginePool  # Ray only when asked for

        try:
            return RayEnginePool(address=cluster_address(self.cluster), limit=limit, workers=self.workers,
                                 config=config, cache=store)
        except BaseException:
            if store is not None:
                store.close()
            raise


def cluster_address(value: str) -> str | None:
    """The Ray address a ``--cluster`` value names: ``ray`` -> None (Ray finds the cluster), ``ray://HOST:PORT``
    as given; anything else is a usage error.

    >>> cluster_address("ray"), cluster_address("ray://10.0.0.5:10001")
    (None, 'ray://10.0.0.5:10001')
    """
    if value == "ray":
        return None
    if value.startswith("ray://") and value[len("ray://"):].rpartition(":")[2].isdigit():
        return value
    raise typer.BadParameter(f"expected 'ray' or 'ray://HOST:PORT', got {value!r}", param_hint="--cluster")


def parse_engine_options(items: tuple[str, ...] | list[str] | None) -> dict[str, Any]:
    """``["Hash=128", "Threads=1"]`` -> ``{"Hash": 128, "Threads": 1}`` (ints where they parse)."""
    options: dict[str, Any] = {}
    for item in items or ():
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise typer.BadParameter(f"expected NAME=VALUE, got {item!r}", param_hint="--engine-option")
        text = value.strip()
        options[name.strip()] = int(text) if text.lstrip("-").isdigit() else text
    return options


_ENGINE_OPTIONS: dict[str, Any] = {
    "nodes": NodesOpt,
    "workers": WorkersOpt,
    "engine": EngineOpt,
    "engine_config": EngineConfigOpt,
    "engine_option": EngineOptionOpt,
    "cache": CacheOpt,
    "no_cache": NoCacheOpt,
    "cluster": ClusterOpt,
}
"""Each engine option's parameter, in the order ``--help`` lists them; the names are :class:`EngineSettings`'."""
_DEFAULTS: dict[str, Any] = {f.name: f.default for f in fields(EngineSettings)} | {"engine_option": None}
"""Each option's default on the command line (Typer's for a repeatable option is None)."""

_Command = TypeVar("_Command", bound=Callable[..., Any])


def engine_options(
    *, nodes: int | None = DEFAULT_NODES, cache: bool = True, cluster: bool = True
) -> Callable[[_Command], _Command]:
    """Give a command the engine options: it declares a keyword-only ``settings: EngineSettings`` parameter, and
    the command line shows ``--nodes`` (default ``nodes``; ``None``: the command declares its own), ``--workers``,
    ``--engine``, ``--engine-config``, ``--engine-option`` and, with ``cache``, ``--cache`` and ``--no-cache`` in
    its place, and with ``cluster`` (commands that search through :meth:`EngineSettings.open_pool`) ``--cluster``;
    their values reach the command as one :class:`EngineSettings`.

    Put it below the ``@app.command`` that registers the command (it rewrites the signature Typer reads)."""
    names = [
        n for n in _ENGINE_OPTIONS
        if (n != "nodes" or nodes is not None) and (cache or "cache" not in n) and (cluster or n != "cluster")
    ]

    def decorate(command: _Command) -> _Command:
        defaults = {name: nodes if name == "nodes" else _DEFAULTS[name] for name in names}
        signature = _in_place_of(command, "settings", {n: (_ENGINE_OPTIONS[n], defaults[n]) for n in names})

        @functools.wraps(command)
        def with_settings(*args: Any, **kwargs: Any) -> Any:
            given = {name: kwargs.pop(name) for name in names if name in kwargs}
            given["engine_option"] = tuple(given.get("engine_option") or ())
            return command(*args, settings=EngineSettings(**given), **kwargs)

        return _with_signature(with_settings, signature)  # type: ignore[no-any-return]

    return decorate


def _in_place_of(command: Callable[..., Any], name: str, options: dict[str, tuple[Any, Any]]) -> inspect.Signature:
    """The command's signature with the options (name: (annotation, default)) in place of its parameter ``name``."""
    signature = inspect.signature(command, eval_str=True)
    if name not in signature.parameters:
        raise TypeError(f"{command.__name__} takes no {name} parameter")
    kind = signature.parameters[name].kind
    parameters: list[inspect.Parameter] = []
    for parameter in signature.parameters.values():
        if parameter.name != name:
            parameters.append(parameter)
            continue
        for option, (annotation, default) in options.items():
            parameters.append(inspect.Parameter(option, kind, default=default, annotation=annotation))
    return signature.replace(parameters=parameters)


def _with_signature(wrapper: Callable[..., Any], signature: inspect.Signature) -> Any:
    """The wrapper, showing Typer the rewritten signature."""
    wrapper.__signature__ = signature  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in signature.parameters.values()}
    return wrapper


PuzzlesArg = Annotated[
    Path | None,
    typer.Argument(metavar="IN.csv", help="A Lichess puzzle CSV (or give one puzzle with --fen and --solution).",
                   callback=input_file),
]
FenOpt = Annotated[
    str | None, typer.Option("--fen", help="One puzzle: the position the solver faces (instead of IN.csv).")
]
SolutionOpt = Annotated[
    str | None, typer.Option("--solution", help="With --fen: the solution line, UCI or SAN, space separated.")
]


def puzzle_from_command_line(fen: str, solution: list[str], given_as: str, themes: list[str] | None = None) -> Puzzle:
    """The puzzle a FEN and its solution line give (UCI or SAN moves); a bad FEN or move ends the command with
    one line naming the options ``given_as`` (``"--fen/--solution"``) and exit code 2."""
    try:
        return Puzzle.from_solution(fen, solution, themes=themes)
    except PuzzleError as exc:  # a bad FEN, or the puzzle's own check of its moves
        fail(f"{given_as}: {exc}")


def read_puzzle_file(path: Path, what: str = "") -> PuzzleFile:
    """The puzzles of a CSV, its skipped records reported; a file that cannot be read as one ends the command with
    one line (``what`` before the reason, e.g. ``"cannot read puzzles: "``) and exit code 2."""
    try:
        puzzle_file = read_puzzles(path)
    except (BadRecordError, OSError, UnicodeDecodeError) as exc:
        fail(f"{what}{exc}")
    report_skipped(puzzle_file.errors)
    return puzzle_file


@dataclass
class PuzzleStream:
    """The puzzles a command works through, as they are read (:func:`~chessteach.puzzles.iter_puzzles`): a CSV's,
    or the one puzzle given as a FEN. ``columns`` is the file's header; the rows skipped so far collect in
    ``errors`` until :meth:`report_skipped` prints them."""

    path: str
    columns: list[str]
    puzzles: Iterator[Puzzle]
    errors: list[BadRecordError] = field(default_factory=list)

    def report_skipped(self) -> None:
        """Print the rows skipped since the last call, once each."""
        report_skipped(self.errors)
        self.errors.clear()


def load_puzzle_stream(puzzles_csv: Path | None, fen: str | None, solution: str | None) -> PuzzleStream:
    """The puzzles to work on, read as they are used: a CSV file, or one puzzle given as a FEN and its solution.

    Exits with a one-line error when neither or both are given, when the puzzle is bad, or when the file cannot be
    read or its header is bad (its first puzzle is read here, before any work); a bad row is reported and
    skipped.
    """
    if (puzzles_csv is None) == (fen is None):
        raise typer.BadParameter("give a puzzle CSV, or --fen with --solution (not both)")
    if fen is not None:
        if not solution:
            raise typer.BadParameter("--fen needs --solution", param_hint="--solution")
        puzzle = puzzle_from_command_line(fen, solution.split(), "--fen/--solution")
        return PuzzleStream(path="<command line>", columns=list(LICHESS_COLUMNS), puzzles=iter([puzzle]))
    assert puzzles_csv is not None
    errors: list[BadRecordError] = []
    columns: list[str] = []
    puzzles = iter_puzzles(puzzles_csv, errors, columns=columns)
    try:
        first = list(itertools.islice(puzzles, 1))
    except (BadRecordError, OSError, UnicodeDecodeError) as exc:
        fail(str(exc))
    return PuzzleStream(input_name(puzzles_csv), columns, itertools.chain(first, puzzles), errors)


RatingOpt = Annotated[
    str | None, typer.Option("--rating", help="Only puzzles rated in this range, LOW-HIGH (e.g. 1500-2000, 1500-).")
]
ThemeOpt = Annotated[
    list[str] | None, typer.Option("--theme", help="Only puzzles with any of these themes (repeatable), e.g. fork.")
]
AllThemesOpt = Annotated[
    list[str] | None, typer.Option("--all-themes", help="Only puzzles with all of these themes (repeatable).")
]
MinPopularityOpt = Annotated[
    int | None, typer.Option("--min-popularity", min=-100, max=100, help="Only puzzles this popular (Popularity).")
]
MinPlaysOpt = Annotated[int | None, typer.Option("--min-plays", min=0, help="Only puzzles played this often (NbPlays).")]


def filtered_puzzles(
    puzzles: Iterable[Puzzle],
    rating: str | None,
    theme: list[str] | None,
    all_themes: list[str] | None,
    min_popularity: int | None,
    min_plays: int | None,
) -> Iterable[Puzzle]:
    """The puzzles the filter options keep, in their order, as they come (a bad value: one line, exit code 2)."""
    chosen = puzzle_filter(rating, theme or (), all_themes or (), min_popularity, min_plays)
    return chosen.select(puzzles) if chosen.active else puzzles


TimeControlOpt = Annotated[
    list[str] | None,
    typer.Option("--time-control", help="Only games of this speed (bullet, blitz, rapid, classical, by base + 40 × "
                                        "increment) or base seconds LOW-HIGH (repeatable)."),
]
MinEloOpt = Annotated[int | None, typer.Option("--min-elo", min=0, help="Only games where both players are rated this.")]
PlayerOpt = Annotated[
    list[str] | None, typer.Option("--player", help="Only games of a player (any part of a name; repeatable).")
]
ResultOpt = Annotated[
    list[str] | None, typer.Option("--result", help="Only games with this result: 1-0, 0-1, 1/2-1/2 (repeatable).")
]


_GAME_FILTER_OPTIONS: dict[str, Any] = {
    "time_control": TimeControlOpt,
    "min_elo": MinEloOpt,
    "player": PlayerOpt,
    "result": ResultOpt,
}
"""Each game filter option's parameter, in the order ``--help`` lists them."""


def game_filter_options(*, player: bool = True) -> Callable[[_Command], _Command]:
    """Give a command the game filter options: it declares a keyword-only ``only: GameFilter | None`` parameter,
    and the command line shows ``--time-control``, ``--min-elo``, ``--player`` (unless ``player`` is False: the
    command has its own) and ``--result`` in its place; they reach the command as one :class:`GameFilter`, or
    None when none is given (a bad value: one line, exit code 2).

    Put it below :func:`engine_options` (it rewrites the signature that one reads)."""
    names = [n for n in _GAME_FILTER_OPTIONS if player or n != "player"]

    def decorate(command: _Command) -> _Command:
        signature = _in_place_of(command, "only", {name: (_GAME_FILTER_OPTIONS[name], None) for name in names})

        @functools.wraps(command)
        def with_filter(*args: Any, **kwargs: Any) -> Any:
            given = {name: kwargs.pop(name, None) or () for name in names}
            chosen = game_filter(given["time_control"], given["min_elo"] or None, given.get("player", ()),
                                 given["result"])
            return command(*args, only=chosen if chosen.active else None, **kwargs)

        return _with_signature(with_filter, signature)  # type: ignore[no-any-return]

    return decorate
