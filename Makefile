# planbook: `make report` builds the default period's evaluation report, `make test` runs the tests.
# Both bootstrap .venv on a fresh machine (Python 3.11 + pip, nothing else).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: help setup report test lint bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[test]'
	$(BIN)/python -m ipykernel install --prefix $(VENV) --name python3 >/dev/null
	touch $(STAMP)

setup: $(STAMP)  ## create .venv and install planbook with its dependencies

report: $(STAMP)  ## build the default period's report (params/default.yml)
	$(BIN)/planbook build --period default

# PYTEST_ARGS: e.g. `-n 2 --dist loadgroup` (pytest-xdist; tests/conftest.py keeps every test
# of the shared session builds on one worker) or `-k name`.
PYTEST_ARGS ?=

test: $(STAMP)  ## run the test suite (real papermill, pandoc, typst, chromium)
	$(BIN)/ruff check src tests bench
	$(BIN)/python -m pytest -q --durations=15 $(PYTEST_ARGS)

bench: $(STAMP)  ## run the benchmarks in bench/
	for f in bench/bench_*.py; do $(BIN)/python $$f || exit 1; done

clean:  ## remove caches and published reports (keeps .venv)
	rm -rf build reports
