"""The Developers area of the web UI (CLIENT_ADMIN): API keys with their usage, webhook endpoints
with their delivery log, and where the API reference is."""
