"""The seed's echo models as an executable reproduction."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
