# gongbao — the two commands of the README, and the slow ones kept out of the tests.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DB ?= gongbao.db
PORT ?= 8001

.PHONY: setup test demo serve bench train clean system-deps

$(BIN)/gongbao: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[test]"
	touch $(BIN)/gongbao

setup: $(BIN)/gongbao

# Debian packages for the page tests (headless Chromium) and CJK fonts for charts; needs root.
system-deps:
	@if command -v apt-get >/dev/null 2>&1 && ! { command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi "noto.*cjk"; }; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-noto-cjk >/dev/null) \
	  || echo "warning: could not install chromium/fonts-noto-cjk; browser tests will be skipped"; \
	fi

# Set up and run the whole test suite.
test: setup system-deps
	$(BIN)/python -m pytest -q

# Set up, ingest the bundled corpus/ into a local SQLite file and publish it on 127.0.0.1.
demo: setup
	$(BIN)/gongbao ingest corpus/ --db $(DB)
	$(BIN)/gongbao serve --db $(DB) --port $(PORT)

bench: setup
	$(BIN)/pip install -q -e ".[bench]"
	$(BIN)/python benchmarks/run_all.py

train: setup
	$(BIN)/gongbao train

clean:
	rm -rf $(VENV) $(DB) artifacts .pytest_cache
