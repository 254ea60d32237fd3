#!/usr/bin/env bash
# Run one experiment grid as a Slurm job array: the array's k-th task of N trains shard k/N of
# the grid (`adatt run --shard k/N`), appending to its own records file in the results
# directory, which must be on a file system that every node sees. Analyse once every task has
# finished:
#
#   sbatch --array=1-8 --cpus-per-task=2 scripts/slurm/array.sh configs/table7.toml
#   sbatch --dependency=afterany:<array job id> scripts/slurm/analyze.sh configs/table7.toml
#
# The array is any range A-B or A-B:S (`--array=0-7`, `--array=1-15:2`): k counts its tasks from
# 1 (k = (task id - A) / S + 1) and N is their number, so the tasks cover shards 1..N once. A
# list of ids (`--array=1,4,9`) is refused, as it leaves gaps. Array tasks that fail or time out
# leave their finished runs recorded: submit the array again and each task trains only what its
# shard still misses. ADATT_BIN names the adatt binary (default: the one `make build` puts in
# $CARGO_TARGET_DIR/debug, or $ADATT_CACHE/target/debug with ADATT_CACHE defaulting to
# ~/.cache/adatt-rs); ADATT_PROTOCOL, ADATT_SEEDS, ... are read as usual.
#SBATCH --job-name=adatt-grid
#SBATCH --output=adatt-%A_%a.log
set -euo pipefail
config=${1:?usage: sbatch --array=1-N scripts/slurm/array.sh path/to/config.toml [adatt run args]}
shift
id=${SLURM_ARRAY_TASK_ID:?not in a Slurm job array}
min=${SLURM_ARRAY_TASK_MIN:?not in a Slurm job array (SLURM_ARRAY_TASK_MIN is not set)}
max=${SLURM_ARRAY_TASK_MAX:?not in a Slurm job array (SLURM_ARRAY_TASK_MAX is not set)}
count=${SLURM_ARRAY_TASK_COUNT:?not in a Slurm job array (SLURM_ARRAY_TASK_COUNT is not set)}
step=${SLURM_ARRAY_TASK_STEP:-1}
n=$(( (max - min) / step + 1 ))
if (( step < 1 || (max - min) % step != 0 || n != count || (id - min) % step != 0 )); then
  echo "array.sh: the job array must be a range A-B or A-B:S (got task $id of ids $min-$max" \
    "step $step, $count tasks); submit it as --array=1-$count" >&2
  exit 1
fi
k=$(( (id - min) / step + 1 ))
cache=${ADATT_CACHE:-$HOME/.cache/adatt-rs}
bin=${ADATT_BIN:-${CARGO_TARGET_DIR:-$cache/target}/debug/adatt}
exec "$bin" run --config "$config" --shard "$k/$n" --threads "${SLURM_CPUS_PER_TASK:-1}" \
  --no-analysis "$@"
