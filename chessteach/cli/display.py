"""Rich progress bars for the library's ``progress(done, total)`` callbacks, all with the same columns
(:func:`bar_columns`: what is done, out of how many, how many a second, the time taken and left), and the bars of
a command that streams records (:class:`StreamBars`: records read and worked on, and the engine's positions)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TypeVar

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from chessteach.cli.console import err

_T = TypeVar("_T")


class RateColumn(ProgressColumn):
    """How many of a task's items are done a second, in its unit: ``12,345 rows/s`` (the task's ``unit`` field)."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        if speed is None:
            return Text("", style="progress.data.speed")
        return Text(f"{speed:,.0f} {task.fields.get('unit', 'items')}/s", style="progress.data.speed")


def bar_columns() -> tuple[ProgressColumn, ...]:
    """The columns of every progress bar: what, the bar, done/total, the rate (:class:`RateColumn`), the time
    taken and the time left."""
    return (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), RateColumn(),
            TimeElapsedColumn(), TimeRemainingColumn())


def progress(*, transient: bool = False) -> Progress:
    """A Rich progress display on stderr with :func:`bar_columns`."""
    return Progress(*bar_columns(), console=err, transient=transient)


@contextmanager
def progress_bar(description: str, unit: str = "positions") -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr; yields the callback to hand to the library."""
    with progress() as bar:
        task = bar.add_task(description, total=None, unit=unit)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


@contextmanager
def stage_bars(
    descriptions: dict[str, str], units: Mapping[str, str] | None = None
) -> Iterator[Callable[[str, int, int], None]]:
    """One progress bar per stage of a multi-stage job, on stderr; yields ``update(stage, done, total)``.
    ``descriptions`` names the stages (an unknown stage shows its own name), ``units`` what each counts
    (positions unless it says otherwise)."""
    with progress() as bar:
        tasks: dict[str, TaskID] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                unit = (units or {}).get(stage, "positions")
                tasks[stage] = bar.add_task(descriptions.get(stage, stage), total=total, unit=unit)
            bar.update(tasks[stage], completed=done, total=total)

        yield update


class StreamBars:
    """The bars of a command that works through a stream of records (games, puzzles) a batch at a time: the
    records done, with their rate, out of the records read once the reader has reached the end of its file
    (:meth:`counted`), and, when ``positions`` names it, the engine's positions (:meth:`positions`, the library's
    callback). :meth:`paused` hides the bars while a batch's results are printed on stdout."""

    def __init__(self, bar: Progress, records: str, unit: str, positions: str | None = None) -> None:
        self.bar = bar
        self._records = bar.add_task(records, total=None, unit=unit)
        self._positions = bar.add_task(positions, total=None, unit="positions") if positions else None
        self.read = 0
        """Records drawn from the stream so far."""
        self.done = 0
        """Records worked on so far."""

    def counted(self, records: Iterable[_T]) -> Iterator[_T]:
        """The records, counted as they are drawn; at their end the records bar gets its total."""
        for record in records:
            self.read += 1
            yield record
        self.bar.update(self._records, total=self.read)

    def advance(self, count: int = 1) -> None:
        """``count`` more records done."""
        self.done += count
        self.bar.update(self._records, completed=self.done)

    def positions(self, done: int, total: int) -> None:
        """The library's ``progress(done, total)`` for the engine's positions."""
        if self._positions is not None:
            self.bar.update(self._positions, completed=done, total=total)

    @contextmanager
    def paused(self) -> Iterator[None]:
        """The bars hidden while the block prints (stdout and the bars' stderr may be one terminal)."""
        self.bar.stop()
        try:
            yield
        finally:
            self.bar.start()


@contextmanager
def stream_bars(
    records: str, unit: str, positions: str | None = None, *, transient: bool = False
) -> Iterator[StreamBars]:
    """:class:`StreamBars` on stderr, for the length of the block (``transient``: gone at its end)."""
    with progress(transient=transient) as bar:
        yield StreamBars(bar, records, unit, positions)
