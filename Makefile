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

test: $(BIN)/.installed
	$(BIN)/python -m pytest -q -n 2 --dist worksteal

.PHONY: install demo test
