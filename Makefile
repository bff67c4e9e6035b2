# Two commands on a fresh machine: `make demo` and `make test`. Each bootstraps .venv with pip on its own.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.s1eval-installed
export HF_HUB_OFFLINE ?= 1
export HF_DATASETS_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false
export PYTHONUNBUFFERED := 1

.PHONY: install demo demo-quick test test-fast test-lm-eval-latest bench lint format clean

install: $(STAMP)

# torch is pinned to the CPU build that lies on local disk; pip (not uv/poetry) finds it.
# constraints.txt pins every other package to the set results/ was made with (a newer release moves the numbers).
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m examples.demo --out results/demo
	$(BIN)/python -m examples.demo.readme results/demo

demo-quick: $(STAMP)
	$(BIN)/python -m examples.demo --quick --out results/demo
	$(BIN)/python -m examples.demo.readme results/demo

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

# The lm-eval tests against the newest lm-eval on PyPI, in a venv of their own (.venv-lm-eval-latest), so a
# release that moves under s1eval's registration or task hooks shows up before users meet it.
LATEST := .venv-lm-eval-latest
test-lm-eval-latest:
	test -x $(LATEST)/bin/python || $(PY) -m venv $(LATEST)
	$(LATEST)/bin/python -m pip install -q --upgrade pip
	$(LATEST)/bin/python -m pip install -q torch==2.13.0
	$(LATEST)/bin/python -m pip install -q -e ".[hf,math,lmeval]" pytest pytest-xdist hypothesis
	$(LATEST)/bin/python -m pip install -q --upgrade "lm-eval"
	$(LATEST)/bin/python -c "import lm_eval; print('lm-eval', lm_eval.__version__)"
	$(LATEST)/bin/python -m pytest -q -p no:cacheprovider tests/integrations/lm_eval

bench: $(STAMP)
	$(BIN)/python -m benchmarks

lint: $(STAMP)
	$(BIN)/ruff check s1eval tests benchmarks examples
	$(BIN)/ruff format --check s1eval tests benchmarks examples

format: $(STAMP)
	$(BIN)/ruff format s1eval tests benchmarks examples
	$(BIN)/ruff check --fix s1eval tests benchmarks examples

clean:
	rm -rf $(VENV) $(LATEST) build *.egg-info .pytest_cache .ruff_cache
