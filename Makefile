# Two commands: `make demo` and `make test`. Everything else is a helper of those.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install messages translations demo serve test test-sqlite lint format clean-demo worker

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) translations

# Translations (README "Translations"): `make messages` collects every string wrapped in _() / _l()
# into portal/translations/messages.pot and merges it into each language's messages.po;
# translators fill in the empty msgstr lines; `make translations` compiles .po -> .mo.
# BABEL_KEYWORDS is also read by tests/i18n_support.py, which checks that nothing is untranslated.
TRANSLATIONS := portal/translations
LOCALES := zh_Hans_CN
BABEL_KEYWORDS := -k _l -k lazy_gettext -k lazy_ngettext:1,2 -k lazy_pgettext:1c,2

messages: $(STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg $(BABEL_KEYWORDS) --add-location=file --sort-by-file \
		--no-wrap --project="Warranty Portal" --copyright-holder="Warranty Portal" \
		-c TRANSLATORS: -o $(TRANSLATIONS)/messages.pot .
	for locale in $(LOCALES); do \
		$(BIN)/pybabel -q update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) -l $$locale \
			--init-missing --ignore-obsolete --no-wrap || exit 1; \
	done

# Compile the message catalogues (.po -> .mo); the .mo files are build output, not committed.
translations: $(STAMP)
	$(BIN)/pybabel -q compile -d $(TRANSLATIONS)

demo: install
	$(BIN)/flask --app wsgi db upgrade
	DEMO_URL=http://$(HOST):$(PORT) $(BIN)/flask --app wsgi demo
	$(BIN)/flask --app wsgi run --host $(HOST) --port $(PORT)

serve: install
	$(BIN)/flask --app wsgi run --host $(HOST) --port $(PORT)

worker: install
	$(BIN)/flask --app wsgi worker

test: install
	$(BIN)/pytest

test-sqlite: install
	TEST_DATABASE_URL=sqlite TEST_REDIS_URL=none $(BIN)/pytest

# ruff (lint + format) and the layering contracts of .importlinter (lint-imports).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean-demo:
	rm -f instance/portal.db instance/portal.db-wal instance/portal.db-shm
