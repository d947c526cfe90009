"""Opening an input file (PGN, a puzzle CSV) as a stream of bytes: a plain file, a zstd-compressed one, or stdin.

``-`` is standard input. A file whose name ends in ``.zst`` or whose data starts with zstd's magic number is
decompressed as it is read, frame after frame and at most a KiB of compressed data at a time (less where the
data expands more, so that one call gives about 128 KiB), so memory stays flat however large the file and
however well it compresses. The readers decode
the bytes themselves, each with its own policy (:mod:`chessteach.games.read` a game at a time,
:mod:`chessteach.puzzles.lichess_csv` a line at a time). Damaged or cut-off compressed data raises
:class:`~chessteach.errors.InputError` naming the file and the byte offset; what was read before it stands.

>>> import tempfile, pathlib, zstandard
>>> folder = tempfile.TemporaryDirectory()
>>> path = pathlib.Path(folder.name) / "a.pgn.zst"
>>> _ = path.write_bytes(zstandard.ZstdCompressor().compress(b"1. e4 e5 *\\n"))
>>> with open_input(path) as fh:
...     fh.read()
b'1. e4 e5 *\\n'
>>> folder.cleanup()
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO, cast

import zstandard

from chessteach.errors import InputError

STDIN = "-"
"""The path that means standard input."""

ZSTD_SUFFIX = ".zst"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_CHUNK = 1 << 16
_FEED = 1 << 10
"""The most compressed bytes given to the decoder at once."""
_MIN_FEED = 8
"""The fewest (for data that expands a thousandfold and more)."""
_OUTPUT = 1 << 17
"""The decompressed bytes one call aims at: the feed shrinks when a call gave more."""


def input_name(path: str | os.PathLike[str]) -> str:
    """How an input is named in messages: ``<stdin>`` for ``-``, else the path."""
    source = os.fspath(path)
    return "<stdin>" if source == STDIN else source


class _ZstdRaw(io.RawIOBase):
    """Decompressed bytes of a zstd stream, frame after frame; bad or cut-off data raises :class:`InputError`."""

    def __init__(self, handle: BinaryIO, name: str) -> None:
        self._handle = handle
        self._name = name
        self._offset = 0  # compressed bytes read so far
        self._buffer = b""  # decompressed bytes, handed out from _start on
        self._start = 0
        self._feed = _MIN_FEED  # compressed bytes the next call takes: small at first, then what the data allows
        self._largest = 0  # the most bytes one call has decompressed (what the buffer holds at its peak)
        self._pending = b""  # compressed bytes of the next frame, not yet fed
        self._decoder: zstandard.ZstdDecompressionObj | None = None
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        while self._start >= len(self._buffer) and not self._done:
            self._fill()
        size = min(len(buffer), len(self._buffer) - self._start)
        buffer[:size] = memoryview(self._buffer)[self._start : self._start + size]  # no copy of the rest
        self._start += size
        return size

    def _fill(self) -> None:
        if not self._pending:
            self._pending = self._handle.read(_CHUNK)
            if not self._pending:
                if self._decoder is not None and not self._decoder.eof:
                    raise InputError(f"{self._name}: zstd data cut off at byte {self._offset} (the file is truncated)")
                self._done = True
                return
        # a small slice at a time, smaller the more the data expands: what one call decompresses stays near
        # _OUTPUT even for very repetitive data (a few bytes of zstd can stand for a 128 KiB block)
        data, self._pending = self._pending[: self._feed], self._pending[self._feed :]
        at = self._offset
        self._offset += len(data)
        if self._decoder is None:
            self._decoder = zstandard.ZstdDecompressor().decompressobj()
        try:
            self._buffer = self._decoder.decompress(data)
            self._start = 0
            self._largest = max(self._largest, len(self._buffer))
            fitting = _OUTPUT * len(data) // max(1, len(self._buffer))  # the feed that would have given _OUTPUT
            self._feed = max(_MIN_FEED, min(_FEED, 2 * len(data), fitting))  # at most doubling from one call to the next
        except zstandard.ZstdError as exc:
            raise InputError(f"{self._name}: damaged zstd data near byte {at}: {exc}") from None
        if self._decoder.eof:  # a frame ended: the bytes after it start the next one
            unused = self._decoder.unused_data
            self._offset -= len(unused)
            self._pending = unused + self._pending
            self._decoder = None


@contextmanager
def open_input(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """The bytes of ``path`` (``-``: standard input), decompressed when they are zstd (see the module doc).

    Raises ``OSError`` when the file cannot be opened, :class:`InputError` on damaged zstd data (while reading).
    """
    source = os.fspath(path)
    name = input_name(source)
    owned = source != STDIN
    raw: BinaryIO = open(source, "rb") if owned else sys.stdin.buffer  # noqa: SIM115 - closed below
    try:
        handle = raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(cast(io.RawIOBase, raw))
        if source.endswith(ZSTD_SUFFIX) or handle.peek(4)[:4] == ZSTD_MAGIC:
            yield io.BufferedReader(_ZstdRaw(handle, name), _CHUNK)
        else:
            yield handle
    finally:
        if owned:
            raw.close()
