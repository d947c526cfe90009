"""A tiny causal language model built from scratch for the tests: a byte-level BPE tokenizer trained on real
chess text (the bundled tournament PGN moves and puzzle FENs, the concept catalog) and a small random Llama, saved like any
checkpoint, by the package's own builder (:mod:`chessteach.rl.tiny`).

Nothing is downloaded: the tests load it from a temp dir with ``HF_HUB_OFFLINE=1``, through the same code
that loads real checkpoints.
"""

from __future__ import annotations

from pathlib import Path


def chess_corpus(pgn_dir: Path, lichess_csv: Path, limit: int = 4000) -> list[str]:
    """Lines of real chess text: PGN movetext, puzzle FENs and moves, concept definitions."""
    from chessteach.data import TOURNAMENTS

    lines: list[str] = []
    for pgn in sorted(pgn_dir / name for name in TOURNAMENTS):
        lines += [line for line in pgn.read_text(errors="replace").splitlines() if line and not line.startswith("[")]
    csv_lines = lichess_csv.read_text().splitlines()[1:]
    lines += [" ".join(row.split(",")[1:3]) for row in csv_lines]
    from chessteach.concepts.catalog import CONCEPTS

    lines += [f"{c.name}: {c.definition}" for c in CONCEPTS.values()]
    return lines[:limit] + lines[-limit:]


def build_tiny_model(path: Path, pgn_dir: Path, lichess_csv: Path, *, vocab_size: int = 600, seed: int = 0) -> Path:
    """Train the tokenizer on :func:`chess_corpus`, build a random 2-layer Llama, save both to ``path``; return
    ``path`` (the package's own builder, :mod:`chessteach.rl.tiny`, with the shared data as its text)."""
    from chessteach.rl.tiny import chess_bpe_tokenizer, save_tiny_llama

    return save_tiny_llama(path, chess_bpe_tokenizer(chess_corpus(pgn_dir, lichess_csv), vocab_size=vocab_size), seed=seed)
