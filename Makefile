# Two commands for a new user: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test install install-test db reference bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml setup.py importers/_elmo_walk.pyx importers/_xmltree.pyx \
		registry/catalogue/_record_checks.pyx | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

db: install
	$(BIN)/registry db upgrade

reference: db
	$(BIN)/registry load-reference

run: reference
	$(BIN)/registry serve --host $(HOST) --port $(PORT)

test: install-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Each benchmark prints its figures beside a baseline measured in the same run.
bench: install-test
	for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) instance/*.sqlite3* build importers/_elmo_walk.c importers/_elmo_walk.*.so \
		importers/_xmltree.c importers/_xmltree.*.so \
		registry/catalogue/_record_checks.c registry/catalogue/_record_checks.*.so
