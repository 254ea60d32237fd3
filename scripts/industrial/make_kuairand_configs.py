#!/usr/bin/env python3
"""Writes configs/kuairand/{pure,1k}/group{1,2,3}.toml: the paper's Tables 1-4 (§4.2.3) as
two-phase studies (`make baselines`, experiments/baselines) on the public KuaiRand logs
(KuaiRand-Pure or KuaiRand-1K; Gao et al., CIKM 2022), for whoever has a copy of them. The
repository ships no KuaiRand data and no KuaiRand results: the configs read the logs from
`$KUAIRAND_DIR`, e.g.
    make baselines DATA=kuairand KUAIRAND_DIR=/path/to/KuaiRand-Pure/data

The models, the tuned candidates, the tuning section, the paper's NE differences and the claims
are those of the simulated studies (configs/baselines/, written by make_baselines_configs.py,
whose constants and functions are imported here). What differs:
- `[data]` is a table source: the two standard logs (4/08-4/21 and 4/22-5/08) joined with the
  user and basic video features by user_id and video_id; labels per task group (click, like,
  long_view, watch_time = log1p(play_time_ms), dislike = is_hate as an auxiliary task); split by
  date: training before 2022-05-05, validation 05-05 and 05-06, test 05-07 and 05-08;
- `[train]`: 3 epochs over the finite log, the best validation epoch kept by the mean over the
  reported tasks of NE (binary) and MSE over the label variance (watch_time): every reported
  task counts, the auxiliary one does not; Adam lr 1e-3 constant, batch 512, no checkpoints
  (so group1's claims about the stream are left out).

`--out DIR` writes elsewhere (default configs/kuairand); no arguments rewrites the shipped ones.
"""
import argparse
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "make_baselines_configs", Path(__file__).resolve().parent / "make_baselines_configs.py")
base = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(base)

VARIANTS = {"pure": "KuaiRand-Pure", "1k": "KuaiRand-1K"}
EPOCHS, LR, BATCH = 3, 1e-3, 512
VALID_FROM, TEST_FROM = 20220505, 20220507

# Per task group: what the title says, and the label columns in the paper's task order
# (regression first, then binary by decreasing positive rate; the auxiliary task last).
GROUPS = {
    "group1": ("click + like", [
        '{ column = "is_click", kind = "binary", name = "click" }',
        '{ column = "is_like", kind = "binary", name = "like" }',
    ]),
    "group2": ("click + long_view", [
        '{ column = "is_click", kind = "binary", name = "click" }',
        '{ column = "long_view", kind = "binary" }',
    ]),
    "group3": ("five tasks", [
        '{ column = "play_time_ms", kind = "regression", transform = "log1p", name = "watch_time" }',
        '{ column = "is_click", kind = "binary", name = "click" }',
        '{ column = "long_view", kind = "binary" }',
        '{ column = "is_like", kind = "binary", name = "like" }',
        '{ column = "is_hate", kind = "binary", name = "dislike", role = "auxiliary" }',
    ]),
}
# The reported tasks, in the order of the paper's values (base.PAPER_TEST) and of the labels.
TASKS = {
    "group1": ["click", "like"],
    "group2": ["click", "long_view"],
    "group3": ["watch_time", "click", "long_view", "like"],
}

# Features known before the impression: ids, the request's tab, user and video attributes.
CATEGORICAL = (
    ['{ column = "user_id", min_count = 2 }', '{ column = "video_id", min_count = 2 }',
     '{ column = "author_id", min_count = 2 }']
    + [f'{{ column = "{c}" }}' for c in [
        "tab", "user_active_degree", "is_lowactive_period", "is_live_streamer",
        "is_video_author", "follow_user_num_range", "fans_user_num_range",
        "friend_user_num_range", "register_days_range"]
       + [f"onehot_feat{k}" for k in range(18)]
       + ["video_type", "upload_type", "music_type"]]
)
NUMERIC = [f'{{ column = "{c}", scale = "standard", missing = "impute" }}'
           for c in ["duration_ms", "video_duration", "register_days"]]


def paper_line(group: str, name: str) -> str:
    """The group's `paper_ne_diff` line keyed by this group's task names (none for
    Shared-bottom)."""
    values = base.PAPER_TEST[group].get(name)
    if values is None:
        return ""
    cells = ", ".join(f"{t} = {v}" for t, v in zip(TASKS[group], values))
    return f"paper_ne_diff = {{ {cells} }}\n"


def array(items, indent="  ") -> str:
    return "[\n" + "".join(f"{indent}{x},\n" for x in items) + "]"


def data(variant: str, group: str) -> str:
    d = "${KUAIRAND_DIR}"
    logs = [f'"{d}/log_standard_4_08_to_4_21_{variant}.csv"',
            f'"{d}/log_standard_4_22_to_5_08_{variant}.csv"']
    joins = [f'{{ files = ["{d}/user_features_{variant}.csv"], on = "user_id" }}',
             f'{{ files = ["{d}/video_features_basic_{variant}.csv"], on = "video_id" }}']
    return f"""[data]
source = "table"
name = "kuairand_{variant}"
files = [{", ".join(logs)}]
joins = {array(joins)}
labels = {array(GROUPS[group][1])}
# No column known only after the impression is a feature: not play_time_ms, long_view, the
# is_click/is_like/is_follow/is_comment/is_forward/is_hate/is_profile_enter labels,
# profile_stay_time, comment_stay_time nor time_ms (date splits; hourmin is too fine; is_rand is 0).
categorical = {array(CATEGORICAL)}
numeric = {array(NUMERIC)}
split = {{ kind = "time", column = "date", valid_from = {VALID_FROM}, test_from = {TEST_FROM} }}
embedding_dim = 16
"""


def config(variant: str, group: str) -> str:
    table, what, n_tasks = base.GROUPS[group]
    dataset = VARIANTS[variant]
    groups = []
    for name, cands in base.candidates(n_tasks):
        lines = ",\n".join(f'  {{ label = "{l}", model = {m} }}' for l, m in cands)
        groups.append(
            f'[[groups]]\nname = "{name}"\n{paper_line(group, name)}candidates = [\n{lines},\n]\n'
        )
    return f"""# AdaTT {table} on {dataset}, {what}.
# Written by scripts/industrial/make_kuairand_configs.py from configs/baselines/{group}.toml
# (the same models, candidates, tuning and claims; its docstring gives what differs).
# Needs your own copy of the public KuaiRand logs (Gao et al., CIKM 2022):
#   make baselines DATA=kuairand KUAIRAND_DIR=/path/to/{dataset}/data
# This repository ships no KuaiRand data and no KuaiRand results.
name = "kuairand_{variant}_{group}"
title = "{table} ({dataset}, {GROUPS[group][0]})"
description = \"\"\"
The paper's {table} on {dataset} ({GROUPS[group][0]}): every model's test NE (MSE for a
regression task) against Shared-bottom, paired by seed, at the best of {EPOCHS} epochs on
validation. It reads the user's own copy of the KuaiRand logs from $KUAIRAND_DIR; we produced
no KuaiRand results.\"\"\"

{data(variant, group)}
[train]
batch_size = {BATCH}
epochs = {EPOCHS}
lr = {LR:g}
selection = "mean_valid_normalized_loss"

[run]
seeds = {{ start = 0, count = {base.FINAL_SEEDS} }}
threads = 0

[tuning]
seeds = {base.TUNING_SEEDS}
criterion = "mean_relative_valid_ne"
note = "Expert counts tuned on the validation days (lowest mean relative validation NE over the tuning seeds)"

{chr(10).join(groups)}
[analysis]
reference = "Shared-bottom"
{base.claims(group, stream=False)}"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="configs/kuairand")
    a = ap.parse_args()
    for variant in VARIANTS:
        out = ROOT / a.out / variant
        out.mkdir(parents=True, exist_ok=True)
        for group in GROUPS:
            (out / f"{group}.toml").write_text(config(variant, group))


if __name__ == "__main__":
    main()
