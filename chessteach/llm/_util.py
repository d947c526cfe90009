"""Small helpers the backends share: spec options, stop strings, one-line error reasons."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from chessteach.llm.base import ModelSpecError

logger = logging.getLogger(__name__)

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


def split_options(target: str, valid: Iterable[str], *, spec: str) -> tuple[str, dict[str, str]]:
    """Split ``PATH?key=value&...`` into the path and its options; unknown keys raise :class:`ModelSpecError`.

    >>> split_options("models/tiny?trust_remote_code=1", ["trust_remote_code"], spec="hf:models/tiny")
    ('models/tiny', {'trust_remote_code': '1'})
    """
    path, _, query = target.partition("?")
    options = dict(parse_qsl(query, keep_blank_values=True))
    valid_names = sorted(valid)
    unknown = sorted(set(options) - set(valid_names))
    if unknown:
        raise ModelSpecError(
            f"bad model spec {spec!r}: unknown option(s) {', '.join(unknown)}; valid options: {', '.join(valid_names)}"
        )
    if not path:
        raise ModelSpecError(f"bad model spec {spec!r}: no model named before '?'")
    return path, options


def option_bool(options: Mapping[str, str], name: str, default: bool, *, spec: str) -> bool:
    """A yes/no option (``1``/``0``, ``true``/``false``, ``yes``/``no``, ``on``/``off``)."""
    if name not in options:
        return default
    value = options[name].strip().lower()
    if value in TRUE_WORDS or value == "":
        return True
    if value in FALSE_WORDS:
        return False
    raise ModelSpecError(f"bad model spec {spec!r}: option {name}={options[name]!r} is not a yes/no value (1 or 0)")


def option_int(options: Mapping[str, str], name: str, default: int, *, spec: str, minimum: int = 1) -> int:
    """A whole-number option, at least ``minimum``."""
    if name not in options:
        return default
    try:
        value = int(options[name])
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise ModelSpecError(
            f"bad model spec {spec!r}: option {name}={options[name]!r} must be an integer >= {minimum}"
        )
    return value


def truncate_at_stop(text: str, stop: Iterable[str]) -> str:
    """Cut ``text`` at the earliest stop string (the stop string itself is dropped).

    >>> truncate_at_stop("1. e4 e5\\n2. Nf3", ["\\n"])
    '1. e4 e5'
    """
    cut = len(text)
    for s in stop:
        if s:
            at = text.find(s)
            if 0 <= at < cut:
                cut = at
    return text[:cut]


def one_line(exc: BaseException, limit: int = 300) -> str:
    """The first non-empty line of an exception's message (the class name where there is none)."""
    for line in str(exc).splitlines():
        line = line.strip()
        if line:
            return line if len(line) <= limit else line[: limit - 3] + "..."
    return type(exc).__name__


def continuation_token_ids(
    tokenizer: Any, prompt_text: str, continuation: str, *, add_special_tokens: bool
) -> tuple[list[int], list[int]]:
    """The prompt's tokens and the continuation's tokens after them.

    The prompt is tokenized alone, exactly as a model sees it when it generates. The continuation's tokens are
    those of ``prompt + continuation`` after the prompt's where that joint tokenization starts with the prompt's
    tokens; where a token would straddle the boundary, the continuation is tokenized alone. Either way the
    continuation's tokens decode to exactly the continuation.
    """
    prompt_ids: list[int] = list(tokenizer(prompt_text, add_special_tokens=add_special_tokens)["input_ids"])
    if not continuation:
        return prompt_ids, []
    joint: list[int] = list(tokenizer(prompt_text + continuation, add_special_tokens=add_special_tokens)["input_ids"])
    if joint[: len(prompt_ids)] == prompt_ids and len(joint) > len(prompt_ids):
        return prompt_ids, joint[len(prompt_ids) :]
    logger.debug("a token straddles the prompt/continuation boundary; tokenizing the continuation alone")
    return prompt_ids, list(tokenizer(continuation, add_special_tokens=False)["input_ids"])
