# The two commands of the README: `make plan` and `make test`. Both set up .venv first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STACK ?= staging

.PHONY: plan test lint typecheck unit validate check floors bench clean policy-venv

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

## test: every check: lint, types, unit tests, validators, the strict plan check, and the tests again on the requirement floors
test: $(VENV)/.dev lint typecheck unit validate check floors

lint: $(VENV)/.dev
	$(BIN)/ruff check .

typecheck: $(VENV)/.dev
	$(BIN)/mypy components offline release rehearsal policy tools bench __main__.py

unit: $(VENV)/.dev
	$(BIN)/python -m pytest

# Workflow files: this repository's own, and the one the program commits to the application's.
validate: $(VENV)/.dev
	$(BIN)/python -m tools.validate

# Both stacks' plans as AWS and the provider see them (docs/verification.md): exit 1 on any finding not waived.
check: $(VENV)/.runtime
	$(BIN)/python -m release check --stack staging
	$(BIN)/python -m release check --stack production

# The policy pack's own environment (PulumiPolicy.yaml: virtualenv venv), for `--policy-pack policy` runs.
policy-venv: policy/venv/bin/python
policy/venv/bin/python: policy/requirements.txt
	$(PYTHON) -m venv policy/venv
	policy/venv/bin/pip install --quiet -r policy/requirements.txt

# The runtime requirements installed at exactly their floors (tools/floors.py), in a venv of their own, and
# the tests that exercise what each floor was chosen for: both stacks' plans through the providers' SDKs
# (pulumi-github, pulumi-pulumiservice, pulumi-aws), the pack served by pulumi-policy, config (pydantic) and
# a rehearsal of the driver on moto and boto3. Workflow validators need the dev tools, so they stay in `unit`.
FLOORS := .venv-floors
FLOOR_TESTS := tests/components/test_config.py tests/components/test_github_governance.py tests/components/test_deployments.py tests/components/test_guardrails.py \
	tests/policy/test_pack.py tests/components/test_least_privilege.py tests/rehearsal/test_releases.py
# Installed afresh whenever the requirements or their floors change.
$(FLOORS)/.installed: requirements.txt tools/floors.py
	rm -rf $(FLOORS)
	$(PYTHON) -m venv $(FLOORS)
	$(PYTHON) -m tools.floors > $(FLOORS)/constraints.txt
	$(FLOORS)/bin/pip install --quiet -r requirements.txt -c $(FLOORS)/constraints.txt "pytest>=8,<10" "hypothesis>=6.100,<7"
	touch $@

floors: $(FLOORS)/.installed
	$(FLOORS)/bin/python -m pytest -q -p no:cacheprovider $(FLOOR_TESTS)

bench: $(VENV)/.dev
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(FLOORS) .pytest_cache .mypy_cache .ruff_cache
