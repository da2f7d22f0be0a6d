"""One training pipeline, instantiated per model family under its namespace."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
