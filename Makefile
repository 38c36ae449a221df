# scorecard: quarterly Corporate Balanced Scorecard and Corporate Risk report.
# `make help` lists the targets. Everything installs into .venv/ from requirements.lock.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
QUARTER ?= 2016-17-Q4
# The published records committed to the repository (outputs/QUARTER/); see docs/aqa/audit.md.
RECORDS ?= 2016-17-Q3 2016-17-Q4
STAMP := $(VENV)/.installed

.PHONY: help setup report validate test lint format lock clean browser records audit bench bench-scale

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

report: setup ## Build the report for QUARTER (default 2016-17-Q4) from the bundled data
	$(BIN)/scorecard run $(QUARTER)

validate: setup ## Check every input of QUARTER and list every problem (runs nothing)
	$(BIN)/scorecard validate $(QUARTER)

test: setup ## Lint, then run every test (unit, golden, end-to-end, nbval)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest
	$(BIN)/python -m pytest --nbval-lax -p no:cacheprovider notebooks/
	$(BIN)/python -m pytest --nbval -p no:cacheprovider \
	  --nbval-sanitize-with tests/nbval_sanitize.cfg outputs/2016-17-Q4/notebooks/

records: setup ## Rebuild the published records (RECORDS) from committed code; commit them after
	@git diff --quiet HEAD -- scorecard_lib notebooks pyproject.toml && \
	  test -z "$$(git ls-files --others --exclude-standard -- scorecard_lib notebooks)" || \
	  { echo "Commit the code first: a published record must name committed code."; exit 1; }
	for q in $(RECORDS); do $(BIN)/scorecard run $$q --force --no-cache || exit 1; done
	rm -rf $(foreach q,$(RECORDS),outputs/$(q).previous-*)  # git history keeps them

audit: setup ## Re-run every published quarter and report any difference from its record
	$(BIN)/scorecard audit --all

bench: setup ## Time cold, cached and plain-papermill builds (several minutes); see docs/performance.md
	$(BIN)/python bench/run.py

bench-scale: setup ## Time N organisations x 4 quarters one by one and as Dask batches; see docs/scale.md
	$(BIN)/python bench/scale.py $(if $(ORGS),--orgs $(ORGS))

lint: setup ## Check style with ruff
	$(BIN)/ruff check .

format: setup ## Reformat imports and fix what ruff can fix
	$(BIN)/ruff check --fix .

lock: ## Rewrite requirements.lock and environment.yml from the current .venv
	$(BIN)/python tools/lock.py

clean: ## Remove the virtual environment and caches (keeps outputs/)
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
