# Quick start: `make demo` runs the product on the demo organisation; `make test` passes the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DB ?= sqlite:///peak.db

.PHONY: install constraints demo demo-data app test test-fast bench lint clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/activate
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	touch $@

install: $(VENV)/.installed

## Pin what the suite passes with now (after upgrading a dependency on purpose)
constraints: install
	@{ sed -n '1,2p' constraints.txt; $(BIN)/pip freeze --exclude-editable; } > constraints.txt.new && mv constraints.txt.new constraints.txt

## The demo organisation, evaluated, then the dashboard at http://localhost:8501
demo: demo-data
	@if [ -f app/main.py ]; then $(MAKE) --no-print-directory app; else \
	  $(BIN)/readiness score --db $(DB) --level domain; \
	  $(BIN)/readiness progress --db $(DB); fi

demo-data: install
	$(BIN)/readiness demo --db $(DB)
	@for step in kapacity perftest flashsales; do \
	  if $(BIN)/python -c "import $$step.demo" 2>/dev/null; then $(BIN)/python -m $$step.demo --db $(DB) || exit 1; fi; \
	done
	# Capacity: kapacity.demo (above) wrote traffic that agrees with the inventory and ends now
	# (demo/histories) and ran Kapacity over it; its facts and perftest's go into the rules.
	$(BIN)/readiness collect sources kapacity perftest --db $(DB)
	$(BIN)/readiness evaluate --db $(DB)

app: install
	@$(BIN)/python -m app.users --db $(DB)
	@echo "Dashboard: http://localhost:8501  (Ctrl-C to stop)"
	PEAK_DATABASE_URL=$(DB) KAPACITY_HISTORY_DIR=demo/histories $(BIN)/streamlit run app/main.py --server.headless true --server.port 8501 \
	  --browser.gatherUsageStats false

test: install
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q

test-fast: install
	$(BIN)/python -m pytest -q -x -m "not postgres and not browser and not slow"

## Benchmarks (not in CI): each prints its figures; kapacity_speed takes a mode
bench: install
	@for script in benchmarks/*.py; do \
	  case $$script in *kapacity_speed.py) modes="series run";; *) modes="-";; esac; \
	  for mode in $$modes; do echo "== $$script $${mode#-}"; \
	    $(BIN)/python $$script $${mode#-} || exit 1; done; \
	done

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) peak.db peak.db-wal peak.db-shm demo test-artifacts
