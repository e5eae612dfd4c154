# transferapp: `make run` starts the app, `make test` installs what the tests need and runs them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench clean system-deps forms screenshots package

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[gui,test,dev,package]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/transferapp

system-deps:
	bash scripts/install-system-deps.sh

test: system-deps $(STAMP)
	$(BIN)/python -m pytest -q -ra $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check transferapp tests bench scripts packaging
	$(BIN)/mypy

forms: $(STAMP)
	$(BIN)/python scripts/build_forms.py

screenshots: system-deps $(STAMP)
	$(BIN)/python scripts/screenshots.py

bench: system-deps $(STAMP)
	$(BIN)/python -m bench.run_all

# The Linux bundle (packaging/dist/transferapp) and .deb; Windows and macOS: see packaging/README.md.
package: system-deps $(STAMP)
	$(BIN)/python packaging/build.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
