# Two commands on a fresh machine: `make run` (the demo shop) and `make test`.
PYTHON ?= python3
CHROMIUM ?= /usr/bin/chromium
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-clock system-packages bench faq-eval docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,semantic,docs,wecom]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/reception serve

# What the suite needs from the system, each checked on its own (a machine that already has
# Chromium still gets the CJK fonts): Debian's Chromium for the browser tests, CJK fonts for
# their screenshots, faketime for the wall-clock check, the sqlite3 shell for the backup command the
# docs show (tests/test_docs.py runs it), PostgreSQL for the store tests' [postgresql] runs (the suite
# starts its own server in a temporary directory), nginx for the balancer in front of three instances
# (tests/test_scaleout.py runs deploy/nginx.conf). Installing needs root, as in CI.
SYSTEM_PACKAGES := chromium fonts-noto-cjk faketime sqlite3 postgresql nginx
system-packages:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    command -v apt-get >/dev/null || { echo "missing system packages: $$missing (install them with your package manager)"; exit 1; }; \
	    echo "installing $$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

# The suite always runs with the process clock shifted by faketime (installed by system-packages), so a test
# that depends on the hour, the day or the machine's timezone fails at once: `make test` at 03:00 in Shanghai
# (outside the default service hours), `make test-clock` (CI runs both) at 23:30 in Shanghai and across New
# York's spring-forward change (the run starts a minute before it). Monotonic time is shifted too but keeps its
# real pace (libfaketime 0.9.10 breaks time.sleep under FAKETIME_DONT_FAKE_MONOTONIC).
FAKETIME_RUN = E2E_CHROMIUM=$(CHROMIUM) faketime -f
# ruff and mypy first (pyproject.toml configures them): a lint or type error fails the target before the suite runs.
# Two workers (pytest-xdist), one per core, a test file each at a time (its module fixtures, such as the browser
# tests' server, start once): 9 minutes on one core become 5.
test: $(STAMP) system-packages
	$(BIN)/ruff check reception plugins bench tests
	$(BIN)/mypy reception plugins
	TZ=Asia/Shanghai $(FAKETIME_RUN) '@2026-12-02 03:00:00' $(BIN)/python -m pytest -q -p no:cacheprovider -n 2 --dist loadfile

# SQLite only: these runs look for tests that depend on the time of day, which no store back-end changes.
# The two run side by side (one per core; CI's 15 minutes): each fails the target on its own. Left out of them:
# the browser tests (a quarter of the suite's time; they ran at 03:00 in `make test`, and two suites beside
# them slowed Chromium until a page missed its waits) and the schemathesis run (its app is on the virtual clock).
CLOCK_PYTEST = $(BIN)/python -m pytest -q -p no:cacheprovider \
	--ignore-glob='tests/test_*browser*.py' --ignore=tests/test_fuzz.py
test-clock: $(STAMP) system-packages
	RECEPTION_TEST_STORES=sqlite TZ=Asia/Shanghai $(FAKETIME_RUN) '@2026-12-01 23:30:00' $(CLOCK_PYTEST) & late=$$!; \
	RECEPTION_TEST_STORES=sqlite TZ=America/New_York $(FAKETIME_RUN) '@2027-03-14 01:59:00' $(CLOCK_PYTEST); dst=$$?; \
	wait $$late; late=$$?; echo "test-clock: 23:30 Shanghai exit $$late, New York DST exit $$dst"; [ $$late -eq 0 ] && [ $$dst -eq 0 ]

# The manual in docs/ as a site in site/ (mkdocs.yml). Strict: a broken link or anchor, or a page missing from
# the nav, fails it. Material's banner about its successor is noise in CI.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict -d site

faq-eval: $(STAMP)
	$(BIN)/reception faq eval

bench: $(STAMP)
	$(BIN)/python bench/webhook_load.py

clean:
	rm -rf $(VENV) *.egg-info
