# Set-up, demo and tests. `make demo` and `make test` are the only two commands a new user needs.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup sysdeps demo demo-quick test lint format bench constraints clean

# A virtual environment with the package (editable), every extra, and the exact versions we test:
# pyproject.toml gives lower bounds, constraints.txt the pinned set.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --progress-bar off -c constraints.txt -e ".[train,tts-score,dev]"
	touch $(STAMP)

# Debian packages the built-in corpus needs (flite, espeak-ng, trans-de-en) and the browser test
# (chromium, chromium-driver): apt-get when root,
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

# Every CPU benchmark on one thread, one table: bench/RESULTS.md (about 10 minutes; `bench/suite.py
# --quick` is the smoke run). The GPU figures: bench/gpu.sh on a GPU machine.
bench: $(STAMP)
	OMP_NUM_THREADS=1 $(PY) bench/suite.py

# Rewrite constraints.txt from the current .venv (after changing a dependency in pyproject.toml).
constraints: $(STAMP)
	{ sed -n '/^#/p' constraints.txt; $(PY) -m pip freeze --exclude-editable | grep -v '^#'; } > constraints.txt.new
	mv constraints.txt.new constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
