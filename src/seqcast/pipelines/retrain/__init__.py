"""The scheduled retraining job with champion/challenger promotion."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
