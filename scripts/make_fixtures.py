"""Regenerate every oracle fixture under fixtures/ (run with the project venv's python).

Each scripts/fixtures/*.py writes its own files; `make fixtures` (part of `make test`) runs them
all, so the Rust tests always compare against numpy / scikit-learn / PyTorch themselves.
"""
import pathlib
import runpy
import sys

here = pathlib.Path(__file__).resolve().parent
for script in sorted((here / "fixtures").glob("*.py")):
    print(f"fixtures: {script.name}", file=sys.stderr)
    runpy.run_path(str(script), run_name="__main__")
