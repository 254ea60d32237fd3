# Shared by scripts/device-check.sh and scripts/device-train.sh (sourced, from the repository
# root): packing built binaries for a GPU machine that receives a copy of the working tree and
# at most 64 MiB in all, and putting that copy at the binaries' commit there.

LIMIT_BYTES=$((64 * 1024 * 1024))
BIN_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/adatt-rs/target}/debug"

# pack_binaries WHO DIR BIN...: strips and compresses BIN... from the build into DIR/bin.tar.xz,
# with the commit they were built from (DIR/commit) and a bundle of the last 50 commits
# (DIR/head.bundle), and checks the size against what a GPU run carries beside the tree.
pack_binaries() {
  local who=$1 dir=$2
  shift 2
  rm -rf "$dir" && mkdir -p "$dir/bin"
  for b in "$@"; do
    [[ -x "$BIN_DIR/$b" ]] || { echo "$who: $BIN_DIR/$b is not built (make build)" >&2; exit 1; }
    strip -o "$dir/bin/$b" "$BIN_DIR/$b"
  done
  # xz -9: its 64 MiB window spans the binaries, which share most of their code (a third smaller
  # than -6 for adatt + baselines).
  XZ_OPT=-9 tar -C "$dir" -cJf "$dir/bin.tar.xz" bin
  rm -rf "$dir/bin"
  # The binaries train only in a checkout at the commit they were built from. The GPU machine's
  # copy of the repository may carry an older .git: the last 50 commits travel as a bundle.
  git rev-parse HEAD >"$dir/commit"
  local basis
  basis=$(git rev-parse -q --verify HEAD~50 || true)
  git bundle create "$dir/head.bundle" "${basis:+$basis..}HEAD" 2>/dev/null
  local bytes tree
  bytes=$(du -sb "$dir" | cut -f1)
  tree=$(tree_bytes)
  if ((bytes + tree > LIMIT_BYTES)); then
    echo "$who: $dir ($bytes bytes) and the working tree ($tree bytes) are over the 64 MiB a" \
      "GPU run carries together" >&2
    exit 1
  fi
  echo "$who: packed $dir ($bytes bytes); with the working tree ($tree bytes), a run carries" \
    "$((bytes + tree)) of its $LIMIT_BYTES bytes."
}

# tree_bytes: what travels to the GPU machine besides the carried paths: tracked files and
# untracked files that git does not ignore.
tree_bytes() {
  git ls-files -z --cached --others --exclude-standard |
    xargs -0 -r stat -c %s 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'
}

# unpack_binaries DIR TMP: DIR's binaries into TMP/bin (python3's tarfile: the GPU machine may
# lack xz).
unpack_binaries() {
  python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' \
    "$1/bin.tar.xz" "$2"
}

# use_python_libtorch: the GPU machine's PyTorch provides libtorch (2.11.0, as ours); the
# binaries load its CUDA backend themselves (adatt_engine::runtime::load_cuda).
use_python_libtorch() {
  local torch_lib
  torch_lib=$(python3 -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')
  export LD_LIBRARY_PATH="$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
}

# at_packed_commit DIR: puts the checkout at the commit the binaries were built from
# (DIR/commit), taken from the pack's bundle where the checkout lacks it: HEAD is detached there
# and the index read from it, the files and branches stay as they are. Prints the commit the
# records will name.
at_packed_commit() {
  local dir=$1 want
  [[ -f "$dir/commit" ]] || { echo "code: no $dir/commit (an older pack)"; return 0; }
  want=$(cat "$dir/commit")
  if [[ "$(git rev-parse -q HEAD 2>/dev/null)" != "$want" ]]; then
    git cat-file -e "$want^{commit}" 2>/dev/null ||
      git fetch -q "$dir/head.bundle" "HEAD:refs/device-check/packed" 2>/dev/null ||
      { echo "code: $want is not in this checkout nor in its bundle: training will be refused"; return 0; }
    git update-ref --no-deref HEAD "$want" && git read-tree HEAD
  fi
  echo "code: $(git rev-parse HEAD), changes: $(git status --porcelain | wc -l)"
}
