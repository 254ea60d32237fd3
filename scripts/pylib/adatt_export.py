"""A model written by `adatt export` (model.safetensors + model.json), rebuilt in PyTorch.

    import sys; sys.path.insert(0, "scripts/pylib")
    import adatt_export
    model = adatt_export.load("export/")               # an nn.Module, weights loaded (strict)
    ids, dense = model.encode({"user_id": ["u54"], "item_id": ["i0"], ...})  # raw values
    probs = model.predict(ids, dense)                  # [rows, tasks]

The architecture is `reference_models.build` (the project's re-implementation of the official
`CentralTaskArch`, same state_dict names) behind one `nn.Embedding` per categorical column
(`embeddings.{f}.weight`); its input is the lookups, in the order of model.json's `embeddings`,
then the dense columns. `encode` applies model.json's encodings (fitted on the training rows)
to raw column values given as text, as they are written in a CSV (missing: None or "").
"""
import json
import math
import os
import sys

import torch
from torch import nn
from safetensors.torch import load_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_models  # noqa: E402


def fnv1a(text):
    """FNV-1a (64-bit) of the value's UTF-8 bytes: the hash of `hash_buckets`."""
    h = 0xCBF29CE484222325
    for b in text.encode("utf-8"):
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def _missing(v):
    return v is None or v == ""


class ExportedModel(nn.Module):
    def __init__(self, meta):
        super().__init__()
        self.meta = meta
        self.embeddings = nn.ModuleList(
            nn.Embedding(e["cardinality"], e["dim"]) for e in meta["embeddings"]
        )
        width = sum(e["dim"] for e in meta["embeddings"]) + len(meta["dense"])
        arch = reference_models.build(meta["model"], len(meta["tasks"]), width)
        for name, child in arch.named_children():
            self.add_module(name, child)
        object.__setattr__(self, "_arch", arch)  # shares the modules registered above
        self.binary = torch.tensor([t["kind"] == "binary" for t in meta["tasks"]])

    def forward(self, ids, dense):
        """Logits (binary tasks) and values (regression tasks), [rows, tasks]."""
        parts = [emb(ids[:, f]) for f, emb in enumerate(self.embeddings)]
        return self._arch(torch.cat(parts + [dense], dim=1))

    def predict(self, ids, dense):
        """Probabilities for binary tasks, values for regression tasks, [rows, tasks]."""
        with torch.no_grad():
            y = self.forward(ids, dense)
        return torch.where(self.binary, torch.sigmoid(y), y)

    def encode(self, columns):
        """(ids [rows, F] int64, dense [rows, D] float32) of raw values per column name."""
        enc = self.meta["encoding"]
        ids = []
        for c in enc["categorical"]:
            values = columns[c["column"]]
            if c["kind"] == "vocabulary":
                index = {v: k + 1 for k, v in enumerate(c["values"])}
                ids.append([0 if _missing(v) else index.get(v, 0) for v in values])
            else:
                ids.append([0 if _missing(v) else 1 + fnv1a(v) % c["buckets"] for v in values])
        dense, indicators = [], []
        for c in enc["numeric"]:
            xs = [None if _missing(v) else float(v) for v in columns[c["column"]]]
            xs = [None if x is not None and math.isnan(x) else x for x in xs]
            dense.append([c["fill"] if x is None else (x - c["shift"]) / c["scale"] for x in xs])
            if c["indicator"]:
                indicators.append([1.0 if x is None else 0.0 for x in xs])
        dense += indicators
        rows = len(next(iter(columns.values())))
        ids_t = torch.tensor(ids, dtype=torch.int64).T.reshape(rows, len(ids))
        dense_t = torch.tensor(dense, dtype=torch.float64).T.reshape(rows, len(dense))
        return ids_t.contiguous(), dense_t.to(torch.float32).contiguous()


def load(directory):
    """The exported model in `directory`, its weights loaded (every name, strictly)."""
    with open(os.path.join(directory, "model.json")) as f:
        meta = json.load(f)
    if meta.get("format") != "adatt-export" or meta.get("version") != 1:
        raise ValueError(f"{directory}/model.json is not an adatt export of version 1")
    model = ExportedModel(meta)
    model.load_state_dict(load_file(os.path.join(directory, "model.safetensors")), strict=True)
    return model.eval()
