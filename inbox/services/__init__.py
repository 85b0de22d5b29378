"""Writes of the inbox domain, one module per concern (`ingest`, `channels`, `messages`, ...)."""
