"""Language model backends behind one small interface (see :mod:`chessteach.llm.base`)."""

from chessteach.llm.base import (
    GenerationConfig,
    LanguageModel,
    Message,
    ModelLoadError,
    ModelRequestError,
    ModelSpecError,
    Prompt,
    load_model,
    parse_spec,
    register_backend,
)

__all__ = [
    "GenerationConfig",
    "LanguageModel",
    "Message",
    "ModelLoadError",
    "ModelRequestError",
    "ModelSpecError",
    "Prompt",
    "load_model",
    "parse_spec",
    "register_backend",
]
