"""Raw CSV → validated, regular ``series``."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
