# Two entry points: `make run` and `make test` (CI's; `make test-fast` leaves out the tests
# marked slow). Both create .venv on first use and reinstall only when pyproject.toml changes
# (the stamp file below).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export KEDRO_DISABLE_TELEMETRY := 1
export DO_NOT_TRACK := 1
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: install run test test-fast ui retrain forecast lint

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/kedro run

test: install
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest -m "not slow"

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
