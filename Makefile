# scorecard: quarterly Corporate Balanced Scorecard and Corporate Risk report.
# `make help` lists the targets. Everything installs into .venv/ from requirements.lock.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
QUARTER ?= 2016-17-Q4
# Notebooks executed afresh by `make test` for nbval (a draft build, never the archive).
NBVAL_OUT := test-artifacts/nbval
STAMP := $(VENV)/.installed
# pytest-xdist workers for `make test` and `make test-fast` (0 runs the tests in one process).
TEST_WORKERS ?= 2
PYTEST_PARALLEL := -n $(TEST_WORKERS) --dist loadgroup
# The fast tier: every test without the e2e, browser or slow marker (pyproject.toml says what
# each marker means; tests/conftest.py refuses to let an unmarked test start a process).
FAST := -m "not e2e and not browser and not slow" --hypothesis-profile=fast

.PHONY: help setup report publish validate test test-fast lint format lock clean browser audit bench bench-scale

help: ## Show the targets and what they do
	@echo "Usage: make TARGET [QUARTER=2016-17-Q4]"
	@echo
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | \
	  awk 'BEGIN {FS = ":.*?## "}; {printf "  %-10s %s\n", $$1, $$2}'

setup: $(STAMP) ## Create .venv/ with the pinned packages and the scorecard command

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e . || \
	  $(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

report: setup ## Build the draft report for QUARTER (default 2016-17-Q4) into outputs/
	$(BIN)/scorecard run $(QUARTER)

publish: setup ## Publish QUARTER into published/ (refused if already published); commit it after
	$(BIN)/scorecard publish $(QUARTER)

validate: setup ## Check every input of QUARTER and list every problem (runs nothing)
	$(BIN)/scorecard validate $(QUARTER)

test: setup ## Lint and the layers contract, then every test (unit, golden, end-to-end, impact on the archive, nbval)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest $(PYTEST_PARALLEL)
	$(BIN)/python -m pytest --nbval-lax -p no:cacheprovider notebooks/
	rm -rf $(NBVAL_OUT)
	$(BIN)/scorecard run $(QUARTER) --out $(NBVAL_OUT) --no-cache
	$(BIN)/python -m pytest --nbval -p no:cacheprovider \
	  --nbval-sanitize-with tests/nbval_sanitize.cfg $(NBVAL_OUT)/$(QUARTER)/notebooks/

test-fast: setup ## The unit tests only: no kernels, browser, subprocesses or whole builds
	$(BIN)/python -m pytest $(PYTEST_PARALLEL) $(FAST)

audit: setup ## Re-run every published record with the code that made it; any difference fails
	$(BIN)/scorecard audit --all

bench: setup ## Time cold, cached and plain-papermill builds (several minutes); see docs/performance.md
	$(BIN)/python bench/run.py

bench-scale: setup ## Time N organisations x 4 quarters one by one and as Dask batches; see docs/scale.md
	$(BIN)/python bench/scale.py $(if $(ORGS),--orgs $(ORGS))

lint: setup ## Check style with ruff and the stage layers with import-linter (.importlinter)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

format: setup ## Reformat imports and fix what ruff can fix
	$(BIN)/ruff check --fix .

lock: ## Rewrite requirements.lock and environment.yml from the current .venv
	$(BIN)/python tools/lock.py

clean: ## Remove the virtual environment and caches (keeps outputs/)
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
