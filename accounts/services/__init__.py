"""Writes of the accounts domain: one module per entity (`audit`, `api_keys`, `auth`, `users`, ...)."""
