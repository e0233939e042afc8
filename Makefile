# Two commands on a fresh machine: `make run` (the demo shop) and `make test`.
PYTHON ?= python3
CHROMIUM ?= /usr/bin/chromium
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench faq-eval clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/reception serve

# The browser tests drive Debian's Chromium; install it when it is missing (needs root, as in CI).
$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "Chromium is missing at $(CHROMIUM) and apt-get is not available: install Debian's chromium package"; exit 1; }
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null

test: $(STAMP) $(CHROMIUM)
	E2E_CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest -q

faq-eval: $(STAMP)
	$(BIN)/reception faq eval

bench: $(STAMP)
	$(BIN)/python bench/webhook_load.py

clean:
	rm -rf $(VENV) *.egg-info
