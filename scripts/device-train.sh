#!/usr/bin/env bash
# make device-train: the simulated tables' pending runs, trained on a lent GPU machine (one
# H200; 10 minutes per command, 64 MiB carried; ../.library/device/README.md) and brought back
# as new record files beside the CPU's.
#
#   scripts/device-train.sh pack [DIR]
#       Strip and compress the built `adatt` and `baselines` binaries into DIR (default
#       device-train/, ignored by git), with their commit and a bundle of recent commits, and
#       print the command to run on the GPU machine.
#   scripts/device-train.sh run [--cpu] DIR OUT BUDGET_S [CONFIG...]
#       On the GPU machine, from the repository root (its copy carries results/, so every grid
#       resumes where the committed records stop): put the checkout at the packed commit, then
#       train each CONFIG's missing runs in turn (default: the TARGETS below) on CUDA with
#       R = 10 seeds per batched group, until BUDGET_S seconds have passed (a step cut by the
#       budget keeps the runs it finished). Writes OUT/train.tar.gz: the lines each records file
#       gained, as `runs.device-<time>.jsonl` beside it (records are read from every
#       `runs*.jsonl` and merged by key), with the invocation manifests and logs.
#       --cpu: the same on the CPU (for the self-test).
#   scripts/device-train.sh selftest
#       `make test`: pack, then `run --cpu` on a tiny copy of a simulated grid; the archive must
#       hold its new records.
#
# Back here: `tar -xzf train.tar.gz` in the repository root, `make figures`, commit.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib/device.sh

# In order: what a session without a GPU cannot finish soonest first. A config under
# configs/baselines/ is a study (the `baselines` binary), any other a grid (`adatt run`).
TARGETS=(
  configs/industrial/table8.toml
  configs/industrial/table8_x4.toml
  configs/baselines/group2.toml
  configs/baselines/group3.toml
  configs/industrial/table7.toml
  configs/industrial/relatedness/cos_0.0.toml
  configs/industrial/relatedness/cos_0.3.toml
  configs/industrial/relatedness/cos_0.6.toml
  configs/industrial/relatedness/cos_0.9.toml
)

pack() {
  local dir="${1:-device-train}"
  pack_binaries device-train "$dir" adatt baselines
  echo "Run on the GPU machine (device tool, carry [\"$dir\"], timeout 600 s):"
  echo "  bash scripts/device-train.sh run $dir \"\$OUT\" 540"
}

# records_snapshot FILE: every records file under results/ with its line count.
records_snapshot() {
  find results -name 'runs*.jsonl' -print0 | xargs -0 -r wc -l | grep -v ' total$' >"$1" || true
}

# The lines each records file gained since SNAPSHOT, as new files under STAGE (same paths).
stage_new_records() {
  local snapshot=$1 stage=$2 stamp=$3
  while IFS= read -r -d '' f; do
    local before now
    before=$(awk -v f="$f" '$2 == f { print $1 }' "$snapshot")
    now=$(wc -l <"$f")
    if ((now > ${before:-0})); then
      mkdir -p "$stage/$(dirname "$f")"
      tail -n +$((${before:-0} + 1)) "$f" >>"$stage/$(dirname "$f")/runs.device-$stamp.jsonl"
      cp "$(dirname "$f")"/invocation*.json "$stage/$(dirname "$f")/" 2>/dev/null || true
    fi
  done < <(find results -name 'runs*.jsonl' -print0)
}

run() {
  local cpu=0
  if [[ "${1:-}" == "--cpu" ]]; then cpu=1; shift; fi
  local dir=${1:?usage: device-train.sh run [--cpu] DIR OUT BUDGET_S [CONFIG...]}
  local out=${2:?usage} budget=${3:?usage}
  shift 3
  local targets=("$@")
  ((${#targets[@]})) || targets=("${TARGETS[@]}")
  mkdir -p "$out"
  local tmp stage stamp
  tmp=$(mktemp -d)
  stage="$tmp/stage"
  stamp=$(date -u +%Y%m%dT%H%M%S)
  unpack_binaries "$dir" "$tmp"
  local device=cpu
  if ((cpu == 0)); then
    use_python_libtorch
    at_packed_commit "$dir" | tee "$tmp/code.txt"
    device=cuda
  fi
  records_snapshot "$tmp/snapshot"
  mkdir -p "$stage/logs"
  local deadline=$((SECONDS + budget)) c
  for c in "${targets[@]}"; do
    local left=$((deadline - SECONDS)) bin=adatt args=(run)
    ((left > 10)) || { echo "$c: skipped (budget spent)" | tee -a "$stage/logs/summary.txt"; continue; }
    if [[ $c == configs/baselines/* ]]; then bin=baselines args=(); fi
    local rc=0 t0=$SECONDS
    ADATT_DEVICE=$device ADATT_REPLICAS=10 ADATT_JOBS=1 \
      timeout "$left" "$tmp/bin/$bin" "${args[@]}" --config "$c" --no-analysis \
      >"$stage/logs/$(basename "$c" .toml).log" 2>&1 || rc=$?
    echo "$c: exit $rc after $((SECONDS - t0)) s" | tee -a "$stage/logs/summary.txt"
  done
  stage_new_records "$tmp/snapshot" "$stage" "$stamp"
  cp "$tmp/code.txt" "$stage/logs/" 2>/dev/null || true
  tar -C "$stage" -czf "$out/train.tar.gz" .
  cp "$stage/logs/summary.txt" "$out/"
  rm -rf "$tmp"
}

selftest() {
  local tmp
  tmp=$(mktemp -d)
  pack "$tmp/pack" >/dev/null
  # A tiny simulated grid inside results/ (so that its records count as new), trained on the CPU.
  local name="device-train-selftest-$$" rel
  rel="results/$name"
  mkdir -p "$rel"
  sed -e "0,/^name = .*/s//name = \"$name\"/" -e 's/^train_rows = .*/train_rows = 2048/' \
    -e 's/^valid_rows = .*/valid_rows = 1024/' -e 's/^test_rows = .*/test_rows = 1024/' \
    -e 's/^seeds = .*/seeds = { start = 0, count = 2 }/' \
    -e "s|^description = |output_dir = \"$rel\"\ndescription = |" \
    configs/industrial/figure3.toml >"$tmp/tiny.toml"
  ADATT_ALLOW_DIRTY=1 run --cpu "$tmp/pack" "$tmp/out" 120 "$tmp/tiny.toml" >/dev/null
  local n
  n=$(tar -xzOf "$tmp/out/train.tar.gz" --wildcards "./$rel/runs.device-*.jsonl" | wc -l)
  rm -rf "$tmp" "$rel"
  [[ "$n" == 2 ]] || { echo "device-train selftest: $n new records in the archive, expected 2" >&2; exit 1; }
  echo "device-train selftest: ok"
}

case "${1:-}" in
  pack) shift; pack "$@" ;;
  run) shift; run "$@" ;;
  selftest) selftest ;;
  *) sed -n '2,23p' "$0"; exit 2 ;;
esac
