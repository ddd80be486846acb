# unet-explain: two commands on a fresh machine.
#   make run    set up everything, print the paper's table, draw the U (build/unet.png), build the site (site/)
#   make test   set up everything, then lint, type-check and run the whole test suite (2 workers)
PYTHON ?= python3
# Python caches the bytecode of what it imports (in .venv/ and the source tree). Where PYTHONDONTWRITEBYTECODE
# is set, every process would compile TensorFlow again: import keras takes 8 s instead of 3.
unexport PYTHONDONTWRITEBYTECODE
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test checks setup setup-test lint bench mutate figures serve clean

run: setup
	$(BIN)/unet-explain table
	@mkdir -p build
	$(BIN)/unet-explain diagram -o build/unet.png
	$(BIN)/unet-explain docs build
	@echo "Browse the site: .venv/bin/unet-explain docs serve  (then open http://127.0.0.1:8000/)"

# What the test workers import. One process imports it, and so byte-compiles it, while mypy runs (about 10 s on
# the other core); else both workers would compile it as the tests start (about 15 s of the suite's time).
WARM_IMPORTS := keras, scipy.ndimage, matplotlib.pyplot, mkdocs.commands.build, material, playwright.sync_api, \
  hypothesis, rich.console, griffe, pydot, PIL.Image

# apt-get, where Graphviz or Chromium is missing (most of a fresh machine's set-up), runs in the background while
# the Python environment is made (and, for the tests, checked); Ctrl-C stops it too. A dry run (make -n) only
# says it would run it: a line that calls $(MAKE) runs even then.
DRY_RUN := $(findstring n,$(firstword -$(MAKEFLAGS)))
define with_system_deps
$(if $(DRY_RUN),echo "scripts/system-deps.sh $(1) (in the background)";,scripts/system-deps.sh $(1) & deps=$$!; \
  trap 'kill $$deps 2>/dev/null' INT TERM;) $(MAKE) --no-print-directory $(2); made=$$?; \
  $(if $(DRY_RUN),exit $$made,wait $$deps && exit $$made)
endef

test:
	$(call with_system_deps,graphviz chromium,$(STAMP) checks)
	$(BIN)/pytest -n 2 --dist loadgroup

checks: $(STAMP)
	$(BIN)/ruff check .
	{ $(BIN)/python -c 'import $(WARM_IMPORTS)' 2>$(VENV)/warm.log || { cat $(VENV)/warm.log; exit 1; }; } & \
	  warm=$$!; $(BIN)/mypy; typed=$$?; wait $$warm; warmed=$$?; [ $$typed -ne 0 ] && exit $$typed; exit $$warmed

setup:
	$(call with_system_deps,graphviz,$(STAMP))

setup-test:
	$(call with_system_deps,graphviz chromium,$(STAMP))

# uv installs the dependencies (TensorFlow is most of them) in parallel: 8-16 s where pip took 42 s. Where uv
# cannot be had or cannot reach an index (pip may be configured for a mirror that uv does not read), pip installs.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	{ $(BIN)/python -m pip install --quiet --disable-pip-version-check 'uv>=0.5,<1' \
	  && $(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[dev]'; } \
	  || $(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

# Plant each bug of mutations/*.patch in a temporary copy and run the tests that must notice (minutes; not in CI).
mutate: setup-test
	$(BIN)/python scripts/mutate.py

figures: setup
	$(BIN)/unet-explain diagram -o docs/assets/unet.png
	$(BIN)/unet-explain diagram --theme dark -o docs/assets/unet-dark.png

bench: setup
	$(BIN)/python benchmarks/bench.py

clean:
	rm -rf $(VENV) site build .pytest_cache .mypy_cache .ruff_cache .hypothesis
