#!/usr/bin/env bash
# make device-check: the GPU check, prepared here and run on a GPU machine (one H200 with
# torch 2.11.0+cu130 in its python3, nothing reachable from it, 10 minutes per command, 64 MiB
# of carried files; ../.library/device/README.md).
#
#   scripts/device-check.sh pack [DIR]
#       Strip and compress the built `adatt` and `bench` binaries into DIR (default
#       device-check/, ignored by git), check the 64 MiB limit, and print the command to run on
#       the GPU machine (the tracked data and configs travel with the working tree).
#   scripts/device-check.sh run [--cpu] DIR OUT
#       On the GPU machine, from the repository root: unpack DIR, use the python3's libtorch
#       (same version as ours), and write to OUT: nvidia-smi, the CUDA step against the CPU for
#       every Table 5 model (`adatt parity`, within 1e-4, both input paths), the CUDA rows of the
#       bench at R = 1, 10, 100 (configs/device-check/bench.toml) and a timed Table 5 slice
#       (10 seeds of every row of the paper protocol at R = 10, cut at its time budget; its
#       records give the seconds per run) and a timed slice of the simulated Table 6 (10 seeds
#       at R = 10 in the 2.8M-example regime, cut at its budget). --cpu: the same on the CPU at tiny sizes (the sparse
#       kernels against the dense path, one-step bench, one-epoch slice on 1,024 rows).
#   scripts/device-check.sh selftest
#       `make test`: pack into a temporary directory, then `run --cpu` from it.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib/device.sh

pack() {
  local dir="${1:-device-check}"
  pack_binaries device-check "$dir" adatt bench
  echo "Run on the GPU machine (device tool, carry [\"$dir\"], timeout 600 s; the tool brings"
  echo "back at most 8 files, so the outputs come back as one archive):"
  echo "  bash scripts/device-check.sh run $dir /tmp/dc; tar -C /tmp -czf \"\$OUT/dc.tar.gz\" dc"
}

# Runs a step with a time budget; its output goes to OUT/<name>.log, and a failure or timeout
# is noted in OUT/summary.txt without stopping the other steps. A step named `*-cut` is meant to
# be cut at its budget (a timed slice whose records are the measurement): its timeout counts as
# success.
step() {
  local name=$1 budget=$2
  shift 2
  local t0=$SECONDS rc=0
  timeout "$budget" "$@" >"$OUT/$name.log" 2>&1 || rc=$?
  if [[ $rc == 124 && $name == *-cut ]]; then
    echo "$name: exit 0 (cut at its budget of $budget s)" | tee -a "$OUT/summary.txt"
  else
    echo "$name: exit $rc after $((SECONDS - t0)) s (budget $budget s)" | tee -a "$OUT/summary.txt"
  fi
  return 0
}

run() {
  local cpu=0
  if [[ "${1:-}" == "--cpu" ]]; then cpu=1; shift; fi
  local dir=${1:?usage: device-check.sh run [--cpu] DIR OUT}
  OUT=${2:?usage: device-check.sh run [--cpu] DIR OUT}
  mkdir -p "$OUT"
  : >"$OUT/summary.txt"
  RUN_TMP=$(mktemp -d)
  trap 'rm -rf "$RUN_TMP"' EXIT
  local tmp=$RUN_TMP
  unpack_binaries "$dir" "$tmp"
  local adatt="$tmp/bin/adatt" bench="$tmp/bin/bench"
  if (( cpu == 0 )); then
    use_python_libtorch
    python3 -c 'import torch; print(torch.__version__, torch.cuda.get_device_name(0))' >"$OUT/torch.txt" 2>&1 || true
    at_packed_commit "$dir" | tee "$OUT/code.txt"
    nvidia-smi >"$OUT/nvidia-smi.txt" 2>&1 || true
    step parity-dense 90 "$adatt" parity --config results/table5/config.toml --device cuda \
      --input dense --out "$OUT/parity-dense.json"
    step parity-sparse 90 "$adatt" parity --config results/table5/config.toml --device cuda \
      --input sparse --out "$OUT/parity-sparse.json"
    step bench 150 "$bench" --config configs/device-check/bench.toml --devices cuda \
      --out "$OUT/bench"
    step table5-slice-cut 150 "$adatt" run --config results/table5/config.toml --seeds 10 \
      --device cuda --replicas 10 --jobs 1 --out "$OUT/table5-slice"
    step sim-slice-cut 100 "$adatt" run --config configs/industrial/table6.toml --seeds 10 \
      --device cuda --replicas 10 --jobs 1 --no-analysis --out "$OUT/sim-slice"
  else
    sed -e 's/^replicas = .*/replicas = [1]/' -e 's/^steps = .*/steps = 2/' \
      -e 's/^warmup_steps = .*/warmup_steps = 1/' configs/device-check/bench.toml >"$tmp/bench.toml"
    sed -e 's/^epochs = 10$/epochs = 1/' -e 's/^max_train_rows = 0$/max_train_rows = 1024/' \
      results/table5/config.toml >"$tmp/slice.toml"
    step parity-sparse 120 "$adatt" parity --config results/table5/config.toml --device cpu \
      --input sparse --rows 128 --out "$OUT/parity-sparse.json"
    step bench 300 "$bench" --config "$tmp/bench.toml" --devices cpu --threads 1 --out "$OUT/bench"
    # A timing slice, not a result: it trains from whatever checkout carried the pack.
    step table5-slice 300 "$adatt" run --config "$tmp/slice.toml" --seeds 1 --device cpu \
      --replicas 1 --jobs 1 --threads 1 --allow-dirty --out "$OUT/table5-slice"
  fi
  cat "$OUT/summary.txt"
  ! grep -qv ': exit 0 ' "$OUT/summary.txt"
}

selftest() {
  local tmp
  tmp=$(mktemp -d)
  pack "$tmp/pack" >/dev/null
  run --cpu "$tmp/pack" "$tmp/out"
  # Every step wrote what the GPU run's analysis reads.
  for f in parity-sparse.json bench/bench.md bench/bench.csv table5-slice/runs.jsonl; do
    [[ -s "$tmp/out/$f" ]] || { echo "device-check selftest: $f missing" >&2; exit 1; }
  done
  local runs
  runs=$(wc -l <"$tmp/out/table5-slice/runs.jsonl")
  [[ "$runs" == 10 ]] || { echo "device-check selftest: $runs slice runs, expected 10" >&2; exit 1; }
  rm -rf "$tmp"
  echo "device-check selftest: ok"
}

case "${1:-}" in
  pack) shift; pack "$@" ;;
  run) shift; run "$@" ;;
  selftest) selftest ;;
  *) sed -n '2,21p' "$0"; exit 2 ;;
esac
