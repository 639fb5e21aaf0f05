"""Matching: from what a user types to the recorded answer that answers it."""

from bot.matching.engine import Engine
from bot.matching.results import Answer, Comparison, Match, Side, Suggestion, TopicCount, UnknownExpert

__all__ = ["Answer", "Comparison", "Engine", "Match", "Side", "Suggestion", "TopicCount", "UnknownExpert"]
