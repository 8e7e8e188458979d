# DiploKG: every target bootstraps what it needs from the repository alone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
OUT    ?= dist
HOST   ?= 127.0.0.1
PORT   ?= 8000
VENDOR := api/static/vendor

.PHONY: all venv build validate serve test lint typecheck pytest clean assets update-lists

all: test

# A local virtual environment with the pinned dependencies; redone when the pins change.
$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)

# The query editor (YASGUI) from its pinned npm package (ui/package-lock.json), copied into
# api/static/vendor/ (gitignored). Without npm the home page is a plain query form.
$(VENDOR)/.installed-stamp: ui/package.json ui/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		(cd ui && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) && \
		mkdir -p $(VENDOR) && \
		cp ui/node_modules/@zazuko/yasgui/build/yasgui.min.js \
			ui/node_modules/@zazuko/yasgui/build/yasgui.min.css $(VENDOR)/ && \
		touch $@; \
	else \
		echo "assets: npm not found: the home page falls back to a plain query form (no YASGUI)"; \
	fi

assets: $(VENDOR)/.installed-stamp

build: venv
	$(BIN)/diplokg build --out $(OUT)

validate: venv
	$(BIN)/diplokg validate

# Download the designation lists again (network needed), import them as a dry run, and print
# and save the diffs in $(OUT)/update-lists/ for review; APPLY=1 writes graph/sources/list-*.trig.
update-lists: venv
	$(BIN)/diplokg update-lists --review $(OUT)/update-lists $(if $(APPLY),--apply,)

serve: build assets
	$(BIN)/diplokg serve --dataset $(OUT) --host $(HOST) --port $(PORT)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy

pytest: venv assets
	$(BIN)/pytest -q

test: lint typecheck pytest

clean:
	rm -rf $(OUT) .mypy_cache .ruff_cache .pytest_cache
