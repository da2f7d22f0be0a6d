# Two entry points: `make run` and `make test` (CI's; `make test-fast` leaves out the tests
# marked slow; both spread test files over every core with pytest-xdist). Both create .venv on
# first use and reinstall only when pyproject.toml changes (the stamp file below).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export KEDRO_DISABLE_TELEMETRY := 1
export DO_NOT_TRACK := 1
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: install run test test-fast ui retrain forecast lint airflow-dag airflow-test

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/kedro run

test: install
	$(BIN)/python -m pytest -n auto --dist loadfile

test-fast: install
	$(BIN)/python -m pytest -n auto --dist loadfile -m "not slow"

# A tracking server serves its own UI: say where (credentials stripped) instead of starting one.
ui: install
	@case "$${MLFLOW_TRACKING_URI:-}" in \
	  http://*|https://*) echo "MLFLOW_TRACKING_URI is a tracking server: open" \
	    "$$(echo "$$MLFLOW_TRACKING_URI" | sed -E 's#//[^/@]*@#//#') in a browser";; \
	  *) $(BIN)/mlflow ui --backend-store-uri $${MLFLOW_TRACKING_URI:-sqlite:///mlflow.db} \
	       --host 127.0.0.1 --port $${PORT:-5000};; \
	esac

retrain: install
	$(BIN)/kedro run --pipelines retrain

forecast: install
	$(BIN)/kedro run --pipelines forecast

lint: install
	$(BIN)/ruff check src tests benchmarks

# Apache Airflow (README: "On Apache Airflow"). `airflow-dag` regenerates the committed DAG with
# kedro-airflow (the `airflow` extra: the plugin alone, no Airflow in .venv). `airflow-test`
# runs that DAG in a real Airflow installed in its own venv, so that Airflow's constraints never
# touch the project's environment; it is slow (minutes), hence not part of `make test`.
AIRFLOW_VERSION ?= 3.2.2
# The Kedro environment the DAG's sessions run in (another than local: in the DAG's name).
AIRFLOW_ENV ?= local
AIRFLOW_VENV := .venv-airflow
AIRFLOW_PYVER = $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])')
AIRFLOW_CONSTRAINTS = https://raw.githubusercontent.com/apache/airflow/constraints-$(AIRFLOW_VERSION)/constraints-$(AIRFLOW_PYVER).txt

$(VENV)/.airflow-plugin: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[airflow]"
	touch $@

airflow-dag: $(VENV)/.airflow-plugin
	MLFLOW_TRACKING_URI=sqlite:///$$(mktemp -d)/mlflow.db $(BIN)/kedro airflow create \
	  --pipelines retrain --target-dir deploy/airflow --jinja-file deploy/airflow/dag_template.j2 \
	  --env $(AIRFLOW_ENV) --group-by memory --params "max_active_runs=1,retries=2,retry_delay=5,schedule=15 2 * * *"

# Airflow first, under its constraints file for this Python when it can be fetched (else
# under the pins below, which Airflow 3.2.2's task runner needs: newer fastapi, svcs and
# pydantic break its in-process execution API); then seqcast with Airflow held at its
# version, and `pip check` for any conflict left.
AIRFLOW_FALLBACK_PINS := "fastapi>=0.129,<0.140" "svcs>=25.1,<26" "pydantic>=2.11,<2.13"
$(AIRFLOW_VENV)/.installed: pyproject.toml
	test -x $(AIRFLOW_VENV)/bin/python || $(PYTHON) -m venv $(AIRFLOW_VENV)
	if curl -fsSL --max-time 30 -o $(AIRFLOW_VENV)/constraints.txt $(AIRFLOW_CONSTRAINTS); then \
	  $(AIRFLOW_VENV)/bin/pip install --quiet "apache-airflow==$(AIRFLOW_VERSION)" \
	    -c $(AIRFLOW_VENV)/constraints.txt; \
	else echo "$(AIRFLOW_CONSTRAINTS) unreachable: Airflow under fallback pins"; \
	  $(AIRFLOW_VENV)/bin/pip install --quiet "apache-airflow==$(AIRFLOW_VERSION)" \
	    $(AIRFLOW_FALLBACK_PINS); fi
	$(AIRFLOW_VENV)/bin/pip install --quiet "apache-airflow==$(AIRFLOW_VERSION)" -e .
	$(AIRFLOW_VENV)/bin/pip check
	touch $@

airflow-test: $(AIRFLOW_VENV)/.installed
	$(AIRFLOW_VENV)/bin/python deploy/airflow/dag_test.py
