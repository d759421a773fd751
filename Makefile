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

# mypy does not follow setuptools' package-dir mapping: give it a symlinked view of the package
typecheck: $(STAMP)
	@rm -rf build/typecheck && mkdir -p build/typecheck/charter
	@for f in charter/*.py charter/py.typed; do ln -s ../../../$$f build/typecheck/charter/; done
	@for d in core plugins catalog tui; do ln -s ../../../$$d build/typecheck/charter/$$d; done
	cd build/typecheck && ../../$(BIN)/mypy -p charter

bench: $(STAMP)
	$(BIN)/python benchmarks/load_specs.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache specs/.charter
