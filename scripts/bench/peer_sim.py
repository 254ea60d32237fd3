"""make bench's PyTorch peer for the simulator regime (`[simulator.peer]` of configs/bench.toml):
one training pass of a model with embedding tables in a plain PyTorch (eager) loop, as a user
would write it, timed.

The model is one `nn.Embedding` per id feature in front of the reference re-implementation of
the official AdaTT model code (scripts/pylib/adatt_export.py's `ExportedModel`, built from the
Rust model config), as `adatt export` rebuilds ours. The rows are those our run trains on, in
the same order, written by the bench (`--rows`, safetensors: `{train,valid,test}.{ids,dense,
labels}`) and loaded before the clock starts. The loop: batches in stream order, Adam with L2
weight decay, the sum of the tasks' losses (BCE with logits for a binary task, mean squared
error for a regression one), then the validation metrics (scikit-learn's ROC AUC per binary
task, MSE per regression task) and the test metrics once (one pass: the last weights are the
best epoch's). `torch.set_flush_denormal(True)` is set first.

Prints one JSON object: the parameter count, the training rows, the pass's training and
evaluation seconds, and the whole run's seconds. Run from the repository root with the
project venv's python.
"""
import argparse
import json
import pathlib
import sys
import time

import torch
from safetensors.torch import load_file
from sklearn.metrics import roc_auc_score
from torch import nn

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts" / "pylib"))
from adatt_export import ExportedModel  # noqa: E402
from reference_models import n_params  # noqa: E402


def metrics(model, ids, dense, y, binary, chunk=65536):
    with torch.no_grad():
        out = torch.cat([model(ids[i:i + chunk], dense[i:i + chunk])
                         for i in range(0, len(ids), chunk)])
    return [float(roc_auc_score(y[:, t].numpy(), torch.sigmoid(out[:, t]).numpy())) if b
            else float(((out[:, t] - y[:, t]) ** 2).mean()) for t, b in enumerate(binary)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", required=True)
    ap.add_argument("--model", required=True, help="the Rust ModelConfig as JSON")
    ap.add_argument("--kinds", required=True, help="binary or regression per task, comma-separated")
    ap.add_argument("--cardinalities", required=True)
    ap.add_argument("--embedding-dim", type=int, required=True)
    ap.add_argument("--batch-size", type=int, default=512)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--weight-decay", type=float, default=0.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.set_flush_denormal(True)
    torch.manual_seed(a.seed)
    rows = load_file(a.rows)
    kinds = a.kinds.split(",")
    binary = torch.tensor([k == "binary" for k in kinds])
    meta = {
        "model": json.loads(a.model),
        "tasks": [{"name": str(t), "kind": k} for t, k in enumerate(kinds)],
        "embeddings": [{"cardinality": int(c), "dim": a.embedding_dim}
                       for c in a.cardinalities.split(",")],
        "dense": [str(d) for d in range(rows["train.dense"].shape[1])],
    }
    model = ExportedModel(meta)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr, weight_decay=a.weight_decay)
    bce = nn.BCEWithLogitsLoss(reduction="none")
    ids, dense, y = rows["train.ids"], rows["train.dense"], rows["train.labels"]
    started = time.perf_counter()
    model.train()
    for i in range(0, len(ids), a.batch_size):
        out = model(ids[i:i + a.batch_size], dense[i:i + a.batch_size])
        yb = y[i:i + a.batch_size]
        per_task = torch.where(binary, bce(out, yb), (out - yb) ** 2).mean(dim=0)
        opt.zero_grad()
        per_task.sum().backward()
        opt.step()
    train_s = time.perf_counter() - started
    model.eval()
    t = time.perf_counter()
    valid = metrics(model, rows["valid.ids"], rows["valid.dense"], rows["valid.labels"], binary)
    eval_s = time.perf_counter() - t
    test = metrics(model, rows["test.ids"], rows["test.dense"], rows["test.labels"], binary)
    print(json.dumps({
        "params": n_params(model),
        "train_rows": len(ids),
        "epochs": [{"train_s": train_s, "eval_s": eval_s, "valid": valid}],
        "test": test,
        "total_s": time.perf_counter() - started,
    }))


if __name__ == "__main__":
    main()
