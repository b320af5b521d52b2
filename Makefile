# OpenVCR — the two commands: `make serve` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve test lint typecheck unit integration e2e browser chromium fuzz bench clean install system-tools

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

serve: $(STAMP)
	$(BIN)/openvcr serve

lint: $(STAMP)
	$(BIN)/ruff check --no-cache src tests bench
	$(BIN)/ruff format --no-cache --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest tests/unit -q

integration: $(STAMP) system-tools
	$(BIN)/pytest tests/integration -q

e2e: $(STAMP) system-tools
	$(BIN)/pytest tests/e2e -q

# Browser tests drive Debian's chromium (never a downloaded one); as root it is installed when missing.
chromium:
	@command -v chromium >/dev/null 2>&1 || (test "$$(id -u)" = 0 && apt-get update -qq && apt-get install -y -qq chromium) \
		|| echo "chromium is not installed: browser tests skip (and fail under CI=true)"

browser: $(STAMP) chromium
	$(BIN)/pytest tests/browser -q

# System tools the tests use (command:Debian package), installed when missing and we are root.
SYSTEM_TOOLS := pdftotext:poppler-utils pdfinfo:poppler-utils

system-tools:
	@missing=""; for pair in $(SYSTEM_TOOLS); do \
		command -v "$${pair%%:*}" >/dev/null 2>&1 || missing="$$missing $${pair#*:}"; \
	done; \
	if [ -n "$$missing" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$(echo $$missing | tr ' ' '\n' | sort -u); \
	fi

test: lint typecheck chromium system-tools
	$(BIN)/pytest -q

# Schemathesis over /openapi.json against a live `openvcr serve`: 250 examples per operation and mode, a fresh
# seed each run (`make test` runs 20, derandomized, in process). OPENVCR_FUZZ_EXAMPLES changes the number.
fuzz: $(STAMP)
	OPENVCR_FUZZ_LIVE=1 OPENVCR_FUZZ_RANDOM=1 OPENVCR_FUZZ_EXAMPLES=$${OPENVCR_FUZZ_EXAMPLES:-250} \
		$(BIN)/pytest -q -s --timeout=7200 tests/integration/fuzz

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
