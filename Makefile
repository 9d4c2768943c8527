# Two commands: `make demo` and `make test`. Everything else is a helper of those.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install translations demo serve test test-sqlite lint format clean-demo worker

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) translations

# Compile the message catalogues (.po -> .mo); the .mo files are build output, not committed.
translations: $(STAMP)
	$(BIN)/pybabel compile -q -d portal/translations

demo: install
	$(BIN)/flask --app wsgi db upgrade
	$(BIN)/flask --app wsgi demo
	$(BIN)/flask --app wsgi run --host $(HOST) --port $(PORT)

serve: install
	$(BIN)/flask --app wsgi run --host $(HOST) --port $(PORT)

worker: install
	$(BIN)/flask --app wsgi worker

test: install
	$(BIN)/pytest

test-sqlite: install
	TEST_DATABASE_URL=sqlite TEST_REDIS_URL=none $(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean-demo:
	rm -f instance/portal.db instance/portal.db-wal instance/portal.db-shm
