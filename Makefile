# scorecard: quarterly Corporate Balanced Scorecard and Corporate Risk report.
# `make help` lists the targets. Everything installs into .venv/ from requirements.lock.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
QUARTER ?= 2016-17-Q4
STAMP := $(VENV)/.installed

.PHONY: help setup report test lint format lock clean browser

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
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e . || \
	  $(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

report: setup ## Build the report for QUARTER (default 2016-17-Q4) from the bundled data
	$(BIN)/scorecard run $(QUARTER)

test: setup ## Lint, then run every test (unit, golden, end-to-end, nbval)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest
	$(BIN)/python -m pytest --nbval-lax -p no:cacheprovider notebooks/

lint: setup ## Check style with ruff
	$(BIN)/ruff check .

format: setup ## Reformat imports and fix what ruff can fix
	$(BIN)/ruff check --fix .

lock: ## Rewrite requirements.lock and environment.yml from the current .venv
	$(BIN)/python tools/lock.py

clean: ## Remove the virtual environment and caches (keeps outputs/)
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
