"""Oracle for `adatt export`: rebuilds an exported model in PyTorch (adatt_export.py), encodes
the raw rows of a CSV with the exported encodings, and prints the largest absolute difference
between its outputs and the predictions `adatt predict` wrote for the same rows.

    python check_export.py EXPORT_DIR DATA.csv PREDICTIONS.csv
"""
import csv
import sys

import torch

import adatt_export


def main(export_dir, data_csv, preds_csv):
    torch.set_num_threads(1)
    model = adatt_export.load(export_dir)
    with open(data_csv, newline="") as f:
        rows = list(csv.DictReader(f))
    columns = {name: [r[name] for r in rows] for name in rows[0]}
    ids, dense = model.encode(columns)
    ours = model.predict(ids, dense).double()
    with open(preds_csv, newline="") as f:
        preds = list(csv.DictReader(f))
    tasks = [t["name"] for t in model.meta["tasks"]]
    theirs = torch.tensor([[float(p[t]) for t in tasks] for p in preds], dtype=torch.float64)
    assert ours.shape == theirs.shape, (ours.shape, theirs.shape)
    print(f"rows {ours.shape[0]} max_abs_diff {(ours - theirs).abs().max().item():.3e}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
