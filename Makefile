# cytomine-sdk developer commands. Every target sets up .venv itself.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv spec-root generate check-generated validate-spec lint typecheck typecheck-docs verifytypes test pytest test-faults demo bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## Rewrite the index of spec/openapi.yaml (tags, paths, exclusions) from spec/services/.
spec-root: $(STAMP)
	$(PY) generator/spec_root.py

## Regenerate sdk/ from spec/ + generator/.
generate: $(STAMP)
	$(PY) generator/generate.py

## Fail if sdk/ is not exactly what spec/ + generator/ produce.
check-generated: $(STAMP)
	$(PY) generator/generate.py --check

## Validate the spec with openapi-generator and openapi-spec-validator.
validate-spec: $(STAMP)
	$(PY) generator/spec_root.py --check
	$(BIN)/openapi-generator-cli validate -i spec/openapi.yaml
	$(BIN)/openapi-spec-validator spec/openapi.yaml

lint: $(STAMP)
	$(BIN)/ruff check sdk_core generator tests examples bench

typecheck: $(STAMP)
	$(BIN)/mypy sdk_core/cytomine_sdk
	$(BIN)/pyright --project . --pythonpath $(PY)

## Type-check what users copy: README.md's python blocks and examples/ (mypy --strict, pyright strict).
typecheck-docs: $(STAMP)
	$(PY) -m tests.support.doc_blocks

## pyright's type completeness of the public API (cytomine_sdk): fails below 100 %.
verifytypes: $(STAMP)
	$(PY) -m tests.support.verify_types

pytest: $(STAMP)
	$(BIN)/pytest -q

## The fault suite alone (misbehaving local servers); `make test` runs it too.
test-faults: $(STAMP)
	$(BIN)/pytest -q tests/faults

## Everything CI runs.
test: lint typecheck typecheck-docs verifytypes validate-spec check-generated pytest

## Run examples/quickstart.py against CYTOMINE_HOST, or against a local stub server.
demo: $(STAMP)
	$(PY) -m tests.support.demo

## Speed and memory targets, as ratios against baselines measured in the same run (bench/run.py).
bench: $(STAMP)
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) build dist *.egg-info .mypy_cache .ruff_cache .pytest_cache
