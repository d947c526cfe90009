"""File names made from data (a PuzzleId, a theme), which must never lead out of the directory they are for.

>>> safe_file_name("00008")
'00008'
>>> safe_file_name("../../etc/passwd")
'etc_passwd-936d7c04'
>>> file_in(Path("boards"), "/abs/path", ".svg")
PosixPath('boards/abs_path-16a4cd88.svg')
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

MAX_NAME = 80
"""Characters kept from the text (a name stays well under the 255 bytes file systems allow)."""

_UNSAFE = re.compile(r"[^\w.-]+", re.ASCII)
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


def safe_file_name(text: str) -> str:
    """A file name for ``text``: itself when it is a plain name (ASCII letters, digits, ``_``, ``-``, ``.``, not
    starting or ending with a dot, at most :data:`MAX_NAME` characters); otherwise the plain part with the rest replaced
    by ``_`` and a hash of the whole text added, so that different texts keep different names. The result has
    no path separator, is never ``.``, ``..`` or empty, and never names a device on Windows.
    """
    name = _UNSAFE.sub("_", text).strip("._")[:MAX_NAME]
    if name and name == text and name.split(".")[0].upper() not in _RESERVED:
        return name
    digest = hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{name}-{digest}" if name else f"_-{digest}"


def file_in(directory: Path, text: str, suffix: str = "") -> Path:
    """``directory / (safe_file_name(text) + suffix)``; raises ``ValueError`` if that could leave ``directory``
    (it cannot: a check, not a filter)."""
    path = directory / (safe_file_name(text) + suffix)
    if path.parent != directory:
        raise ValueError(f"file name {text!r} leaves {directory}")
    return path


__all__ = ["MAX_NAME", "file_in", "safe_file_name"]
