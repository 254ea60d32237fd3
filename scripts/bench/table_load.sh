#!/usr/bin/env bash
# The table loader's throughput and peak memory (docs/performance.md, "Loading a table"):
# writes ROWS simulated group3 rows (default 5,000,000) into each of two Parquet shards under
# DIR (default /tmp/adatt-table-load; kept for a rerun), then `adatt load-table` on
# configs/table_load.toml: read, split, encode and make the training tensors.
#   scripts/bench/table_load.sh [DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${1:-/tmp/adatt-table-load}
rows=${ROWS:-5000000}
bin=${BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/adatt-rs/target}/debug}/adatt
mkdir -p "$dir"
for s in 0 1; do
  stream=$([[ $s == 0 ]] && echo train || echo valid)
  if [[ ! -f "$dir/part-$s.parquet" ]]; then
    "$bin" simulate --preset group3 --rows "$rows" --stream "$stream" --out "$dir/part-$s.parquet.tmp.parquet" >/dev/null
    mv "$dir/part-$s.parquet.tmp.parquet" "$dir/part-$s.parquet"
  fi
done
ls -l "$dir"/part-*.parquet
TABLE_LOAD_DIR=$dir "$bin" load-table --config configs/table_load.toml
