# Two commands, each doing all of its own set-up on a fresh machine with Python 3.11+:
#   make run    install into .venv and start Pickaxe
#   make test   install into .venv (with test extras) and run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test venv

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
