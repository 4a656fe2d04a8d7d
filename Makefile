# The two commands of the README: `make plan` and `make test`. Both set up .venv first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STACK ?= staging

.PHONY: plan test lint typecheck unit validate check bench clean

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
test: $(VENV)/.dev lint typecheck unit validate check

lint: $(VENV)/.dev
	$(BIN)/ruff check .

typecheck: $(VENV)/.dev
	$(BIN)/mypy components offline release policy tools bench __main__.py

unit: $(VENV)/.dev
	$(BIN)/python -m pytest

# Workflow files: this repository's own, and the one the program commits to the application's.
validate: $(VENV)/.dev
	$(BIN)/python -m tools.validate

# Both stacks' plans as AWS and the provider see them (docs/verification.md): exit 1 on any finding not waived.
check: $(VENV)/.runtime
	$(BIN)/python -m release check --stack staging
	$(BIN)/python -m release check --stack production

bench: $(VENV)/.dev
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
