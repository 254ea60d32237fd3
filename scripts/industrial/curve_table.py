#!/usr/bin/env python3
"""The regime study's numbers (docs/industrial.md) from the learning-curve records:
per curve config, entry and task, the test NE (MSE for a regression task) at the given numbers
of examples seen (checkpoints, or the end of the pass), and the relative change between
consecutive columns. Reads results/curve_<name>/*/runs.jsonl; prints a markdown table.

Usage: scripts/industrial/curve_table.py NAME... [--at 2.8M,11.2M,44.8M] [--entry Shared-bottom]
  NAME: a curve config's name without `curve_` (e.g. long_group1_w1k_lr3e-3).
  With several names and no --at, each one's end of the pass is one column (e.g. the decay
  runs of 0.7M, 2.8M and 11.2M).
"""
import argparse
import glob
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]


def rows_of(text: str) -> int:
    return int(round(float(text.rstrip("M")) * 1e6)) if text.endswith("M") else int(text)


def records(name: str):
    for path in sorted(glob.glob(str(ROOT / "results" / f"curve_{name}" / "*" / "runs.jsonl"))):
        for line in open(path):
            if line.strip():
                yield json.loads(line)


def value(m: dict) -> float:
    return m["ne"] if m["ne"] is not None else m["loss"]


def points(rec: dict) -> dict:
    """Examples seen -> test values per task (checkpoints and the end of the pass)."""
    out = {c["examples"]: [value(m) for m in c["eval"]["test"]] for c in rec["checkpoints"]}
    # One pass: the end of the pass is the best (and only) epoch, whose test values `best` has.
    out[rec["epochs"][-1]["examples"]] = [value(m) for m in rec["best"]["test"]]
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("names", nargs="+")
    ap.add_argument("--at", default="")
    ap.add_argument("--entry", default="Shared-bottom")
    a = ap.parse_args()
    cols = []  # (label, name, examples or None for the end)
    if a.at:
        for name in a.names:
            for t in a.at.split(","):
                cols.append((t, name, rows_of(t)))
    else:
        cols = [(name, name, None) for name in a.names]
    table = {}
    tasks = None
    for label, name, at in cols:
        recs = [r for r in records(name) if r["entry"] == a.entry and r["status"] == "ok"]
        if not recs:
            raise SystemExit(f"no finished {a.entry} record in results/curve_{name}")
        r = recs[0]
        tasks = r["tasks"]
        p = points(r)
        # A checkpoint lands on a whole batch: the nearest evaluation within 0.1 %.
        ex = max(p) if at is None else min(p, key=lambda e: abs(e - at))
        if at is not None and abs(ex - at) > 1e-3 * at:
            raise SystemExit(f"curve_{name}: no evaluation at {at} examples (have {sorted(p)})")
        table[(label, name)] = p[ex]
    header = [label if a.at else name for label, name, _ in cols]
    if a.at and len(a.names) > 1:
        header = [f"{name} {label}" for label, name, _ in cols]
    print("| task | " + " | ".join(header) + " | " +
          " | ".join(f"{header[i]} → {header[i + 1]}" for i in range(len(cols) - 1)) + " |")
    print("|---" * (1 + 2 * len(cols) - 1) + "|")
    for i, t in enumerate(tasks):
        vals = [table[(label, name)][i] for label, name, _ in cols]
        changes = [100 * (vals[j + 1] - vals[j]) / vals[j] for j in range(len(vals) - 1)]
        print(f"| {t} | " + " | ".join(f"{v:.4f}" for v in vals) + " | " +
              " | ".join(f"{c:+.2f} %" for c in changes) + " |")


if __name__ == "__main__":
    main()
