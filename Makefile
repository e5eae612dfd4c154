# transferapp: `make run` starts the app, `make test` installs what the tests need and runs them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench clean system-deps forms screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[gui,test,dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/transferapp

system-deps:
	bash scripts/install-system-deps.sh

test: system-deps $(STAMP)
	$(BIN)/python -m pytest -q -ra $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check transferapp tests bench scripts
	$(BIN)/mypy

forms: $(STAMP)
	$(BIN)/python scripts/build_forms.py

screenshots: system-deps $(STAMP)
	$(BIN)/python scripts/screenshots.py

bench: system-deps $(STAMP)
	$(BIN)/python -m bench.run_all

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
