"""chessteach: teach chess concepts to people and language models, with Stockfish as the source of truth."""

__version__ = "0.1.0"
