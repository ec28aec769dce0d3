# Two commands for a new user: `make run` and `make test`.
# What they install is pinned in constraints.txt (`make lock` writes it anew from the newest
# releases; `make test-latest` runs the suite on those without touching the pinned set).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000
LATEST := .venv-latest
# The build backend is installed pinned too, so the project is built without isolation.
PIP    := pip install --quiet --constraint constraints.txt

# Debian's packages the Python ones need: Pango (WeasyPrint's PDFs) to run, chromium (the
# browser tests) to test. Installed only where missing, as root or through sudo.
APT    := $(if $(filter 0,$(shell id -u)),,sudo) sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$$@"' apt
CATALOGUES := registry/web/translations
MO     := $(patsubst %.po,%.mo,$(wildcard $(CATALOGUES)/*/LC_MESSAGES/messages.po))

.PHONY: run test install install-test db reference signing-key bench clean lock test-latest system system-test translations

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/$(PIP) pip setuptools

$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/$(PIP) pip setuptools
	$(BIN)/$(PIP) --no-build-isolation -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml constraints.txt $(VENV)/.installed
	$(BIN)/$(PIP) --no-build-isolation -e '.[test]'
	touch $@

install: system $(VENV)/.installed $(MO)

install-test: install system-test $(VENV)/.installed-test

system:
	@{ ldconfig -p 2>/dev/null || /sbin/ldconfig -p; } | grep -q 'libpango-1.0.so' || $(APT) libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core

system-test:
	@[ -x /usr/bin/chromium ] || $(APT) chromium

# The pages' compiled message catalogues (the .po files are the source, in git).
$(CATALOGUES)/%/LC_MESSAGES/messages.mo: $(CATALOGUES)/%/LC_MESSAGES/messages.po $(VENV)/.installed
	$(BIN)/pybabel compile --directory $(CATALOGUES) --locale $*

# After changing the pages' text: the template catalogue anew, and each language's merged with it.
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -o $(CATALOGUES)/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i $(CATALOGUES)/messages.pot -d $(CATALOGUES) --ignore-obsolete --no-fuzzy-matching

db: install
	$(BIN)/registry db upgrade

reference: db
	$(BIN)/registry load-reference

# The key the registry signs its statements with, made once (kept when it exists).
signing-key: install
	$(BIN)/registry keys create --if-missing

run: reference signing-key
	PUBLIC_URL="$${PUBLIC_URL:-http://$(HOST):$(PORT)}" $(BIN)/registry serve --host $(HOST) --port $(PORT)

test: install-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The suite on the newest releases of everything, in a virtual environment of its own.
test-latest:
	rm -rf $(LATEST)
	$(PYTHON) -m venv $(LATEST)
	$(LATEST)/bin/pip install --quiet --upgrade pip setuptools
	$(LATEST)/bin/pip install --quiet --upgrade --no-build-isolation -e '.[test]'
	$(LATEST)/bin/python -m pytest $(PYTEST_ARGS)

# constraints.txt from the newest releases: review the difference, run `make test`, commit.
lock:
	rm -rf $(LATEST)
	$(PYTHON) -m venv $(LATEST)
	$(LATEST)/bin/pip install --quiet --upgrade pip setuptools
	$(LATEST)/bin/pip install --quiet --upgrade --no-build-isolation -e '.[test]'
	{ echo "# Every package make run and make test install, pinned. Written by make lock."; \
	  $(LATEST)/bin/pip freeze --all --exclude-editable; } > constraints.txt

# Each benchmark prints its figures beside a baseline measured in the same run.
bench: install-test
	for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) $(LATEST) instance/*.sqlite3* build $(MO)
