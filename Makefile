# Each target makes .venv when it is missing, installs newsdesk into it, then runs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench reliability install clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/newsdesk --db sqlite:///demo.db demo --port 8765

# The browser tests need Debian's chromium and chromedriver; they are installed when missing (as root).
test: $(STAMP)
	test -x /usr/bin/chromium || apt-get install -y chromium chromium-driver || echo "no chromium: the browser tests will be skipped"
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

reliability: $(STAMP)
	$(BIN)/python -m pytest -m reliability tests/reliability

clean:
	rm -rf $(VENV) demo.db demo.db-wal demo.db-shm archive .pytest_cache
