# The two commands of the README: `make plan` and `make test`. Both set up .venv first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STACK ?= staging

.PHONY: plan test lint typecheck unit validate bench clean policy-venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

## plan: the offline plan of a stack (STACK=staging by default)
plan: $(VENV)/.runtime
	$(BIN)/python -m release plan --stack $(STACK)

## test: every check: lint, types, unit tests, validators
test: $(VENV)/.dev lint typecheck unit validate

lint: $(VENV)/.dev
	$(BIN)/ruff check .

typecheck: $(VENV)/.dev
	$(BIN)/mypy components offline release policy tools bench __main__.py

unit: $(VENV)/.dev
	$(BIN)/python -m pytest

# Workflow files: this repository's own, and the one the program commits to the application's.
validate: $(VENV)/.dev
	$(BIN)/python -m tools.validate

# The policy pack's own environment (PulumiPolicy.yaml: virtualenv venv), for `--policy-pack policy` runs.
policy-venv: policy/venv/bin/python
policy/venv/bin/python: policy/requirements.txt
	$(PYTHON) -m venv policy/venv
	policy/venv/bin/pip install --quiet -r policy/requirements.txt

bench: $(VENV)/.dev
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
