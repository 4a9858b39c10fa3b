# cytomine-sdk developer commands. Every target sets up .venv itself.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# pip install -e without setuptools' notice that every editable install of a two-folder layout
# (sdk_core/, sdk/) is made with an import hook: there is no folder at the root it could shadow.
PIP_INSTALL := PYTHONWARNINGS="ignore:Editable installation" $(BIN)/pip install --quiet
# openapi-generator-cli and its JDK (66 MB): the `generate` extra, installed by `make generate`,
# `make generator-tools`, and in CI (CI set) by the checks that need it. Elsewhere, without it,
# those checks print that they are skipped and the rest of `make test` runs.
GEN_CLI := $(BIN)/openapi-generator-cli
GEN_STAMP := $(VENV)/.installed-generate
GEN_NEEDED := $(if $(CI)$(wildcard $(GEN_CLI)),$(GEN_STAMP))
GEN_SKIPPED = echo "$@: openapi-generator-cli is not installed, its check is skipped (make generator-tools installs it, a 66 MB download with its JDK; CI always runs it)"

.PHONY: venv generator-tools spec-root generate check-generated validate-spec lint typecheck typecheck-docs verifytypes test pytest test-faults demo bench clean docs

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(PIP_INSTALL) -e '.[dev]'
	touch $(STAMP)

$(GEN_STAMP): $(STAMP)
	$(PIP_INSTALL) -e '.[dev,generate]'
	touch $(GEN_STAMP)

## Install openapi-generator-cli with its JDK (what `make generate` and the generation checks need).
generator-tools: $(GEN_STAMP)

## Rewrite the index of spec/openapi.yaml (tags, paths, exclusions) from spec/services/.
spec-root: $(STAMP)
	$(PY) generator/spec_root.py

## Regenerate sdk/ from spec/ + generator/.
generate: $(GEN_STAMP)
	$(PY) generator/generate.py

## Fail if sdk/ is not exactly what spec/ + generator/ produce.
check-generated: $(STAMP) $(GEN_NEEDED)
	@if [ -x $(GEN_CLI) ]; then set -x; $(PY) generator/generate.py --check; else $(GEN_SKIPPED); fi

## Validate the spec with openapi-generator and openapi-spec-validator.
validate-spec: $(STAMP) $(GEN_NEEDED)
	$(PY) generator/spec_root.py --check
	@if [ -x $(GEN_CLI) ]; then set -x; $(GEN_CLI) validate -i spec/openapi.yaml; else $(GEN_SKIPPED); fi
	$(BIN)/openapi-spec-validator spec/openapi.yaml

lint: $(STAMP)
	$(BIN)/ruff check sdk_core generator tests examples bench tools
	MYPYPATH=tools $(BIN)/mypy --strict tools  # the tools are scripts importing each other

typecheck: $(STAMP)
	$(BIN)/mypy sdk_core/cytomine_sdk
	$(BIN)/pyright --project . --pythonpath $(PY)

## Type-check what users copy: README.md's python blocks and examples/ (mypy --strict, pyright strict).
typecheck-docs: $(STAMP)
	$(PY) -m tests.support.doc_blocks

## The documentation site: the API reference rendered from the package into docs/reference/, then
## `mkdocs build --strict` (any warning fails) into site/. Both git-ignored; open site/index.html.
docs: $(STAMP)
	$(PY) generator/render_docs.py
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

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
	$(PY) bench/run.py $(ARGS)

clean:
	rm -rf $(VENV) build dist *.egg-info .mypy_cache .ruff_cache .pytest_cache
