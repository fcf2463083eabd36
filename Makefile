# Two commands do everything on a fresh machine:
#   make experiments   set-up, then every experiment (plots + JSON in experiments/results/)
#   make test          set-up, then the whole test suite
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-dev

.PHONY: test experiments experiments-full bench setup clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

test: $(STAMP)
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
