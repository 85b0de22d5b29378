"""Benchmark of the agent analytics endpoints."""
