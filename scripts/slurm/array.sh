#!/usr/bin/env bash
# Run one experiment grid as a Slurm job array: array task k of N trains shard k/N of the grid
# (`adatt run --shard k/N`), appending to its own records file in the results directory, which
# must be on a file system that every node sees. Analyse once every task has finished:
#
#   sbatch --array=1-8 --cpus-per-task=2 scripts/slurm/array.sh configs/table7.toml
#   sbatch --dependency=afterany:<array job id> scripts/slurm/analyze.sh configs/table7.toml
#
# Array tasks that fail or time out leave their finished runs recorded: submit the array again
# and each task trains only what its shard still misses. ADATT_BIN names the adatt binary (default:
# the one `make build` puts in ~/.cache/adatt-rs/target/debug); ADATT_PROTOCOL, ADATT_SEEDS, ...
# are read as usual.
#SBATCH --job-name=adatt-grid
#SBATCH --output=adatt-%A_%a.log
set -euo pipefail
config=${1:?usage: sbatch --array=1-N scripts/slurm/array.sh path/to/config.toml [adatt run args]}
shift
k=${SLURM_ARRAY_TASK_ID:?not in a Slurm job array}
n=${SLURM_ARRAY_TASK_COUNT:?not in a Slurm job array}
bin=${ADATT_BIN:-$HOME/.cache/adatt-rs/target/debug/adatt}
exec "$bin" run --config "$config" --shard "$k/$n" --threads "${SLURM_CPUS_PER_TASK:-1}" \
  --no-analysis "$@"
