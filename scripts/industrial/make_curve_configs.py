#!/usr/bin/env python3
"""Writes configs/industrial/curves/*.toml: the learning curves of the industrial regime study
(docs/industrial.md): Shared-bottom and AdaTT on a simulated preset, one pass over 11.2M training
examples (16x configs/sim_group1.toml's 700,000) with validation and test evaluations along the
way, for each world size (users, items) and learning rate. Run: python3 scripts/industrial/make_curve_configs.py
"""
from pathlib import Path

OUT = Path(__file__).resolve().parents[2] / "configs" / "industrial" / "curves"
TRAIN_ROWS = 11_200_000
# Fractions of the pass (the last evaluation is the end of the pass itself).
CHECKPOINTS = [1 / 64, 1 / 32, 1 / 16, 3 / 32, 1 / 8, 3 / 16, 1 / 4, 3 / 8, 1 / 2, 3 / 4]
WORLDS = {"w50k": (50_000, 20_000), "w5k": (5_000, 2_000), "w1k": (1_000, 400)}
LRS = {"lr1e-3": 1e-3, "lr3e-3": 3e-3, "lr1e-2": 1e-2}
PRESETS = ["group1", "group3"]


def config(preset: str, world: str, lr_name: str) -> str:
    users, items = WORLDS[world]
    lr = LRS[lr_name]
    name = f"curve_{preset}_{world}_{lr_name}"
    cps = ", ".join(f"{c:.6f}" for c in CHECKPOINTS)
    return f"""# Learning curve (docs/industrial.md, "The regime"): written by scripts/industrial/make_curve_configs.py.
# Preset {preset}, a world of {users:,} users and {items:,} items (the preset's rates and relations),
# Adam lr {lr:g}, one pass over {TRAIN_ROWS:,} examples, evaluated at {len(CHECKPOINTS)} checkpoints and at the end.
name = "{name}"
description = \"\"\"
Learning curve: Shared-bottom and AdaTT on {preset}, {users} users x {items} items, lr {lr:g}.\"\"\"

[data]
source = "simulator"
preset = "{preset}"
world_seed = 1
users = {users}
items = {items}
train_rows = {TRAIN_ROWS}
valid_rows = 100000
test_rows = 100000
embedding_dim = 16

[train]
batch_size = 512
epochs = 1
lr = {lr:g}
checkpoints = [{cps}]

[run]
seeds = [0]
threads = 1

[[entries]]
name = "Shared-bottom"
model = {{ kind = "shared_bottom", bottom = [256, 128], tower = [64] }}

[[entries]]
name = "AdaTT"
model = {{ kind = "adatt", task_experts = 2, shared_experts = 1, expert_dims = [[256], [128]], tower = [64] }}

[analysis]
reference = "Shared-bottom"
"""


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for preset in PRESETS:
        for world in WORLDS:
            for lr_name in LRS:
                path = OUT / f"{preset}_{world}_{lr_name}.toml"
                path.write_text(config(preset, world, lr_name))


if __name__ == "__main__":
    main()
