#!/usr/bin/env bash
# Trains the learning-curve configs (configs/industrial/curves/, docs/industrial.md) one after
# the other, in the order below (the most informative first), resumably: a config whose runs are
# recorded trains nothing. Usage: scripts/industrial/curves.sh [adatt binary] [config names...]
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:-${CARGO_TARGET_DIR:-${ADATT_CACHE:-$HOME/.cache/adatt-rs}/target}/debug/adatt}
shift || true
order=(
  decay_group1_w250_0.7M decay_group1_w250_2.8M decay_group1_w250_11.2M
  decay_group1_w100_0.7M decay_group1_w100_2.8M decay_group1_w100_11.2M
  decay_group3_w250_0.7M decay_group3_w250_2.8M decay_group3_w250_11.2M
  decay_group3_w100_0.7M decay_group3_w100_2.8M decay_group3_w100_11.2M
  long_group1_w1k_lr3e-3 long_group1_w250_lr3e-3 long_group3_w1k_lr3e-3 long_group3_w250_lr3e-3
  long_group1_w1k_lr1e-2 long_group1_w250_lr1e-2 long_group3_w1k_lr1e-2 long_group3_w250_lr1e-2
  group1_w1k_lr3e-3 group1_w5k_lr3e-3 group1_w50k_lr3e-3
  group1_w1k_lr1e-3 group1_w5k_lr1e-3 group1_w1k_lr1e-2 group1_w5k_lr1e-2
  group3_w1k_lr3e-3 group3_w5k_lr3e-3 group1_w50k_lr1e-3 group1_w50k_lr1e-2
  group3_w1k_lr1e-3 group3_w5k_lr1e-3 group3_w1k_lr1e-2 group3_w5k_lr1e-2
  group3_w50k_lr3e-3 group3_w50k_lr1e-3 group3_w50k_lr1e-2
)
[ $# -gt 0 ] && order=("$@")
for c in "${order[@]}"; do
  echo "== curve $c =="
  "$bin" run --config "configs/industrial/curves/$c.toml"
done
