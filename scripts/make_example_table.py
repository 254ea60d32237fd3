#!/usr/bin/env python3
"""Writes data/example/interactions.csv: a small multi-task interaction log for the README's
"your own data" example (configs/example_table.toml), generated here so that no one else's data
is shipped. One row per impression: user_id, item_id, hour (categorical), price and age (numeric;
age missing in about 5 % of rows), and three labels: click (binary, about 35 % positive), like
(binary, about 9 %, more likely after a click) and watch_s (regression, seconds watched).
Deterministic (numpy's default_rng(7)); run from the repository root with the project venv's
python: scripts/make_example_table.py
"""
from pathlib import Path

import numpy as np

ROWS, USERS, ITEMS, DIM = 20_000, 300, 120, 4
OUT = Path(__file__).resolve().parents[1] / "data" / "example" / "interactions.csv"


def main() -> None:
    rng = np.random.default_rng(7)
    u_lat, i_lat = rng.normal(size=(USERS, DIM)), rng.normal(size=(ITEMS, DIM))
    user = rng.integers(0, USERS, ROWS)
    item = (rng.zipf(1.5, ROWS) - 1) % ITEMS
    hour = rng.integers(0, 24, ROWS)
    price = np.round(rng.gamma(2.0, 5.0, ROWS), 2)
    age = rng.integers(16, 70, ROWS).astype(float)
    age[rng.random(ROWS) < 0.05] = np.nan
    affinity = (u_lat[user] * i_lat[item]).sum(1) / np.sqrt(DIM)
    evening = np.isin(hour, [19, 20, 21, 22]).astype(float)
    p_click = 1 / (1 + np.exp(-(affinity - 0.6 + 0.4 * evening - 0.02 * price)))
    click = (rng.random(ROWS) < p_click).astype(int)
    p_like = 1 / (1 + np.exp(-(1.2 * affinity - 3.6 + 1.5 * click)))
    like = (rng.random(ROWS) < p_like).astype(int)
    watch = np.round(click * np.exp(2.5 + 0.5 * affinity + rng.normal(0, 0.5, ROWS)), 1)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with open(OUT, "w") as f:
        f.write("user_id,item_id,hour,price,age,click,like,watch_s\n")
        for r in range(ROWS):
            a = "" if np.isnan(age[r]) else f"{age[r]:.0f}"
            f.write(f"u{user[r]},i{item[r]},{hour[r]},{price[r]:.2f},{a},{click[r]},{like[r]},{watch[r]:.1f}\n")
    print(f"wrote {OUT}: {ROWS} rows, click {click.mean():.3f}, like {like.mean():.3f}")


if __name__ == "__main__":
    main()
