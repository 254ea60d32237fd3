# adatt-rs: every target that needs libtorch depends on `setup`, so a fresh clone needs only
# `make table5` or `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Cache outside the clone, reused across clones and CI runs (override with ADATT_CACHE / ADATT_VENV).
ADATT_CACHE ?= $(HOME)/.cache/adatt-rs
ADATT_VENV ?= $(ADATT_CACHE)/venv
export CARGO_TARGET_DIR ?= $(ADATT_CACHE)/target
PYTHON := $(ADATT_VENV)/bin/python
# Binaries use the dev profile (optimised; see Cargo.toml), shared with the tests.
BIN := $(CARGO_TARGET_DIR)/debug

# libtorch: from the venv's torch 2.11.0 (default), or from an existing libtorch 2.11.0 given as LIBTORCH=/path.
ifeq ($(strip $(LIBTORCH)),)
export LIBTORCH_USE_PYTORCH := 1
export VIRTUAL_ENV := $(ADATT_VENV)
export PATH := $(ADATT_VENV)/bin:$(PATH)
endif

# Results of experiments: overridable per run.
SEEDS ?=
PROTOCOL ?=
THREADS ?= $(shell nproc)

.PHONY: help setup build test fmt clippy fixtures data-summary table5 figures bench clean-cache

help:
	@echo "make table5        set up (venv + build) and reproduce the paper's Table 5 under results/table5/"
	@echo "make test          set up, then fmt --check, clippy -D warnings, regenerate PyTorch/sklearn fixtures, cargo test"
	@echo "make data-summary  rows, features and positive rate per task per split, both protocols"
	@echo "make setup         create/reuse the libtorch venv ($(ADATT_VENV))"

$(ADATT_VENV)/.adatt-setup-ok: scripts/setup-venv.sh
	@scripts/setup-venv.sh "$(ADATT_VENV)"

setup: $(ADATT_VENV)/.adatt-setup-ok

build: setup
	cargo build --workspace --bins

fmt:
	cargo fmt --all -- --check

clippy: setup
	cargo clippy --workspace --all-targets -- -D warnings

# Oracle fixtures: PyTorch model outputs, sklearn metrics, the numpy split. Regenerated from the
# scripts on every `make test`, so the tests always compare against the oracles themselves.
fixtures: setup
	$(PYTHON) scripts/make_fixtures.py

test: setup fmt clippy fixtures
	cargo test --workspace --all-targets
	# The model tests again on one intra-op thread, where `gate_cols` takes its other softmax
	# layout (the one `make table5` trains with): golden outputs, sparse kernels, replicas.
	OMP_NUM_THREADS=1 cargo test -p adatt-models --tests

data-summary: build
	$(BIN)/adatt data-summary

# Table 5: paper protocol -> results/table5/, clean protocol -> results/table5/clean/.
# PROTOCOL=paper|clean restricts to one; SEEDS=N (or a list) overrides the 100 final seeds.
TABLE5_PROTOCOLS := $(if $(strip $(PROTOCOL)),$(PROTOCOL),paper clean)
table5: build
	$(BIN)/adatt data-summary --protocol both
	@for p in $(TABLE5_PROTOCOLS); do \
	  echo "== table5, protocol $$p =="; \
	  PROTOCOL=$$p SEEDS="$(SEEDS)" $(BIN)/table5 --config configs/table5.toml || exit 1; \
	done

# Regenerate every table and figure from the records, without training.
figures: build
	@for p in paper clean; do \
	  PROTOCOL=$$p SEEDS="$(SEEDS)" $(BIN)/table5 --config configs/table5.toml --phase analyze || exit 1; \
	done

# Throughput benchmark (not a test): results/bench/bench.{md,csv}.
bench: build
	$(BIN)/bench --config configs/bench.toml --out results/bench

clean-cache:
	rm -rf "$(CARGO_TARGET_DIR)" "$(ADATT_VENV)"
