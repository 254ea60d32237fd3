# adatt-rs: every target that needs libtorch depends on `setup`, so a fresh clone needs only
# `make table5` or `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Cache outside the clone, reused across clones and CI runs (override with ADATT_CACHE / ADATT_VENV).
ADATT_CACHE ?= $(HOME)/.cache/adatt-rs
ADATT_VENV ?= $(ADATT_CACHE)/venv
export CARGO_TARGET_DIR ?= $(ADATT_CACHE)/target
# Two checkouts that share CARGO_TARGET_DIR share adatt-experiment's build script: a change of
# checkout reruns it, so that the binaries name the commit of the checkout that built them.
export ADATT_CHECKOUT := $(CURDIR)
PYTHON := $(ADATT_VENV)/bin/python
# Binaries use the dev profile (optimised; see Cargo.toml), shared with the tests.
BIN := $(CARGO_TARGET_DIR)/debug

# libtorch: from the venv's torch 2.11.0 (default), or from an existing libtorch 2.11.0 given as LIBTORCH=/path.
ifeq ($(strip $(LIBTORCH)),)
export LIBTORCH_USE_PYTORCH := 1
export VIRTUAL_ENV := $(ADATT_VENV)
export PATH := $(ADATT_VENV)/bin:$(PATH)
# libtorch's lib dir, for test binaries without an rpath to it (below).
TORCH_LIB = $(firstword $(wildcard $(ADATT_VENV)/lib/python3*/site-packages/torch/lib))
else
TORCH_LIB = $(LIBTORCH)/lib
endif

# Results of experiments: overridable per run (empty = the config's value). The binaries read
# them as ADATT_SEEDS, ADATT_PROTOCOL, ... (a project prefix, so that a SEEDS or THREADS your
# shell sets for something else is never read); these Makefile names pass them on.
SEEDS ?=
PROTOCOL ?=
THREADS ?=
JOBS ?=
DEVICE ?=
REPLICAS ?=
CONFIG ?=
ARGS ?=
OVERRIDES = $(if $(SEEDS),ADATT_SEEDS="$(SEEDS)") $(if $(THREADS),ADATT_THREADS="$(THREADS)") \
	$(if $(JOBS),ADATT_JOBS="$(JOBS)") $(if $(DEVICE),ADATT_DEVICE="$(DEVICE)") \
	$(if $(REPLICAS),ADATT_REPLICAS="$(REPLICAS)")

.PHONY: help setup build test fmt clippy fixtures data-summary table5 figures bench run analyze curves relatedness example \
	clean-cache device-check device-train baselines table1 table2 table3 table4

help:
	@echo "Targets (each sets up what it needs: libtorch venv, build):"
	@echo "  make table5        the paper's Table 5, both protocols, under results/table5/ (resumable)."
	@echo "                     Measured on the 2-core CI machine: 14.4 h of training as recorded"
	@echo "                     (9.1 h paper + 6.8 h clean, overlapping by 1.4 h; about 11 h"
	@echo "                     on the current code), plus about 25 min of set-up on a fresh machine."
	@echo "                     SEEDS=5 for a quick look."
	@echo "  make test          fmt --check, clippy -D warnings, oracle fixtures, cargo test, the GPU"
	@echo "                     check's CPU mode (25.8 min measured on a new 2-core machine, of which"
	@echo "                     6.2 min was a second polars build that no longer happens; 3-5 min warm)"
	@echo "  make table6 / table7 / table8 / figure3   the paper's NativeExpertLF ablation, experts"
	@echo "                     per task, fusion levels and expert-weight heatmaps on Census (clean"
	@echo "                     protocol; results/<name>/clean/; resumable). Wall time as recorded on the"
	@echo "                     2-core VMs: Table 6 1.57 h, Table 7 1.75 h, Table 8 5.21 h, Figure 3"
	@echo "                     0.43 h."
	@echo "  make table1 / table2 / table3 / table4 / baselines   the paper's headline tables on the"
	@echo "                     simulated task groups (configs/baselines/; results/baselines_<group>/;"
	@echo "                     tables 1-2 are one study; resumable; docs/industrial.md)"
	@echo "  make table6-sim / table7-sim / table8-sim / figure3-sim / industrial   Tables 6-8 and"
	@echo "                     Figure 3 on the simulator (configs/industrial/; results/<name>_sim/)"
	@echo "  make table8-sim-x4 Table 8 on the simulator with a 4x longer stream (results/table8_sim_x4/;"
	@echo "                     about 30 h of the 2-core CPU, sized for a GPU: make device-train)"
	@echo "  make example       your own data: configs/example_table.toml on a generated CSV log"
	@echo "  make baselines DATA=kuairand KUAIRAND_DIR=...  Tables 1-4 on your copy of KuaiRand (KUAIRAND=1k)"
	@echo "  make relatedness   group1 with the click-like cosine at 0, 0.3, 0.6, 0.9: every model"
	@echo "                     against Shared-bottom and Single-task (docs/industrial.md; 0.86-1.03 h each on 2 cores)"
	@echo "  make curves        the industrial regime study's learning curves (docs/industrial.md;"
	@echo "                     18 configs of 11.2M examples; 100-1,650 s per run on one core, as recorded)"
	@echo "  make figures       rewrite every experiment's tables and figures from the records (no training;"
	@echo "                     results/<name>/<folder>/ only for a folder named paper or clean)"
	@echo "  make run CONFIG=configs/x.toml      train a grid config's missing runs, then analyse it"
	@echo "  make analyze CONFIG=configs/x.toml  tables and figures of a grid config from its records"
	@echo "  make bench         throughput per architecture, and whole runs against a PyTorch peer"
	@echo "                     with same-run ratios (results/bench/); not a test"
	@echo "  make device-check  pack the GPU check and print its command (scripts/device-check.sh)"
	@echo "  make device-train  pack the simulated tables' pending runs for a GPU and print the command"
	@echo "  make data-summary  rows, features and positive rate per task per split, both protocols"
	@echo "  make build         build the binaries ($(BIN)/adatt, table5, baselines, ablation,"
	@echo "                     expert_count, fusion_levels, expert_weights, bench)"
	@echo "  make setup         create/reuse the libtorch venv ($(ADATT_VENV))"
	@echo "  make fixtures      regenerate the PyTorch / scikit-learn / numpy oracle fixtures"
	@echo "  make clean-cache   remove the venv and the cargo target dir"
	@echo "Variables (empty = the config's value):"
	@echo "  PROTOCOL=paper|clean    one preprocessing protocol (table5, figures, run, analyze)"
	@echo "  SEEDS=N or SEEDS=0,3,7  seeds 0..N-1 or a list; a partial look's tables go to seeds-*/"
	@echo "  THREADS=N               intra-op threads (0 = all cores)"
	@echo "  JOBS=N                  table5's shard processes (0 = one per core on the CPU)"
	@echo "  DEVICE=cpu|cuda|auto    REPLICAS=N (seeds trained together as one batched model)"
	@echo "  CONFIG=path.toml        the grid config of make run / make analyze"
	@echo "  ARGS=...                extra arguments, e.g. ARGS=--retry-failed or ARGS='--shard 1/2'"
	@echo "  ADATT_CACHE, ADATT_VENV, CARGO_TARGET_DIR, LIBTORCH: where the venv, build, libtorch are"
	@echo "Exit codes of the binaries: 0 ok, 1 error (one line on stderr), 2 command-line usage error,"
	@echo "3 runs recorded as failed or diverged (ARGS=--retry-failed trains them again)."

$(ADATT_VENV)/.adatt-setup-ok: scripts/setup-venv.sh
	@scripts/setup-venv.sh "$(ADATT_VENV)"

# Two checkouts sharing CARGO_TARGET_DIR: cargo keys a workspace crate by its path inside the
# workspace, not by the checkout, and judges it fresh by its files' modification times, so a
# checkout whose files are older than the other's last build would link the other's code. When
# the checkout that last built here was another, this one's sources are touched first.
setup: $(ADATT_VENV)/.adatt-setup-ok
	@if [ "$$(cat "$(CARGO_TARGET_DIR)/.adatt-checkout" 2>/dev/null)" != "$(CURDIR)" ]; then \
	  find crates experiments build -name '*.rs' -exec touch {} +; \
	  mkdir -p "$(CARGO_TARGET_DIR)" && echo "$(CURDIR)" >"$(CARGO_TARGET_DIR)/.adatt-checkout"; \
	fi

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

# The crates that build models embed libtorch's lib dir as an rpath (build/libtorch.rs). The
# spec and analysis crates do not depend on libtorch, but in a workspace build cargo unifies
# features, so their test binaries link adatt-models with its `torch` feature, and libtorch
# with it, without that rpath: they find it through LD_LIBRARY_PATH.
test: setup fmt clippy fixtures
	LD_LIBRARY_PATH=$(TORCH_LIB)$${LD_LIBRARY_PATH:+:$$LD_LIBRARY_PATH} cargo test --workspace --all-targets
	# The models crate without libtorch, as adatt-spec and adatt-analysis use it (the workspace
	# build unifies features, so only this compiles that configuration).
	cargo check --manifest-path crates/adatt-models/Cargo.toml --no-default-features
	# The model tests again on one intra-op thread, where `gate_cols` takes its other softmax
	# layout (the one `make table5` trains with): golden outputs, sparse kernels, replicas.
	OMP_NUM_THREADS=1 cargo test -p adatt-models --tests
	# The GPU check's script in its CPU mode (pack, size check, tiny run), so it cannot rot.
	cargo build --workspace --bins
	scripts/device-check.sh selftest
	scripts/device-train.sh selftest
	# The power computation behind results/seeds_needed.md, against Cohen's table.
	$(PYTHON) scripts/industrial/seeds_needed.py --selftest

# The GPU check: pack the binaries into device-check/ (ignored) and print the command that runs
# the check on a GPU machine (scripts/device-check.sh; docs/performance.md, "CUDA").
device-check: build
	scripts/device-check.sh pack

# The simulated tables' pending runs on a lent GPU: pack the binaries into device-train/
# (ignored) and print the command (scripts/device-train.sh; docs/performance.md, "CUDA").
device-train: build
	scripts/device-train.sh pack

data-summary: build
	$(BIN)/adatt data-summary

# Table 5: paper protocol -> results/table5/, clean protocol -> results/table5/clean/.
# PROTOCOL=paper|clean restricts to one; SEEDS=N (or a list) overrides the 100 final seeds.
TABLE5_PROTOCOLS := $(if $(strip $(PROTOCOL)),$(PROTOCOL),paper clean)
table5: build
	$(BIN)/adatt data-summary --protocol both
	@for p in $(TABLE5_PROTOCOLS); do \
	  echo "== table5, protocol $$p =="; \
	  ADATT_PROTOCOL=$$p $(OVERRIDES) $(BIN)/table5 --config configs/table5.toml $(ARGS) || exit $$?; \
	done

# Regenerate every table and figure from the records, without training (scripts/figures.sh:
# Table 5 and each experiment's results/<name>/<protocol>/ folders; other folders are skipped).
figures: build
	@$(OVERRIDES) scripts/figures.sh "$(BIN)" "$(TABLE5_PROTOCOLS)" "$(EXPERIMENTS)" "$(SIM_EXPERIMENTS)"

# The paper's other experiments on Census (clean protocol by default; PROTOCOL=paper): Table 6
# (NativeExpertLF ablation), Table 7 (experts per task), Table 8 (fusion levels), Figure 3
# (fused expert weights). Each trains its config's missing runs as JOBS shard processes
# (default one per core), then writes results/<name>/<protocol>/.
EXPERIMENTS := table6 table7 table8 figure3
# Grids on simulated task groups (configs/sim_*.toml, docs/simulator.md).
SIM_EXPERIMENTS := sim_group1
# target -> experiment binary (experiments/<binary>, config configs/<target>.toml)
bin_table6 := ablation
bin_table7 := expert_count
bin_table8 := fusion_levels
bin_figure3 := expert_weights
.PHONY: $(EXPERIMENTS)
$(EXPERIMENTS): build
	$(if $(PROTOCOL),ADATT_PROTOCOL="$(PROTOCOL)") $(OVERRIDES) $(BIN)/$(bin_$@) $(ARGS)

# The paper's Tables 1-4 on the simulated task groups (experiments/baselines, configs/baselines/,
# docs/industrial.md): each a two-phase study (expert counts tuned on validation, then the final
# seeds), resumable. Tables 1 and 2 are the two tasks of one study (group1).
# DATA=kuairand: the same studies on the user's copy of KuaiRand (configs/kuairand/, read from
# KUAIRAND_DIR; KUAIRAND=1k for KuaiRand-1K, default pure). The repository ships no KuaiRand data.
KUAIRAND ?= pure
export KUAIRAND_DIR
baseline_config = $(if $(filter kuairand,$(DATA)),configs/kuairand/$(KUAIRAND)/$(1).toml,configs/baselines/$(1).toml)
table1 table2: build
	$(OVERRIDES) $(BIN)/baselines --config $(call baseline_config,group1) $(ARGS)
table3: build
	$(OVERRIDES) $(BIN)/baselines --config $(call baseline_config,group2) $(ARGS)
table4: build
	$(OVERRIDES) $(BIN)/baselines --config $(call baseline_config,group3) $(ARGS)
baselines: build
	@for g in group1 group2 group3; do \
	  echo "== baselines, $$g =="; \
	  $(OVERRIDES) $(BIN)/baselines --config $(call baseline_config,$$g) $(ARGS) || exit $$?; \
	done

# The paper's industrial Tables 6-8 and Figure 3 on the simulator (configs/industrial/, written by
# scripts/industrial/make_industrial_configs.py; results/<table>_sim/<preset>/), each by the binary
# of its Census version; `make industrial` runs the four in turn.
SIM_TABLES := table6-sim table7-sim table8-sim figure3-sim
.PHONY: $(SIM_TABLES) industrial
$(SIM_TABLES): build
	$(OVERRIDES) $(BIN)/$(bin_$(subst -sim,,$@)) --config configs/industrial/$(subst -sim,,$@).toml $(ARGS)
industrial: $(SIM_TABLES)
# Table 8 on a 4x longer stream: does the 5-level model pass the shallower ones with more examples?
.PHONY: table8-sim-x4
table8-sim-x4: build
	$(OVERRIDES) $(BIN)/fusion_levels --config configs/industrial/table8_x4.toml $(ARGS)

# Any grid config: train its missing runs and analyse (ARGS=--retry-failed, ARGS="--shard 1/2").
run: build
	@test -n "$(CONFIG)" || { echo "make run needs CONFIG=path/to/config.toml"; exit 1; }
	$(if $(PROTOCOL),ADATT_PROTOCOL="$(PROTOCOL)") $(OVERRIDES) $(BIN)/adatt run --config $(CONFIG) $(ARGS)

analyze: build
	@test -n "$(CONFIG)" || { echo "make analyze needs CONFIG=path/to/config.toml"; exit 1; }
	$(if $(PROTOCOL),ADATT_PROTOCOL="$(PROTOCOL)") $(OVERRIDES) $(BIN)/adatt analyze --config $(CONFIG) $(ARGS)

# The industrial regime study's learning curves (configs/industrial/curves/, docs/industrial.md):
# each config's missing runs, in the script's order, one process (ARGS: config names to run).
curves: build
	ADATT_JOBS=$(if $(JOBS),$(JOBS),1) scripts/industrial/curves.sh "$(BIN)/adatt" $(ARGS)

# The relatedness sweep on group1 (configs/industrial/relatedness/, written by
# scripts/industrial/make_relatedness_configs.py; results/relatedness_cos<c>/group1/).
relatedness: build
	@for c in configs/industrial/relatedness/cos_*.toml; do \
	  echo "== $$c =="; \
	  $(OVERRIDES) $(BIN)/adatt run --config $$c $(ARGS) || exit $$?; \
	done

# Your own data: the example config on the generated example log (configs/example_table.toml,
# data/example/interactions.csv from scripts/make_example_table.py) -> results/example_table/.
example: build
	$(OVERRIDES) $(BIN)/adatt run --config configs/example_table.toml $(ARGS)

# Throughput benchmark (not a test): results/bench/bench.{md,csv}.
bench: build
	$(BIN)/bench --config configs/bench.toml --out results/bench

clean-cache:
	rm -rf "$(CARGO_TARGET_DIR)" "$(ADATT_VENV)"
