# The two set-up commands of the README: `make demo` and `make test`.
# Both create .venv and install the package (with its test extra) first.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

install: $(BIN)/.installed

# runs/demo: a later `make demo` replaces the previous demo there (and refuses any other files)
demo: $(BIN)/.installed
	$(BIN)/brian-effplast demo --out runs/demo

# The whole suite (the README's test command), in its two tiers: the quick one
# (`make test-quick`: no test marked slow), then the slow one; pytest's last line
# of each gives the tier's time. Tests marked standalone are skipped where there
# is no C++ compiler.
# The slow tier hands out whole files, longest first (tests/conftest.py says why). Python
# writes the bytecode of the package, so that the many processes the tests start (commands,
# workers, kernels) do not each compile it again, even where PYTHONDONTWRITEBYTECODE is set.
# Hypothesis draws the same examples on every run of `make test` (seed 0), so that its result
# is the commit's; `pytest` without the seed explores new examples each time.
PYTEST = PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -q -n 2 --hypothesis-seed=0

test: test-quick test-slow

test-quick: $(BIN)/.installed
	$(PYTEST) --dist worksteal -m "not slow"

test-slow: $(BIN)/.installed
	$(PYTEST) --dist loadfile --no-loadscope-reorder -m slow

# Which public functions and methods the quick tier never enters: the quick tier under
# coverage (with every process it starts; settings in pyproject.toml), then
# tests/public_coverage.py lists them.
coverage-quick: $(BIN)/.installed
	rm -rf .coverage-data
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m coverage run -m pytest -q -n 2 --dist worksteal -m "not slow" \
		--hypothesis-seed=0
	$(BIN)/python -m coverage combine -q
	$(BIN)/python tests/public_coverage.py .coverage-data/quick brian_effplast

# The documentation site: docs/_build/html/index.html. Installs the docs extra,
# shows the outputs stored in the notebooks of tutorials/ (it stops if one is stale:
# see `make notebooks`), fails on any warning, then runs the docstring examples
# (sphinx.ext.doctest) on the same doctrees.
$(BIN)/.docs-installed: $(BIN)/.installed pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[test,docs]"
	touch $@

docs: $(BIN)/.docs-installed
	$(BIN)/sphinx-build -W --keep-going -b html -d docs/_build/doctrees docs docs/_build/html
	$(BIN)/sphinx-build -W --keep-going -b doctest -d docs/_build/doctrees docs docs/_build/doctest

# Run each notebook of tutorials/ whose code changed since its outputs were stored, at its
# defaults, and store the outputs in it (docs/notebooks.py; `--all` to run every one).
notebooks: $(BIN)/.installed
	$(BIN)/python docs/notebooks.py

.PHONY: install demo test test-quick test-slow coverage-quick docs notebooks
