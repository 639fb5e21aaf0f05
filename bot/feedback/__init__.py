"""The curator loop: what users asked is recorded, reviewed, and becomes better answers.

recorder.py (the bot's fire-and-forget side) -> store.py (SQLite, WAL, migrations) ->
review.py (grouped queue; attach / decline / skip) -> files.py (alternates.yaml, declined.yaml,
eval/tune.yaml, appended as text) -> `persona-bot ingest` and /reload. declined.py is what the
matcher reads; stats.py reports; config.py finds the store for `run`, `review` and `stats` alike.
"""

DEFAULT_NOTE = "out of scope"
"""Why a declined question is declined, when the curator gives no reason."""
