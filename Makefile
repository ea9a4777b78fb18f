# The two commands: `make run` (the demo on embedded defaults) and `make test` (the whole suite).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# Debian packages the suite needs: PDF text and rendering, embedded receipt fonts, the browser,
# the kiosk's speech output.
DEBIAN_PACKAGES := poppler-utils fonts-dejavu-core fonts-ipaexfont-gothic chromium espeak-ng

# Compiled message catalogues (git-ignored), built from the committed .po files.
MO_FILES := $(patsubst %.po,%.mo,$(wildcard kiosk_app/translations/*/LC_MESSAGES/messages.po))

.PHONY: run test lint bench system-deps clean messages screenshots

run: $(VENV)/.run-stamp $(MO_FILES)
	$(BIN)/kiosk db upgrade
	$(BIN)/kiosk demo

test: $(VENV)/.test-stamp system-deps $(MO_FILES)
	$(BIN)/ruff check .
	$(BIN)/pytest

lint: $(VENV)/.test-stamp
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(VENV)/.test-stamp
	$(BIN)/python -m bench

# After changing driver-facing texts: refresh the template and every catalogue, then translate.
messages: $(VENV)/.run-stamp
	$(BIN)/pybabel extract -F babel.cfg -k _l --no-location --sort-output -w 100 \
		--project ev-kiosk --copyright-holder "ev-kiosk contributors" \
		-o kiosk_app/translations/messages.pot .
	$(BIN)/pybabel update -i kiosk_app/translations/messages.pot -d kiosk_app/translations \
		-w 100 --ignore-obsolete

# Refresh the happy-path screenshots in docs/screenshots/ (German and English).
screenshots: $(VENV)/.test-stamp $(MO_FILES)
	UPDATE_DOCS_SCREENSHOTS=1 $(BIN)/pytest tests/kiosk/test_kiosk_browser_screens.py

%.mo: %.po | $(VENV)/.run-stamp
	$(BIN)/pybabel compile -i $< -o $@

system-deps:
	@.ci/system-deps $(DEBIAN_PACKAGES)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.run-stamp: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.test-stamp: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $@ $(VENV)/.run-stamp

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
