"""Games: reading PGN, and reviewing every move with the engine as Lichess does."""

from chessteach.games.read import GameRecord, read_games
from chessteach.games.review import GameReview, MoveReview, review_game

__all__ = ["GameRecord", "GameReview", "MoveReview", "read_games", "review_game"]
