"""``series`` → the window specification (split boundaries, scaling statistics, shapes)."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
