# planbook: `make report` builds the default period's evaluation report, `make test` runs the tests.
# Both bootstrap .venv on a fresh machine (Python 3.11 + pip, nothing else).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: help setup report test lint bench clean pa11y

help:  ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[test]'
	$(BIN)/python -m ipykernel install --prefix $(VENV) --name python3 >/dev/null
	touch $(STAMP)

setup: $(STAMP)  ## create .venv and install planbook with its dependencies

report: $(STAMP)  ## build the default period's report (params/default.yml)
	$(BIN)/planbook build --period default

# pa11y (npm) for tests/test_validators.py and axe-core 4.14.1 for the axe checks, into
# tests/pa11y/node_modules; puppeteer downloads no browser: the tests drive Debian's chromium.
# Without npm the pa11y test is skipped and the axe checks use axe-playwright-python's own.
PA11Y := tests/pa11y/node_modules/.installed
$(PA11Y): tests/pa11y/package.json tests/pa11y/package-lock.json
	cd tests/pa11y && PUPPETEER_SKIP_DOWNLOAD=true npm ci --no-audit --no-fund --loglevel=error
	touch $(PA11Y)

pa11y: $(PA11Y)  ## install pa11y and axe-core (npm) for the accessibility checks

# Two pytest-xdist workers (the machines have 2 cores), each given half of the tests and
# stealing from the other when idle (tests/conftest.py orders them). PYTEST_ARGS= runs in
# one process; add e.g. `-k name`.
PYTEST_ARGS ?= -n 2 --dist worksteal

test: $(STAMP)  ## run the test suite (real papermill, pandoc, typst, chromium, vnu, pa11y)
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory pa11y \
	  || echo "WARNING: npm ci failed: the pa11y test will be skipped" >&2; \
	else echo "WARNING: npm not found: the pa11y test will be skipped" >&2; fi
	$(BIN)/ruff check src tests bench
	$(BIN)/python -m pytest -q --durations=15 $(PYTEST_ARGS)

bench: $(STAMP)  ## run the benchmarks in bench/
	for f in bench/bench_*.py; do $(BIN)/python $$f || exit 1; done

clean:  ## remove caches and published reports (keeps .venv)
	rm -rf build reports
