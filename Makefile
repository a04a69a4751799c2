# The README's two commands: `make run` (the whole local stack) and `make test` (lint, types, tests).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint chromium clean record-histories

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-installed: $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install --quiet -c constraints.txt -e .
	@touch $@

$(VENV)/.test-installed: $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $@ $(VENV)/.run-installed

run: $(VENV)/.run-installed
	$(BIN)/python -m workers.stack

lint: $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The browser tests drive a real headless Chromium (tests/integration/chromium.py): the system's when there is
# one; else, as root with apt-get, Debian's `chromium`; else Playwright's own build, installed into the venv.
CHROMIUM_NAMES := chromium chromium-browser google-chrome google-chrome-stable
chromium: $(VENV)/.test-installed
	@found=; for name in $(CHROMIUM_NAMES); do command -v $$name >/dev/null && found=$$name; done; \
	if [ -n "$$found" ]; then \
		:; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; then \
		echo "installed Debian's chromium"; \
	else \
		PLAYWRIGHT_BROWSERS_PATH=0 $(BIN)/playwright install chromium; \
	fi

# Two processes (pytest-xdist), each test file whole in one of them: the suite mostly waits, on servers, the demo
# profile's timers and subprocesses. `.venv/bin/pytest` alone runs it in one process.
test: lint chromium
	$(BIN)/pytest --numprocesses 2 --dist loadfile

# Re-records tests/histories/ from the workflow tests (see README, "Changing a workflow").
record-histories: $(VENV)/.test-installed
	rm -f tests/histories/*.json
	DVR_RECORD_HISTORIES=1 $(BIN)/pytest -q tests/workflows --deselect tests/workflows/test_replay.py

clean:
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .ruff_cache
