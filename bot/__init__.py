"""persona-bot: ask real experts' recorded views and get their own words, with the source."""

__version__ = "0.1.0"
