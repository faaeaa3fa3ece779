"""Rebound: a streaming trigger processor for cross-selling."""

__version__ = "0.1.0"
