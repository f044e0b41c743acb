# aita — developer commands. Every target installs what it needs first.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install lint test bench run clean

install: $(STAMP)

# Re-install only when the project's metadata changes, so `make test` stays quick.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,ocr]"
	touch $(STAMP)

lint: install
	$(BIN)/ruff check aita_cli tests benchmarks
	$(BIN)/ruff format --check aita_cli tests benchmarks
	$(BIN)/mypy

test: install lint
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python -m benchmarks.run $(PARTS)

run: install
	AITA_PROVIDER=offline $(BIN)/aita generate-rubric --assignment sample_exam --data-dir sample_data --force
	AITA_PROVIDER=offline $(BIN)/aita transcribe --assignment sample_exam --data-dir sample_data --force
	AITA_PROVIDER=offline $(BIN)/aita grade --assignment sample_exam --data-dir sample_data --force

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
