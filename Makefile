# Two commands, each doing all of its own set-up on a fresh machine with Python 3.11+:
#   make run    install into .venv and start Pickaxe
#   make test   install into .venv (with test extras) and run the whole test suite
#   make fuzz   the property tests only, with random seeds and many more examples (not run in CI)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test fuzz venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

venv: $(BIN)/python

run: venv
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/pickaxe

test: venv
	$(BIN)/python -m pip install --quiet -e ".[test]"
	$(BIN)/lint-imports
	$(BIN)/ruff check desktop tests benchmarks
	$(BIN)/mypy
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

# Random seeds and more examples for every Hypothesis test (tests/conftest.py, profile "fuzz");
# the readers' fuzz tests also read PICKAXE_FUZZ_EXAMPLES. A failure prints the seed: keep it as
# an explicit regression test.
fuzz: venv
	$(BIN)/python -m pip install --quiet -e ".[test]"
	PICKAXE_HYPOTHESIS_PROFILE=fuzz PICKAXE_FUZZ_EXAMPLES=2000 QT_QPA_PLATFORM=offscreen \
		$(BIN)/python -m pytest -q -m hypothesis -p no:randomly
