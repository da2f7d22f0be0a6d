"""seqcast: CNN-LSTM and many-to-many LSTM forecasting as Kedro pipelines tracked in MLflow."""

__version__ = "0.1.0"
