"""make bench's PyTorch peer: one training run of a model in a plain PyTorch (eager) loop, as a
user would write it, timed per epoch.

The model is the reference re-implementation of the official AdaTT model code
(scripts/pylib/reference_models.py, built from the Rust model config); the data are Census
under the `paper` protocol, preprocessed with pandas / scikit-learn as the framework does
(scripts/fixtures/census_paper.py), read from `--data-dir` and split with `--split-seed` (the
bench config's `[census]`); the loop is a DataLoader over a TensorDataset (shuffled),
Adam with L2 weight decay, the sum of the tasks' BCE-with-logits losses, after every epoch the
validation predictions with scikit-learn's ROC AUC per task, the best epoch's weights kept (by
the sum of validation AUCs), and the test AUCs once, with them, after training (what our loop
does, with its exact metrics). `--flush-denormal` sets `torch.set_flush_denormal(True)`
first; the official code does not.

Prints one JSON object: the model's parameter count, the training rows, per epoch the training
and evaluation seconds and the validation AUCs, the test AUCs at the best epoch, and the whole
run's seconds (after the data are loaded). Run from the repository root with the project venv's python.
"""
import argparse
import copy
import json
import pathlib
import sys
import time

import numpy as np
import torch
from sklearn.metrics import roc_auc_score
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts" / "fixtures"))
sys.path.insert(0, str(ROOT / "scripts" / "pylib"))
import census_paper  # noqa: E402
from reference_models import build, n_params  # noqa: E402


def census(max_rows, data_dir, split_seed):
    """Train, validation and test tensors of the paper protocol from the files in `data_dir`,
    the test file split with `split_seed` (the first `max_rows` training rows if > 0)."""
    train_df = census_paper.read("census-income.data.gz", data_dir)
    other_df = census_paper.read("census-income.test.gz", data_dir)
    x_train, x_other = census_paper.features(train_df), census_paper.features(other_df)
    x_other[census_paper.APPENDED] = 0
    y_train, y_other = census_paper.labels(train_df), census_paper.labels(other_df)
    valid_idx = x_other.sample(frac=0.5, replace=False, random_state=split_seed).index
    test_idx = list(set(x_other.index) - set(valid_idx))

    def tensors(x, y):
        x = torch.tensor(x.to_numpy(dtype=np.float64).astype(np.float32))
        return x, torch.tensor(y, dtype=torch.float32)

    tr = tensors(x_train, y_train)
    if max_rows > 0:
        tr = (tr[0][:max_rows], tr[1][:max_rows])
    return (
        tr,
        tensors(x_other.iloc[valid_idx], y_other[valid_idx]),
        tensors(x_other.iloc[test_idx], y_other[test_idx]),
    )


def aucs(model, x, y, chunk=65536):
    with torch.no_grad():
        p = torch.cat([torch.sigmoid(model(x[i:i + chunk])) for i in range(0, len(x), chunk)])
    return [float(roc_auc_score(y[:, t].numpy(), p[:, t].numpy())) for t in range(y.shape[1])]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, help="the Rust ModelConfig as JSON")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch-size", type=int, default=512)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-rows", type=int, default=0, help="training rows (0 = all)")
    ap.add_argument("--flush-denormal", action="store_true")
    ap.add_argument("--data-dir", default=str(census_paper.DATA),
                    help="the Census files (the bench config's census.data_dir)")
    ap.add_argument("--split-seed", type=int, default=1,
                    help="the validation/test split (the bench config's census.split_seed)")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    if a.flush_denormal:
        torch.set_flush_denormal(True)
    torch.manual_seed(a.seed)
    (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = census(a.max_rows, a.data_dir, a.split_seed)
    n_tasks = y_tr.shape[1]
    model = build(json.loads(a.model), n_tasks, x_tr.shape[1])
    opt = torch.optim.Adam(model.parameters(), lr=a.lr, weight_decay=a.weight_decay)
    loss_fn = nn.BCEWithLogitsLoss()
    loader = DataLoader(TensorDataset(x_tr, y_tr), batch_size=a.batch_size, shuffle=True)

    epochs = []
    best_score, best_state = float("-inf"), None
    run_start = time.perf_counter()
    for _ in range(a.epochs):
        t0 = time.perf_counter()
        model.train()
        for xb, yb in loader:
            opt.zero_grad()
            out = model(xb)
            loss = sum(loss_fn(out[:, t], yb[:, t]) for t in range(n_tasks))
            loss.backward()
            opt.step()
        t1 = time.perf_counter()
        model.eval()
        valid = aucs(model, x_va, y_va)
        if sum(valid) > best_score:
            best_score, best_state = sum(valid), copy.deepcopy(model.state_dict())
        t2 = time.perf_counter()
        epochs.append({"train_s": t1 - t0, "eval_s": t2 - t1, "valid_auc": valid})
    test = None
    if best_state is not None:
        model.load_state_dict(best_state)
        model.eval()
        test = aucs(model, x_te, y_te)
    print(json.dumps({
        "params": n_params(model),
        "train_rows": int(x_tr.shape[0]),
        "threads": a.threads,
        "flush_denormal": a.flush_denormal,
        "epochs": epochs,
        "test_auc": test,
        "total_s": time.perf_counter() - run_start,
    }))


if __name__ == "__main__":
    main()
