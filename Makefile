# Two commands do everything on a fresh machine:
#   make experiments   set-up, then every experiment (plots + JSON in experiments/results/)
#   make test          set-up, then lint and the whole test suite
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-dev

.PHONY: test lint experiments experiments-full bench setup clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

# ruff (style, imports, likely bugs) on everything; mypy on the library
# (strictness documented in pyproject.toml's [tool.mypy]).
lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m mypy

test: lint
	$(PY) -m pytest -q

experiments: $(STAMP)
	$(PY) -m experiments --quick

experiments-full: $(STAMP)
	$(PY) -m experiments --full

bench: $(STAMP)
	-$(PY) -m pip install --quiet -e ".[bench]"
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info
