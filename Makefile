# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHARTER := $(BIN)/charter

.PHONY: demo test install lint typecheck bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e ".[test]"
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	@echo "== charter validate (specs/)"
	$(CHARTER) --project specs validate
	@echo "== charter datasets"
	$(CHARTER) --project specs datasets list

test: $(STAMP)
	$(BIN)/ruff check core plugins catalog tui charter tests benchmarks
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check core plugins catalog tui charter tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy core plugins charter

bench: $(STAMP)
	$(BIN)/python benchmarks/load_specs.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache specs/.charter
