"""seqcast's pipelines, one folder each: ``nodes.py`` adapts library functions to Kedro's
datasets, ``pipeline.py`` wires them. Composite pipelines (retrain, forecast) are composed in
``seqcast.pipeline_registry``; nothing else imports from here."""
