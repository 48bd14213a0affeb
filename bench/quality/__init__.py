"""Offline recommendation-quality benchmark: ``python -m bench.quality``."""
