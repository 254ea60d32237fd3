#!/usr/bin/env python3
"""Writes configs/industrial/relatedness/cos_<c>.toml: the relatedness sweep of docs/industrial.md,
beyond the paper and in the spirit of the MMoE paper's synthetic study (Ma et al., KDD 2018,
performance against task correlation). On group1 (click + like), the cosine between the two
task directions is set to each of 0.0, 0.3, 0.6 and 0.9 (the preset has 0.2; the world is
otherwise unchanged) and every config trains, in the default regime (make_baselines_configs.py):
- Single-task: one [256, 128] bottom + tower [64] per task;
- Shared-bottom [256, 128] + tower [64] (the reference);
- MMoE with 6 experts [256, 128], PLE with 2 experts per task + 2 shared, and AdaTT-sp with 2
  experts per task, the expert counts group1's tuning chose (results/baselines_group1/, tuning.md).
Each config's table has every model's NE difference against Shared-bottom and, as comparisons,
against Single-task. `make relatedness` trains the four; scripts/industrial/relatedness.py draws
the differences against the cosine (docs/img/relatedness_*.svg; make figures runs it).
Run: python3 scripts/industrial/make_relatedness_configs.py [--scale K --seeds N --out DIR]
"""
import argparse
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "baselines", Path(__file__).with_name("make_baselines_configs.py")
)
B = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(B)

COSINES = [0.0, 0.3, 0.6, 0.9]
LEVELS = "expert_dims = [[256], [128]], tower = [64]"
MODELS = [
    ("Single-task", '{ kind = "single_task", bottom = [256, 128], tower = [64] }'),
    ("Shared-bottom", '{ kind = "shared_bottom", bottom = [256, 128], tower = [64] }'),
    ("MMoE", '{ kind = "mmoe", experts = 6, expert_dims = [[256, 128]], tower = [64] }'),
    ("PLE", f'{{ kind = "ple", task_experts = 2, shared_experts = 2, {LEVELS} }}'),
    ("AdaTT-sp", f'{{ kind = "adatt_sp", task_experts = 2, {LEVELS} }}'),
]


def config(cos: float, scale: int, seeds: int) -> str:
    name = f"relatedness_cos{cos:.1f}" + (f"_x{scale}" if scale != 1 else "")
    out = f'output_dir = "results/{name}"\n' if scale != 1 else ""
    data = B.regime("group1", B.TRAIN_ROWS * scale, seeds).replace(
        "embedding_dim = 16\n",
        f"embedding_dim = 16\nrelations = [[1.0, {cos}], [{cos}, 1.0]]\n",
    )
    entries = "\n".join(
        f'[[entries]]\nname = "{n}"\nmodel = {m}\n' for n, m in MODELS
    )
    comparisons = ",\n".join(
        f'  {{ a = "{n}", b = "Single-task" }}' for n, _ in MODELS if n != "Single-task"
    )
    return f"""# The relatedness sweep on group1 (docs/industrial.md): written by
# scripts/industrial/make_relatedness_configs.py (its docstring gives the set-up).
name = "{name}"
description = \"\"\"
group1 with the click-like cosine set to {cos}: every model's test NE against Shared-bottom
and against Single-task, in the default regime.\"\"\"
{out}
{data}
{entries}
[analysis]
reference = "Shared-bottom"
comparisons = [
{comparisons},
]
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=int, default=1)
    ap.add_argument("--seeds", type=int, default=B.FINAL_SEEDS)
    ap.add_argument("--out", default="configs/industrial/relatedness")
    a = ap.parse_args()
    out = ROOT / a.out
    out.mkdir(parents=True, exist_ok=True)
    for cos in COSINES:
        (out / f"cos_{cos:.1f}.toml").write_text(config(cos, a.scale, a.seeds))


if __name__ == "__main__":
    main()
