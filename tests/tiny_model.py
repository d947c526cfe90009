"""A tiny causal language model built from scratch for the tests: a byte-level BPE tokenizer trained on real
chess text (PGN moves, FENs, the concept catalog) and a small random Llama, saved like any checkpoint.

Nothing is downloaded: the tests load it from a temp dir with ``HF_HUB_OFFLINE=1``, through the same code
that loads real checkpoints.
"""

from __future__ import annotations

from pathlib import Path

CHAT_TEMPLATE = (
    "{% for message in messages %}<|{{ message['role'] }}|>{{ message['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
SPECIAL = ["<pad>", "<s>", "</s>", "<unk>", "<|system|>", "<|user|>", "<|assistant|>"]


def chess_corpus(shared_data: Path, limit: int = 4000) -> list[str]:
    """Lines of real chess text: PGN movetext, puzzle FENs and moves, concept definitions."""
    lines: list[str] = []
    for pgn in sorted((shared_data / "pgn").glob("*.pgn")):
        lines += [line for line in pgn.read_text(errors="replace").splitlines() if line and not line.startswith("[")]
    csv_lines = (shared_data / "puzzles" / "lichess-dev.csv").read_text().splitlines()[1:]
    lines += [" ".join(row.split(",")[1:3]) for row in csv_lines]
    from chessteach.concepts.catalog import CONCEPTS

    lines += [f"{c.name}: {c.definition}" for c in CONCEPTS.values()]
    return lines[:limit] + lines[-limit:]


def build_tiny_model(path: Path, shared_data: Path, *, vocab_size: int = 600, seed: int = 0) -> Path:
    """Train the tokenizer, build a random 2-layer Llama, save both to ``path``; return ``path``."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=SPECIAL, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tokenizer.train_from_iterator(chess_corpus(shared_data), trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        pad_token="<pad>",
        padding_side="left",
    )
    fast.chat_template = CHAT_TEMPLATE
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(fast),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        bos_token_id=fast.bos_token_id,
        eos_token_id=fast.eos_token_id,
        pad_token_id=fast.pad_token_id,
        tie_word_embeddings=True,
    )
    model = LlamaForCausalLM(config)
    model.generation_config.pad_token_id = fast.pad_token_id
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path, safe_serialization=True)
    fast.save_pretrained(path)
    return path
