# The compendium's commands. Everything runs in .venv, built from the pinned
# requirements-lock.txt with plain Python 3.11 + pip (no conda needed).
#   make reproduce   set up, execute every notebook (parameter set PARAMS) and render it
#   make test        set up, lint, run the unit tests and nbval on the stored notebooks
#   make lab         JupyterLab on the same environment, bound to localhost

PYTHON ?= python3
PARAMS ?= default
FORCE  ?=
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PIP    := $(BIN)/python -m pip --disable-pip-version-check --quiet
export PYDEVD_DISABLE_FILE_VALIDATION := 1
export JUPYTER_PLATFORM_DIRS := 1
# Python byte-compiles each module on its first import and keeps the .pyc, even where the
# shell sets PYTHONDONTWRITEBYTECODE: uv installs without compiling (set-up stays fast), and
# without cached .pyc every kernel would compile pandas, scipy and statsmodels again
# (about 5 s of CPU per process instead of 2).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: help setup $(STAMP) reproduce site test check lint unit lab notebooks standin datadict bench lock clean

help:
	@echo "make reproduce   execute every notebook into reports/$(PARAMS)/ and build its site/"
	@echo "make site        rebuild reports/$(PARAMS)/site/ from the executed notebooks"
	@echo "make test        lint + every test + nbval on the stored notebooks"
	@echo "make check       lint + the tests not marked slow, a quarter of each property test's examples"
	@echo "make lab         JupyterLab on http://127.0.0.1:8888"
	@echo "make notebooks   refresh the notebooks' stored outputs in place (default parameters)"
	@echo "make standin     regenerate the stand-in data in data/standin/"
	@echo "make datadict    regenerate data/standin/datapackage.json from the schema"
	@echo "make bench       run the benchmarks"
	@echo "make lock        re-resolve requirements-lock.txt from requirements.txt"
	@echo "make setup       build .venv only; make lint: ruff; make unit: tests/ in one process"
	@echo "make clean       remove .venv, reports/ and build files"

# tools/bootstrap.py builds .venv from requirements-lock.txt (uv bootstrapped from pip, pip
# if uv cannot run), rebuilds a .venv it cannot reuse (another Python, half-built) and
# refuses a Python other than 3.11 with what to do. .venv's own Python answers first whether
# it is ready (--ready: no shim of a version manager to start); only a no, or no answer, runs
# the full check with $(PYTHON).
setup:
	@$(BIN)/python tools/bootstrap.py --venv $(VENV) --ready 2>/dev/null || \
	  $(PYTHON) tools/bootstrap.py --venv $(VENV)

$(STAMP): setup

# Cached: a notebook runs again only when something it depends on changed (helpers.cache
# says which and why); nothing changed answers in well under a second. FORCE=1 re-runs all.
reproduce: $(STAMP)
	@if [ -z "$(FORCE)" ] && $(BIN)/python -m helpers.cache --params $(PARAMS); then :; else \
	  $(BIN)/python -m helpers.run --params $(PARAMS) $(if $(FORCE),--force) --site; fi

# The readers' edition of the last run of a set, without running the notebooks again.
site: $(STAMP)
	$(BIN)/python -m helpers.site reports/$(PARAMS)

lint: $(STAMP)
	$(BIN)/ruff check src tests notebooks benchmarks tools
	$(BIN)/ruff format --check src tests benchmarks tools

# Tests run in parallel (pytest-xdist, one worker per CPU); a notebook's nbval cells stay
# together on one worker (--dist loadfile), and files go out longest first, in the order
# tests/conftest.py gives them (--no-loadscope-reorder). Every property test runs all its
# examples (QUICK_PROPERTIES cleared, whatever the shell holds).
test: $(STAMP)
	$(BIN)/ruff check src tests notebooks benchmarks tools
	$(BIN)/ruff format --check src tests benchmarks tools
	QUICK_PROPERTIES= $(BIN)/python -m pytest -n auto --dist loadfile --no-loadscope-reorder

# The edit loop: lint and every test not marked slow (no notebook, runner or browser run, no
# test or doctest of a quarter of a second or more), each property test on a quarter of its
# examples (tests/conftest.py); make test runs them all.
check: $(STAMP)
	$(BIN)/ruff check src tests notebooks benchmarks tools
	$(BIN)/ruff format --check src tests benchmarks tools
	QUICK_PROPERTIES=1 $(BIN)/python -m pytest -n auto --dist load -m "not slow" src/helpers tests

unit: $(STAMP)
	$(BIN)/python -m pytest tests

# Bound to localhost; --allow-root only where the user is root (containers, CI machines).
lab: $(STAMP)
	$(BIN)/jupyter lab --ip=127.0.0.1 --no-browser --notebook-dir=. \
		$(if $(filter 0,$(shell id -u)),--allow-root,)

notebooks: $(STAMP)
	$(BIN)/python -m helpers.run --refresh-in-place

standin: $(STAMP)
	$(BIN)/python -m helpers.standin

datadict: $(STAMP)
	$(BIN)/python -m helpers.datadict

# Every speed and memory target, measured (BENCH=--quick skips set-up and make test);
# writes benchmarks/results.md.
BENCH ?=
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py $(BENCH)

lock:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --disable-pip-version-check --quiet -r requirements.txt
	(echo "# Full resolved environment for Python 3.11 (regenerate with 'make lock'; do not edit by hand)."; \
	 .venv-lock/bin/python -m pip freeze --all | grep -v '^pip==' | sort -f) > requirements-lock.txt
	rm -rf .venv-lock

clean:
	rm -rf $(VENV) reports build src/*.egg-info
