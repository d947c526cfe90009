"""Random models for CPU runs, tests and benchmarks: the ``tiny-random`` model name of the recipes.

``configs/grpo/tiny-cpu.yaml`` names its teacher (``model_name_or_path``) and its student (``student``) as
``tiny-random``. :func:`resolve_tiny` turns that name into a real checkpoint directory, built on the spot
under ``<output_dir>/tiny-random/<role>`` the first time (reused afterwards): a byte-level BPE tokenizer trained on
chess text that ships with the package (the bundled puzzles, the sample PGN, the concept catalog) and a 2-layer
Llama with random weights, saved with ``save_pretrained`` like any checkpoint. Everything after that (loading,
generation, GRPO, saving) is the same code path as for a real model. Nothing is downloaded. The tests' tiny model
(``tests/conftest.py``) and the exam benchmark's random students (:data:`RANDOM_MODEL_CONFIGS`) come from the same
:func:`build_random_model`, on the same text.

>>> resolve_tiny("Qwen/Qwen2.5-0.5B-Instruct", "runs/x", role="teacher")
'Qwen/Qwen2.5-0.5B-Instruct'
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

TINY_RANDOM = "tiny-random"
"""The model name that stands for a tiny random model built on the spot."""

CHAT_TEMPLATE = (
    "{% for message in messages %}<|{{ message['role'] }}|>{{ message['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
SPECIAL_TOKENS = ["<pad>", "<s>", "</s>", "<unk>", "<|system|>", "<|user|>", "<|assistant|>"]
VOCAB_SIZE = 600
SEEDS = {"teacher": 0, "student": 1}


def packaged_chess_text(limit: int = 4000) -> list[str]:
    """Lines of chess text that ship with chessteach: puzzle FENs and moves, PGN movetext, concept definitions."""
    from chessteach.concepts.catalog import CONCEPTS
    from chessteach.puzzles import bundled_puzzles

    lines = [" ".join(row.split(",")[1:3]) for row in bundled_puzzles().read_text().splitlines()[1:]]
    data = resources.files("chessteach.data")
    for pgn in data.joinpath("games").iterdir():
        if pgn.name.endswith(".pgn"):
            lines += [
                line
                for line in pgn.read_bytes().decode("utf-8", errors="replace").splitlines()
                if line and not line.startswith("[")
            ]
    lines += [f"{c.name}: {c.definition}" for c in CONCEPTS.values()]
    return lines[:limit] + lines[-limit:]


def chess_bpe_tokenizer(lines: Iterable[str] | None = None, *, vocab_size: int = VOCAB_SIZE) -> Any:
    """A byte-level BPE tokenizer trained on ``lines`` (default: :func:`packaged_chess_text`), with a small chat
    template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tokenizer.train_from_iterator(packaged_chess_text() if lines is None else lines, trainer=trainer)
    return wrap_tokenizer(tokenizer)


def wrap_tokenizer(tokenizer: Any) -> Any:
    """A ``tokenizers.Tokenizer`` as a transformers tokenizer with :data:`SPECIAL_TOKENS` and the chat template
    (the tokenizer must hold those special tokens)."""
    from transformers import PreTrainedTokenizerFast

    fast = PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=tokenizer,
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        pad_token="<pad>",
        padding_side="left",
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast


RANDOM_MODEL_CONFIGS: dict[str, dict[str, Any]] = {
    "tiny": {
        "model_type": "llama",
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "max_position_embeddings": 4096,
        "tie_word_embeddings": True,
    },
    "qwen2.5-1.5b": {
        "model_type": "qwen2",
        "hidden_size": 1536,
        "intermediate_size": 8960,
        "num_hidden_layers": 28,
        "num_attention_heads": 12,
        "num_key_value_heads": 2,
        "max_position_embeddings": 32768,
        "vocab_size": 151936,
        "rope_theta": 1_000_000.0,
        "rms_norm_eps": 1e-6,
        "tie_word_embeddings": True,
    },
}
"""Configs of random models (``model_type`` plus its fields): the tiny 2-layer Llama of the recipes and the tests,
and one the size of Qwen2.5-1.5B for the exam benchmark."""
TINY_LLAMA = RANDOM_MODEL_CONFIGS["tiny"]


def build_random_model(
    path: str | Path,
    config: Mapping[str, Any] = TINY_LLAMA,
    *,
    tokenizer: Any = None,
    dtype: str = "float32",
    seed: int = 0,
) -> Path:
    """A randomly initialised causal LM from a config dict (``model_type`` plus its fields; default
    :data:`TINY_LLAMA`) with ``tokenizer`` (default :func:`chess_bpe_tokenizer`), both saved to ``path``
    (safetensors); returns ``path``. Nothing is downloaded.

    The model's vocabulary is the config's ``vocab_size`` when given (a real model's size, for honest benchmark
    timings), else the tokenizer's; ids past the tokenizer's decode to nothing.
    """
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    if tokenizer is None:
        tokenizer = chess_bpe_tokenizer()
    fields = dict(config)
    model_type = fields.pop("model_type")
    fields["vocab_size"] = max(int(fields.get("vocab_size", 0)), len(tokenizer))
    model_config = AutoConfig.for_model(
        model_type,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        **fields,
    )
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(model_config, dtype=getattr(torch, dtype))  # type: ignore[no-untyped-call]
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    return out


def resolve_tiny(name: str, output_dir: str | Path, *, role: str) -> str:
    """``name`` unchanged, unless it is :data:`TINY_RANDOM`: then the directory of a tiny random model for the
    role (``teacher`` or ``student``), built under ``<output_dir>/tiny-random/<role>`` if not there yet."""
    if name != TINY_RANDOM:
        return name
    path = Path(output_dir) / TINY_RANDOM / role
    if not (path / "config.json").is_file():
        logger.info("building a tiny random %s model in %s", role, path)
        build_random_model(path, seed=SEEDS.get(role, 0))
    return str(path)


__all__ = [
    "CHAT_TEMPLATE",
    "RANDOM_MODEL_CONFIGS",
    "SPECIAL_TOKENS",
    "TINY_LLAMA",
    "TINY_RANDOM",
    "build_random_model",
    "chess_bpe_tokenizer",
    "packaged_chess_text",
    "resolve_tiny",
    "wrap_tokenizer",
]
