# Two commands on a fresh machine: `make demo` and `make test`. Each bootstraps .venv with pip on its own.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.s1eval-installed
export HF_HUB_OFFLINE ?= 1
export HF_DATASETS_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false
export PYTHONUNBUFFERED := 1

.PHONY: install demo demo-quick test test-fast bench lint format clean

install: $(STAMP)

# torch is pinned to the CPU build that lies on local disk; pip (not uv/poetry) finds it.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m examples.demo --out results/demo

demo-quick: $(STAMP)
	$(BIN)/python -m examples.demo --quick --out results/demo

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

bench: $(STAMP)
	$(BIN)/python -m benchmarks

lint: $(STAMP)
	$(BIN)/ruff check s1eval tests benchmarks examples
	$(BIN)/ruff format --check s1eval tests benchmarks examples

format: $(STAMP)
	$(BIN)/ruff format s1eval tests benchmarks examples
	$(BIN)/ruff check --fix s1eval tests benchmarks examples

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
