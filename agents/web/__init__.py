"""Web UI pages of this app (server-rendered, htmx for partial updates)."""
