#!/usr/bin/env bash
# The step after `scripts/slurm/array.sh`: tables and figures from the records of all array tasks
# (each task's shard file is read as it is; nothing needs merging first). ADATT_BIN names the
# adatt binary, by default as in array.sh.
#SBATCH --job-name=adatt-analyze
#SBATCH --output=adatt-analyze-%j.log
set -euo pipefail
config=${1:?usage: sbatch scripts/slurm/analyze.sh path/to/config.toml [adatt analyze args]}
shift
cache=${ADATT_CACHE:-$HOME/.cache/adatt-rs}
bin=${ADATT_BIN:-${CARGO_TARGET_DIR:-$cache/target}/debug/adatt}
exec "$bin" analyze --config "$config" "$@"
