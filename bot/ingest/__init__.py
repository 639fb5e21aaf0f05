"""Ingest: raw scraped texts in corpus/ -> one persona YAML file per expert in personas/."""
