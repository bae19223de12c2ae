# Set-up, demo and tests. `make demo` and `make test` are the only two commands a new user needs.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup sysdeps demo demo-quick test lint format bench clean

# A virtual environment with the package (editable) and its pinned dependencies.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --progress-bar off -e ".[dev]"
	touch $(STAMP)

# Debian packages the built-in corpus needs (flite, espeak-ng, trans-de-en): apt-get when root,
# otherwise one line saying what to install.
sysdeps: $(STAMP)
	$(PY) -m data_prep.sysdeps

setup: $(STAMP) sysdeps

demo: setup
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" bash recipes/mini/asr/run.sh

demo-quick: setup
	$(PY) scripts/demo.py

test: setup
	$(PY) -m ruff check .
	$(PY) -m pytest

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(STAMP)
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

bench: $(STAMP)
	$(PY) bench/features.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
