# Two commands do everything on a fresh machine with Python 3.11 and make:
#   make chat   install, migrate, seed the demo data and talk to the bot in the terminal
#   make test   install with the test extras and run the whole suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: chat test install install-test catalogs extract bench lint clean replicas

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed catalogs

install-test: $(VENV)/.installed-test catalogs

# Compiled catalogs (.mo) are build output, never committed.
catalogs: | $(BIN)/python
	@if ls locales/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then \
		$(BIN)/pybabel compile -d locales -D messages 2>&1 | grep -v '^compiling' || true; \
	fi

# For developers after changing texts: refresh the template and both catalogs.
extract: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k _ -k gettext -k ngettext:1,2 -k lazy_gettext \
		--project=helpdesk-bot --version=0.1.0 --no-location --sort-output -o locales/messages.pot .
	$(BIN)/pybabel update -i locales/messages.pot -d locales -D messages --no-fuzzy-matching --ignore-obsolete

# The demo's whole description is `helpdesk demo seed` (and the README); the console
# says in two lines whose account it is and where the rest is.
chat: install
	@$(BIN)/helpdesk db upgrade
	@$(BIN)/helpdesk demo seed > /dev/null
	$(BIN)/helpdesk chat --email demo@example.com --summary

test: install-test
	$(BIN)/python -m pytest

# The quality gates CI runs: lint, formatting, types.
lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: install
	$(BIN)/python bench/kb_bench.py

clean:
	rm -rf $(VENV) data .pytest_cache .hypothesis

# N `helpdesk serve` replicas behind HAProxy on this machine (HELPDESK_DATABASE_URL must be
# PostgreSQL; the Slack settings as for `helpdesk serve`). HAProxy is installed if missing.
N    ?= 3
PORT ?= 8080
replicas: install
	$(BIN)/helpdesk db upgrade
	$(BIN)/python deploy/replicas.py --replicas $(N) --port $(PORT)
