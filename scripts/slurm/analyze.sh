#!/usr/bin/env bash
# The step after `scripts/slurm/array.sh`: tables and figures from the records of all array tasks
# (each task's shard file is read as it is; nothing needs merging first).
#SBATCH --job-name=adatt-analyze
#SBATCH --output=adatt-analyze-%j.log
set -euo pipefail
config=${1:?usage: sbatch scripts/slurm/analyze.sh path/to/config.toml [adatt analyze args]}
shift
bin=${ADATT_BIN:-$HOME/.cache/adatt-rs/target/debug/adatt}
exec "$bin" analyze --config "$config" "$@"
