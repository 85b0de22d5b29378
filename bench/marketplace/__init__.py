"""Benchmark of the marketplace catalogue endpoint."""
