#!/usr/bin/env bash
# `make figures`: every experiment's tables and figures rewritten from its records, without
# training. Run from the repository root (it reads results/ and configs/):
#
#   scripts/figures.sh BIN_DIR "PROTOCOLS" "EXPERIMENTS" "SIM_EXPERIMENTS"
#
# - Table 5 for each protocol in PROTOCOLS (BIN_DIR/table5 --phase analyze);
# - each Census experiment e of EXPERIMENTS (configs/e.toml): each results/e/<p>/ folder with
#   records, for p in PROTOCOLS (BIN_DIR/adatt analyze with ADATT_PROTOCOL=p). A folder named
#   after no protocol (one made with `--out results/table6/quick`) holds no protocol's results:
#   it is skipped and named;
# - each simulated grid of SIM_EXPERIMENTS with records (configs/<name>.toml), each learning
#   curve of configs/industrial/curves/ with records, each industrial grid of configs/industrial/
#   (Tables 6-8, Figure 3 on the simulator) with records, and each study of configs/baselines/
#   (Tables 1-4) with records (BIN_DIR/baselines --phase analyze); then the regime study's plots
#   (scripts/industrial/plot_curves.py -> docs/img/curves_*.svg) and, with records of the
#   relatedness sweep (configs/industrial/relatedness/), its summary across cosines
#   (scripts/industrial/relatedness.py -> results/relatedness.md, docs/img/relatedness.svg);
#   then, from the verdicts of the simulated tables, the seeds that would resolve their open
#   differences (scripts/industrial/seeds_needed.py -> results/seeds_needed.md).
#
# An analysis that fails does not stop the others; the script then exits with the first
# failure's code and names every failed analysis.
set -uo pipefail
bin=${1:?usage: scripts/figures.sh BIN_DIR PROTOCOLS EXPERIMENTS SIM_EXPERIMENTS}
protocols=${2:?no protocols}
experiments=${3-}
sim_experiments=${4-}
known_protocols=(paper clean)

status=0
failed=()
# Runs a command; on failure remembers its code (the first one) and what it was.
analyse() {
  local what=$1
  shift
  "$@"
  local rc=$?
  if (( rc != 0 )); then
    failed+=("$what")
    if (( status == 0 )); then status=$rc; fi
  fi
}

has_records() { compgen -G "$1/runs*.jsonl" >/dev/null; }

for p in $protocols; do
  echo "== table5, protocol $p =="
  analyse "table5 ($p)" env ADATT_PROTOCOL="$p" "$bin/table5" --config configs/table5.toml \
    --phase analyze
done
for e in $experiments; do
  for d in results/"$e"/*/; do
    d=${d%/}
    has_records "$d" || continue
    p=$(basename "$d")
    if [[ " ${known_protocols[*]} " != *" $p "* ]]; then
      echo "skipped $d: not named after a protocol (${known_protocols[*]})"
      continue
    fi
    [[ " $protocols " == *" $p "* ]] || continue
    echo "== $e, protocol $p =="
    analyse "$d" env ADATT_PROTOCOL="$p" "$bin/adatt" analyze --config "configs/$e.toml"
  done
done
for e in $sim_experiments; do
  compgen -G "results/$e/*/runs*.jsonl" >/dev/null || continue
  echo "== $e =="
  analyse "results/$e" "$bin/adatt" analyze --config "configs/$e.toml"
done

# The learning curves of the industrial regime study: configs/industrial/curves/<c>.toml, whose
# records are in results/curve_<c>/.
for c in configs/industrial/curves/*.toml; do
  [[ -f $c ]] || continue
  n=curve_$(basename "$c" .toml)
  compgen -G "results/$n/*/runs*.jsonl" >/dev/null || continue
  echo "== $n =="
  analyse "results/$n" "$bin/adatt" analyze --config "$c"
done

# A config's `name`, whose results are in results/<name>/<data label>/.
config_name() { sed -n 's/^name = "\(.*\)"$/\1/p' "$1" | head -n 1; }

for c in configs/industrial/*.toml configs/industrial/relatedness/*.toml; do
  [[ -f $c ]] || continue
  n=$(config_name "$c")
  compgen -G "results/$n/*/runs*.jsonl" >/dev/null || continue
  echo "== $n =="
  analyse "results/$n" "$bin/adatt" analyze --config "$c"
done

for c in configs/baselines/*.toml; do
  [[ -f $c ]] || continue
  n=$(config_name "$c")
  compgen -G "results/$n/*/tuning/runs*.jsonl" >/dev/null || continue
  echo "== $n =="
  analyse "results/$n" "$bin/baselines" --config "$c" --phase analyze
done

# The regime study's plots (docs/img/curves_*.svg), from the curves' records.
if [[ -f scripts/industrial/plot_curves.py && -d results/curve_long_group1_w1k_lr3e-3 ]]; then
  echo "== docs/img/curves_*.svg =="
  analyse "docs/img/curves_*.svg" python3 scripts/industrial/plot_curves.py
fi

# The relatedness sweep across its configs (results/relatedness.md, docs/img/relatedness.svg).
if compgen -G "results/relatedness_cos*/*/summary.json" >/dev/null; then
  echo "== relatedness =="
  analyse "results/relatedness.md" python3 scripts/industrial/relatedness.py
fi

# The seeds that would resolve the simulated tables' open differences (results/seeds_needed.md).
if compgen -G "results/*_sim*/*/summary.json" >/dev/null; then
  echo "== seeds needed =="
  analyse "results/seeds_needed.md" python3 scripts/industrial/seeds_needed.py
fi

if (( ${#failed[@]} > 0 )); then
  echo "failed: ${failed[*]}" >&2
fi
exit "$status"
