# Two commands on a fresh machine: `make run` (the demo shop) and `make test`.
PYTHON ?= python3
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

test: $(STAMP)
	$(BIN)/python -m pytest -q

faq-eval: $(STAMP)
	$(BIN)/reception faq eval

bench: $(STAMP)
	$(BIN)/python bench/webhook_load.py

clean:
	rm -rf $(VENV) *.egg-info
