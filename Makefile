# The two commands of the README: `make plan` and `make test`. Both set up .venv first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STACK ?= staging

.PHONY: plan test test-fast lint typecheck unit validate check floors bench clean policy-venv mutate

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

# requirements-dev.txt includes requirements.txt: one pip run installs both, and marks the runtime installed too.
$(VENV)/.dev: requirements-dev.txt requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.runtime $@

## plan: the offline plan of a stack (STACK=staging by default)
plan: $(VENV)/.runtime
	$(BIN)/python -m release plan --stack $(STACK)

## test: every check: lint, types, unit tests, validators, the strict plan check, and the tests again on the requirement floors
# Side by side: pytest's workers keep both cores busy, and the one-process steps (ruff, mypy, the validators, the strict
# check, the floors' virtualenv and tests) fill what they leave, which one after another left a core idle. None writes
# what another reads (the plan cache's entries are written whole, then renamed); each line of output stays whole.
test: $(VENV)/.dev
	$(MAKE) --no-print-directory --jobs --output-sync=line lint typecheck unit validate check floors

lint: $(VENV)/.dev
	$(BIN)/ruff check .

typecheck: $(VENV)/.dev
	$(BIN)/mypy components offline release rehearsal policy tools bench __main__.py
	$(BIN)/mypy pack/__main__.py  # the pack project's program: a second __main__, checked on its own

# pytest-xdist: one worker per core, each test file on one worker, so the rehearsals a file shares run once
# (tests/rehearsals.py). Every server a test starts binds port 0. Files are handed out heaviest first
# (tests/conftest.py orders them), not by xdist's count of tests, which put the rehearsal files last.
XDIST := -n auto --dist loadfile --no-loadscope-reorder

## test-fast: the tier for every change: every test that neither runs a whole rehearsal nor builds a virtualenv
test-fast: $(VENV)/.dev
	$(BIN)/python -m pytest $(XDIST) -m "not rehearsal and not registry"

unit: $(VENV)/.dev
	$(BIN)/python -m pytest $(XDIST)

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
# (pulumi-github, pulumi-pulumiservice, pulumi-aws), the pack served by pulumi-policy, config (pydantic), and a
# rehearsal of the driver on moto served by cheroot and boto3: one happy release per strategy, what the floors of
# boto3, moto and cheroot must carry (the scenarios' judgement is the same code on any version). Workflow
# validators need the dev tools, so they stay in `unit`.
FLOORS := .venv-floors
FLOOR_TESTS := tests/components/test_config.py tests/components/test_github_governance.py tests/components/test_deployments.py \
	tests/components/test_guardrails.py tests/policy/test_pack.py tests/components/test_least_privilege.py \
	tests/release/judgement/test_significance.py \
	tests/rehearsal/test_releases.py::test_happy_release_is_promoted_and_moto_serves_the_new_colour
# Installed afresh whenever the requirements or their floors change. No hypothesis: none of these tests uses it, and
# its pytest plugin imports its strategies only in the terminal summary, where their `@composite` calls ast.parse
# while the rehearsal's threads may still be parsing too. CPython 3.11's AST constructor keeps one depth counter per
# interpreter, and a parse that another one interleaves raises "AST constructor recursion depth mismatch"
# (python/cpython#106905, pytest-dev/pytest#10763): on 3.11.7 that import failed the run after every test passed.
$(FLOORS)/.installed: requirements.txt tools/floors.py
	rm -rf $(FLOORS)
	$(PYTHON) -m venv $(FLOORS)
	$(PYTHON) -m tools.floors > $(FLOORS)/constraints.txt
	$(FLOORS)/bin/pip install --quiet -r requirements.txt -c $(FLOORS)/constraints.txt "pytest>=8,<10"
	touch $@

floors: $(FLOORS)/.installed
	$(FLOORS)/bin/python -m pytest -p no:cacheprovider $(FLOOR_TESTS)

# Mutation testing of the safety-critical modules (tools/mutate.py): slow, so never part of `test`. One module at a
# time, each against the fast tests that run it; MODULE=release/state/record.py for one. Report in .release/mutate/.
MODULE ?=
mutate: $(VENV)/.dev
	nice -n 15 $(BIN)/python -m tools.mutate $(if $(MODULE),--module $(MODULE))

bench: $(VENV)/.dev
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(FLOORS) .pytest_cache .mypy_cache .ruff_cache
