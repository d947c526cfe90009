"""The fixed structure of a concept explanation: four Markdown sections, rendered and parsed.

Every explanation, from the template explainer or from a teacher model, has the same four sections, in this
order: ``What it is``, ``How to spot it``, ``Worked example`` and ``Common mistakes``. :func:`render_sections`
writes them as ``## `` headings; :func:`parse_sections` reads them back from whatever a model wrote, coping
with other heading levels, bold headings, numbered headings, trailing colons and text on the heading line.
An :class:`Explanation` is one text in this structure, with the facts it is grounded in and who wrote it.

>>> text = "## What it is\\nA fork.\\n\\n**How to spot it:** two targets.\\n"
>>> parse_sections(text)["How to spot it"]
'two targets.'
>>> missing_sections(parse_sections(text))
('Worked example', 'Common mistakes')
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from chessteach.concepts.facts import Fact
from chessteach.llm.base import Message

WHAT_IT_IS = "What it is"
HOW_TO_SPOT = "How to spot it"
WORKED_EXAMPLE = "Worked example"
COMMON_MISTAKES = "Common mistakes"
SECTIONS: tuple[str, ...] = (WHAT_IT_IS, HOW_TO_SPOT, WORKED_EXAMPLE, COMMON_MISTAKES)
"""The four sections of every explanation, in order."""

EXAMPLE_MARK = "### Example"
"""How one of several worked examples starts: ``### Example 2: ...`` on a line of its own (a sub-heading of
"Worked example", not a section heading)."""

GENERAL_SECTIONS: tuple[str, ...] = (WHAT_IT_IS, HOW_TO_SPOT, COMMON_MISTAKES)
"""Sections about the concept in general; only the worked example must be about the example position."""

_ALIASES: dict[str, str] = {
    "what it is": WHAT_IT_IS,
    "what is it": WHAT_IT_IS,
    "definition": WHAT_IT_IS,
    "how to spot it": HOW_TO_SPOT,
    "how to spot": HOW_TO_SPOT,
    "how to recognise it": HOW_TO_SPOT,
    "how to recognize it": HOW_TO_SPOT,
    "worked example": WORKED_EXAMPLE,
    "example": WORKED_EXAMPLE,
    "the example": WORKED_EXAMPLE,
    "common mistakes": COMMON_MISTAKES,
    "common mistake": COMMON_MISTAKES,
    "mistakes": COMMON_MISTAKES,
}

_HEADING = re.compile(
    r"^[ \t]*(?:#{1,6}[ \t]*)?(?:\*\*|__)?[ \t]*(?:\d+[.)][ \t]*)?"
    r"(?P<name>" + "|".join(sorted((re.escape(a) for a in _ALIASES), key=len, reverse=True)) + r")"
    r"[ \t]*(?::[ \t]*(?:\*\*|__)|(?:\*\*|__)[ \t]*:?|:)?[ \t]*(?P<rest>.*)$",
    re.IGNORECASE | re.MULTILINE,
)


@dataclass(frozen=True)
class Explanation:
    """An explanation of one concept, in four sections, with the facts it is grounded in.

    ``text`` is the whole explanation as written (the template's Markdown, or the teacher's answer);
    ``sections`` maps each of :data:`~chessteach.teaching.sections.SECTIONS` to its body (``""`` when the
    text lacks it); ``facts`` are the checked facts of the example; ``example_id`` the example puzzle;
    ``teacher`` who wrote it (``"template"`` or a model spec); ``missing_sections`` the sections the text
    lacks (empty when the format is complete); ``prompt`` the chat the teacher was given; ``example_ids``
    every example puzzle, in order (``example_id`` is the first).
    """

    concept: str
    text: str
    sections: dict[str, str]
    facts: list[Fact]
    example_id: str | None
    teacher: str
    missing_sections: tuple[str, ...] = ()
    prompt: list[Message] | None = field(default=None, repr=False)
    example_ids: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        """Whether the text has all four sections."""
        return not self.missing_sections


@dataclass(frozen=True)
class SectionSpan:
    """Where one section's body lies in a text (``name`` is ``None`` for text before the first heading)."""

    name: str | None
    start: int
    end: int


def section_spans(text: str) -> list[SectionSpan]:
    """The spans of the text's sections, in order of appearance (a repeated heading starts a new span).

    A heading is a line that starts with a section's name, optionally behind ``#`` marks, bold markers or a
    number, and that either ends there (a trailing colon allowed) or has a colon or bold close right after
    the name (``**How to spot it:** ...``). Text before the first heading gets a span named ``None``.
    """
    spans: list[SectionSpan] = []
    matches = [m for m in _HEADING.finditer(text) if _is_heading(m)]
    cursor = 0
    current: str | None = None
    for match in matches:
        if match.start() > cursor or current is not None:
            spans.append(SectionSpan(current, cursor, match.start()))
        current = _ALIASES[match.group("name").lower()]
        cursor = match.start("rest")
    spans.append(SectionSpan(current, cursor, len(text)))
    return [s for s in spans if s.name is not None or text[s.start : s.end].strip()]


def _is_heading(match: re.Match[str]) -> bool:
    """A heading line: marked as one (``#``, bold, number) or made of the name alone, or the name and a colon."""
    line = match.group(0)
    rest = match.group("rest").strip()
    marked = line.lstrip().startswith(("#", "**", "__")) or bool(re.match(r"\s*\d+[.)]", line))
    if not rest:
        return True
    between = line[match.end("name") - match.start() : match.start("rest") - match.start()]
    return ":" in between or (marked and ("**" in between or "__" in between))


_EXAMPLE_HEADING = re.compile(r"^" + re.escape(EXAMPLE_MARK) + r"[ \t]+(?P<number>\d+)\b.*$", re.MULTILINE)


def example_spans(text: str) -> list[tuple[int, int, int]]:
    """Where each of several worked examples lies in the "Worked example" section: ``(number, start, end)``,
    from its ``### Example N`` line to the next one or the section's end (``number`` is 1-based).

    >>> text = "## Worked example\\n\\n### Example 1: a\\n\\nNf3.\\n\\n### Example 2: b\\n\\ne4.\\n\\n## Common mistakes\\n\\nx"
    >>> [(n, text[s:e].split()[-1]) for n, s, e in example_spans(text)]
    [(1, 'Nf3.'), (2, 'e4.')]
    """
    spans: list[tuple[int, int, int]] = []
    for span in section_spans(text):
        if span.name != WORKED_EXAMPLE:
            continue
        marks = list(_EXAMPLE_HEADING.finditer(text, span.start, span.end))
        ends = [m.start() for m in marks[1:]] + [span.end] if marks else []
        spans += [(int(m.group("number")), m.start(), end) for m, end in zip(marks, ends, strict=True)]
    return spans


def parse_sections(text: str) -> dict[str, str]:
    """The four sections of a text, by name; a section the text lacks is ``""`` (bodies of repeated headings
    are joined)."""
    bodies: dict[str, list[str]] = {name: [] for name in SECTIONS}
    for span in section_spans(text):
        if span.name is not None:
            body = text[span.start : span.end].strip()
            if body:
                bodies[span.name].append(body)
    return {name: "\n\n".join(parts) for name, parts in bodies.items()}


def missing_sections(sections: dict[str, str]) -> tuple[str, ...]:
    """The sections that are absent or empty, in order."""
    return tuple(name for name in SECTIONS if not sections.get(name, "").strip())


def render_sections(sections: dict[str, str], *, level: int = 2) -> str:
    """The sections as Markdown, one ``##`` heading each, in the fixed order (empty ones included)."""
    marks = "#" * level
    return "\n\n".join(f"{marks} {name}\n\n{sections.get(name, '').strip()}".rstrip() for name in SECTIONS) + "\n"


__all__ = [
    "COMMON_MISTAKES",
    "EXAMPLE_MARK",
    "GENERAL_SECTIONS",
    "HOW_TO_SPOT",
    "SECTIONS",
    "WHAT_IT_IS",
    "WORKED_EXAMPLE",
    "Explanation",
    "SectionSpan",
    "example_spans",
    "missing_sections",
    "parse_sections",
    "render_sections",
    "section_spans",
]
