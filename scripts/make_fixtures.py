"""Regenerate every oracle fixture under fixtures/ (run with the project venv's python).

Each scripts/fixtures/*.py writes its own files; `make fixtures` (part of `make test`) runs them
all, so the Rust tests always compare against numpy / scikit-learn / PyTorch themselves.

Another CPU rounds the oracles' last bits differently (PyTorch model outputs move by ~5e-7).
A regenerated file that equals the committed one within TOLERANCE (every number of a JSON or
safetensors file; other files byte for byte) is put back as committed, so that `make test`
leaves a clean tree; a file that differs by more is kept and named, with its largest
difference, so that a real change of an oracle shows in `git status`.
"""
import json
import math
import pathlib
import runpy
import subprocess
import sys

import numpy as np

TOLERANCE = 1e-6

here = pathlib.Path(__file__).resolve().parent
root = here.parent


def committed_fixtures():
    """Tracked files under fixtures/ and their bytes before regeneration (none outside a git
    checkout)."""
    try:
        names = subprocess.run(
            ["git", "-C", str(root), "ls-files", "-z", "fixtures"],
            check=True, capture_output=True,
        ).stdout.decode().split("\0")
    except (OSError, subprocess.CalledProcessError):
        return {}
    out = {}
    for name in filter(None, names):
        path = root / name
        if path.is_file():
            out[path] = path.read_bytes()
    return out


def json_diff(a, b):
    """Largest absolute difference between two JSON values of the same shape (inf if not)."""
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None or isinstance(a, str):
        return 0.0 if a == b else math.inf
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if math.isnan(a) and math.isnan(b):
            return 0.0
        return abs(a - b)
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return max((json_diff(x, y) for x, y in zip(a, b)), default=0.0)
    if isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys():
        return max((json_diff(a[k], b[k]) for k in a), default=0.0)
    return math.inf


def safetensors_diff(old, new):
    from safetensors.numpy import load
    a, b = load(old), load(new)
    if a.keys() != b.keys():
        return math.inf
    worst = 0.0
    for k in a:
        if a[k].shape != b[k].shape or a[k].dtype != b[k].dtype:
            return math.inf
        if a[k].size:
            d = np.abs(a[k].astype(np.float64) - b[k].astype(np.float64))
            worst = max(worst, float(np.nanmax(d)) if not np.isnan(d).all() else 0.0)
    return worst


def difference(path, old, new):
    if path.suffix == ".json":
        return json_diff(json.loads(old), json.loads(new))
    if path.suffix == ".safetensors":
        return safetensors_diff(old, new)
    return math.inf


committed = committed_fixtures()
for script in sorted((here / "fixtures").glob("*.py")):
    print(f"fixtures: {script.name}", file=sys.stderr)
    runpy.run_path(str(script), run_name="__main__")

for path, old in sorted(committed.items()):
    if not path.is_file():
        continue
    new = path.read_bytes()
    if new == old:
        continue
    d = difference(path, old, new)
    if d <= TOLERANCE:
        path.write_bytes(old)
    else:
        print(f"fixtures: {path.relative_to(root)} changed (largest difference {d:.3g})",
              file=sys.stderr)
