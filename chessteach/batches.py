"""Working through a stream of records a batch at a time, so memory holds one batch however long the stream.

The commands that read Lichess's database files (millions of puzzles or games) hand the engine a batch of records
at a time and write each batch's results before reading the next: :func:`batched` cuts the stream,
:func:`map_batches` does the work on each batch and keeps one progress count over all of them.

>>> list(batched("abcde", 2))
[['a', 'b'], ['c', 'd'], ['e']]
>>> seen = []
>>> def lengths(batch, progress, done):
...     progress(len(batch), len(batch))
...     return [len(word) for word in batch]
>>> [pairs for pairs in map_batches(["a", "bb", "ccc"], lengths, size=2, progress=lambda d, t: seen.append((d, t)))]
[[('a', 1), ('bb', 2)], [('ccc', 3)]]
>>> seen
[(2, 2), (3, 3)]
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TypeVar

_T = TypeVar("_T")
_R = TypeVar("_R")

Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)``."""
Done = Callable[[int], None]
"""Called as ``done(index)`` as an item is done."""


def batched(items: Iterable[_T], size: int) -> Iterator[list[_T]]:
    """Lists of ``size`` items (the last one shorter), in order; an item is drawn only when its batch is made."""
    if size < 1:
        raise ValueError(f"a batch holds at least one item, not {size}")
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


class RunningProgress:
    """One ``progress(done, total)`` over several calls that each count from zero: call it as each call's
    callback, and :meth:`next_call` between them; ``total`` grows by each call's total as it becomes known."""

    def __init__(self, progress: Progress | None) -> None:
        self._progress = progress
        self._before = 0  # the totals of the calls before
        self._total = 0  # this call's total, as last reported

    def __call__(self, done: int, total: int) -> None:
        self._total = total
        if self._progress is not None:
            self._progress(self._before + done, self._before + total)

    def next_call(self) -> None:
        """The call that reported last is over; the next one counts from zero."""
        self._before += self._total
        self._total = 0


def stage_progress(progress: Callable[[str, int, int], None] | None, stage: str) -> Progress | None:
    """One stage's ``progress(done, total)`` from a multi-stage job's ``progress(stage, done, total)`` (None
    without one).

    >>> seen = []
    >>> stage_progress(lambda *args: seen.append(args), "lines")(1, 8); seen
    [('lines', 1, 8)]
    """
    if progress is None:
        return None
    return lambda done, total: progress(stage, done, total)


def map_batches(
    items: Iterable[_T],
    work: Callable[[list[_T], Progress, Done | None], Sequence[_R]],
    *,
    size: int,
    progress: Progress | None = None,
    on_done: Done | None = None,
) -> Iterator[list[tuple[_T, _R]]]:
    """``work(batch, progress, done)`` on each batch of up to ``size`` items, in order: yields each batch's items
    with their results (``work`` returns one per item). The ``progress`` each call gets counts from zero; the
    caller's ``progress(done, total)`` runs on over every batch so far (:class:`RunningProgress`). ``done(index)``,
    given when ``on_done`` is, takes an item's index in the batch and calls ``on_done`` with its index in the
    stream."""
    running = RunningProgress(progress)
    started = 0

    def done(index: int) -> None:
        assert on_done is not None
        on_done(started + index)

    for batch in batched(items, size):
        results = work(batch, running, done if on_done is not None else None)
        if len(results) != len(batch):
            raise ValueError(f"expected {len(batch)} results, got {len(results)}")
        running.next_call()
        started += len(batch)
        yield list(zip(batch, results, strict=True))
