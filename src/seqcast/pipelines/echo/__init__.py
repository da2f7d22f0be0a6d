"""The seed's echo models: a runnable example (`kedro run --pipelines echo`), not a
production stage."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
