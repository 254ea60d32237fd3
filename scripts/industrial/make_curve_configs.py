#!/usr/bin/env python3
"""Writes configs/industrial/curves/*.toml: the learning curves of the industrial regime study
(docs/industrial.md):
- `<preset>_<world>_<lr>`: Shared-bottom and AdaTT on a simulated preset, one pass over 11.2M
  training examples (16x configs/sim_group1.toml's 700,000) with validation and test evaluations
  along the way, for each world size (users, items) and learning rate;
- `long_<preset>_<world>_<lr>`: the reference model (Shared-bottom) alone over 4x that pass
  (44.8M examples), so that one run shows how much the NE still moves between a stream and the
  4x longer one (checkpoints at 2.8M / 11.2M and 11.2M / 44.8M);
- `decay_<preset>_<world>_<rows>`: the reference model with the learning rate decayed linearly
  to 0 over its pass (`[train] lr_schedule`), for streams of 0.7M, 2.8M and 11.2M examples, so
  that each stream's end can be compared with the end of the 4x longer one.
Run: python3 scripts/industrial/make_curve_configs.py
"""
from pathlib import Path

OUT = Path(__file__).resolve().parents[2] / "configs" / "industrial" / "curves"
TRAIN_ROWS = 11_200_000
# Fractions of the pass (the last evaluation is the end of the pass itself).
CHECKPOINTS = [1 / 64, 1 / 32, 1 / 16, 3 / 32, 1 / 8, 3 / 16, 1 / 4, 3 / 8, 1 / 2, 3 / 4]
WORLDS = {
    "w50k": (50_000, 20_000),
    "w5k": (5_000, 2_000),
    "w1k": (1_000, 400),
    "w250": (250, 100),
    "w100": (100, 40),
}
# The 11.2M curves cover the first three worlds; the long runs the two smallest.
CURVE_WORLDS = ["w50k", "w5k", "w1k"]
LONG_ROWS = 4 * TRAIN_ROWS
LONG_CHECKPOINTS = [1 / 64, 1 / 32, 1 / 16, 1 / 8, 3 / 16, 1 / 4, 3 / 8, 1 / 2, 3 / 4]
LONG_WORLDS = ["w1k", "w250"]
LONG_LRS = ["lr3e-3", "lr1e-2"]
LRS = {"lr1e-3": 1e-3, "lr3e-3": 3e-3, "lr1e-2": 1e-2}
PRESETS = ["group1", "group3"]
DECAY_WORLDS = ["w250", "w100"]
DECAY_ROWS = {"0.7M": 700_000, "2.8M": 2_800_000, "11.2M": 11_200_000}
DECAY_LR = 1e-2
# The paper's early checkpoints: 1/7 and 3/7 of the stream.
DECAY_CHECKPOINTS = [1 / 7, 3 / 7]


SHARED_BOTTOM = """[[entries]]
name = "Shared-bottom"
model = { kind = "shared_bottom", bottom = [256, 128], tower = [64] }
"""
ADATT = """[[entries]]
name = "AdaTT"
model = { kind = "adatt", task_experts = 2, shared_experts = 1, expert_dims = [[256], [128]], tower = [64] }
"""


def tables(preset: str, users: int, items: int, rows: int, lr: float, cps: str,
           decay: bool = False) -> str:
    """The [data], [train] and [run] tables of a curve: one seed on one thread, the rate
    constant or (`decay`) decayed linearly to 0 over the pass."""
    schedule = 'lr_schedule = { kind = "linear", final_factor = 0.0 }\n' if decay else ""
    return f"""[data]
source = "simulator"
preset = "{preset}"
world_seed = 1
users = {users}
items = {items}
train_rows = {rows}
valid_rows = 100000
test_rows = 100000
embedding_dim = 16

[train]
batch_size = 512
epochs = 1
lr = {lr:g}
{schedule}checkpoints = [{cps}]

[run]
seeds = [0]
threads = 1
"""


def config(preset: str, world: str, lr_name: str, long: bool = False) -> str:
    users, items = WORLDS[world]
    lr = LRS[lr_name]
    prefix = "long_" if long else ""
    name = f"curve_{prefix}{preset}_{world}_{lr_name}"
    rows = LONG_ROWS if long else TRAIN_ROWS
    checkpoints = LONG_CHECKPOINTS if long else CHECKPOINTS
    models = "Shared-bottom" if long else "Shared-bottom and AdaTT"
    entries = SHARED_BOTTOM if long else SHARED_BOTTOM + "\n" + ADATT
    cps = ", ".join(f"{c:.6f}" for c in checkpoints)
    return f"""# Learning curve (docs/industrial.md, "The regime"): written by scripts/industrial/make_curve_configs.py.
# Preset {preset}, a world of {users:,} users and {items:,} items (the preset's rates and relations),
# Adam lr {lr:g}, one pass over {rows:,} examples, evaluated at {len(checkpoints)} checkpoints and at the end.
name = "{name}"
description = \"\"\"
Learning curve: {models} on {preset}, {users} users x {items} items, lr {lr:g}.\"\"\"

{tables(preset, users, items, rows, lr, cps)}
{entries}
[analysis]
reference = "Shared-bottom"
"""


def decay_config(preset: str, world: str, rows_name: str) -> str:
    users, items = WORLDS[world]
    rows = DECAY_ROWS[rows_name]
    name = f"curve_decay_{preset}_{world}_{rows_name}"
    cps = ", ".join(f"{c:.6f}" for c in DECAY_CHECKPOINTS)
    return f"""# Learning curve (docs/industrial.md, "The regime"): written by scripts/industrial/make_curve_configs.py.
# Preset {preset}, a world of {users:,} users and {items:,} items (the preset's rates and relations),
# Adam lr {DECAY_LR:g} decayed linearly to 0 over one pass of {rows:,} examples.
name = "{name}"
description = \"\"\"
Learning curve: Shared-bottom on {preset}, {users} users x {items} items, lr {DECAY_LR:g} decayed to 0 over {rows_name} examples.\"\"\"

{tables(preset, users, items, rows, DECAY_LR, cps, decay=True)}
{SHARED_BOTTOM}
[analysis]
reference = "Shared-bottom"
"""


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for preset in PRESETS:
        for world in CURVE_WORLDS:
            for lr_name in LRS:
                path = OUT / f"{preset}_{world}_{lr_name}.toml"
                path.write_text(config(preset, world, lr_name))
        for world in LONG_WORLDS:
            for lr_name in LONG_LRS:
                path = OUT / f"long_{preset}_{world}_{lr_name}.toml"
                path.write_text(config(preset, world, lr_name, long=True))
        for world in DECAY_WORLDS:
            for rows_name in DECAY_ROWS:
                path = OUT / f"decay_{preset}_{world}_{rows_name}.toml"
                path.write_text(decay_config(preset, world, rows_name))


if __name__ == "__main__":
    main()
