#!/usr/bin/env bash
# Install everything from nothing and run every check: the README's test command, and CI's.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install --quiet --upgrade pip
.venv/bin/pip install --quiet -c constraints.txt -e '.[test,bench]'
.venv/bin/persona-bot ingest --check      # personas/ must match what corpus/ builds
.venv/bin/persona-bot ingest             # same bytes again; also builds the persisted index
.venv/bin/ruff check .
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
