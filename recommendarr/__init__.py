"""Recommendarr: explained recommendations for every user of a home media server."""

__version__ = "0.1.0"
