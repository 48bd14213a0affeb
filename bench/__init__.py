"""Offline benchmarks for Recommendarr (not shipped with the app)."""
