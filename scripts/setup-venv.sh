#!/usr/bin/env bash
# Create (or reuse) the Python venv that provides libtorch 2.11.0 for tch 0.24 and the
# oracles the tests compare against (numpy, scikit-learn, pandas, safetensors).
# Usage: scripts/setup-venv.sh VENV_DIR
set -euo pipefail
VENV="${1:?usage: setup-venv.sh VENV_DIR}"
TORCH_VERSION="2.11.0"
STAMP="$VENV/.adatt-setup-ok"
PY_PKGS=(numpy==2.4.6 scikit-learn==1.9.1 pandas==3.1.1 safetensors==0.8.0)

check() {
  "$VENV/bin/python" - "$TORCH_VERSION" <<'PY'
import sys
want = sys.argv[1]
try:
    import torch, numpy, sklearn, pandas, safetensors  # noqa: F401
except Exception as e:  # pragma: no cover
    print(f"import failed: {e}"); sys.exit(1)
got = torch.__version__.split("+")[0]
if got != want:
    print(f"wrong torch version {torch.__version__} in venv, tch 0.24 needs {want}"); sys.exit(2)
PY
}

if [[ -f "$STAMP" ]] && check >/dev/null 2>&1; then
  exit 0
fi
echo "setup: creating the libtorch venv at $VENV (torch==$TORCH_VERSION from PyPI, ~5 GB, ~2-4 min)" >&2
mkdir -p "$(dirname "$VENV")"
if [[ ! -x "$VENV/bin/python" ]]; then
  python3 -m venv "$VENV" || { echo "setup: 'python3 -m venv' failed; install python3-venv (Debian: apt-get install python3-venv) and retry" >&2; exit 1; }
fi
"$VENV/bin/python" -m pip install -q --upgrade pip >&2 || true
if ! "$VENV/bin/python" -m pip install -q "torch==$TORCH_VERSION" "${PY_PKGS[@]}" >&2; then
  echo "setup: pip could not install torch==$TORCH_VERSION into $VENV." >&2
  echo "       Check network access to PyPI and free disk (~5 GB), or point LIBTORCH at an existing libtorch $TORCH_VERSION (see README)." >&2
  exit 1
fi
if ! msg=$(check); then
  echo "setup: the venv at $VENV is not usable: $msg" >&2
  echo "       Remove it (rm -rf $VENV) and run 'make setup' again." >&2
  exit 1
fi
touch "$STAMP"
echo "setup: venv ready: $("$VENV/bin/python" -c 'import torch; print(torch.__version__, torch.__file__)')" >&2
