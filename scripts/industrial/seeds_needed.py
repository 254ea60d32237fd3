#!/usr/bin/env python3
"""How many seeds would resolve each unresolved difference of the simulated tables' verdicts.

For every claim of every results/<experiment>/<group>/summary.json with verdicts (Tables 1-4,
6-8 and Figure 3 on the simulator, from `make figures`), and every difference the t-test left
*not resolved* whose mean points the paper's way: the seed-to-seed standard deviation of the
paired difference (from its 95 % CI over n seeds), and the number of seeds at which a two-sided
one-sample t-test at alpha / m (m: the claim's differences, Holm's first and strictest step)
would have 80 % power, were the true difference the observed mean. The observed mean of an
unresolved difference is a noisy estimate (it may be the noise): the count is a planning
figure, not a promise. Writes results/seeds_needed.md.

Run: python scripts/industrial/seeds_needed.py [--out FILE]   (needs scipy: the project venv)
     python scripts/industrial/seeds_needed.py --selftest
"""
import argparse
import json
import math
from pathlib import Path

from scipy import stats

ROOT = Path(__file__).resolve().parents[2]
POWER = 0.8
MAX_SEEDS = 1000
EXPERIMENTS = ("baselines_group*", "table6_sim", "table7_sim", "table8_sim*", "figure3_sim")


def power(n: int, effect: float, alpha: float) -> float:
    """Power of a two-sided one-sample t-test on n values at level alpha, for a true mean of
    `effect` standard deviations."""
    df = n - 1
    crit = stats.t.ppf(1 - alpha / 2, df)
    nc = effect * math.sqrt(n)
    return stats.nct.sf(crit, df, nc) + stats.nct.cdf(-crit, df, nc)


def seeds_for(effect: float, alpha: float, target: float = POWER) -> int | None:
    """The fewest seeds (at least 3) with power >= target; None past MAX_SEEDS. A scan from 3
    up, not a bisection: scipy's noncentral t gives NaN at large noncentrality (about 10 and
    up, where the power is 1 for every practical purpose), which the scan stops before."""
    for n in range(3, MAX_SEEDS + 1):
        p = power(n, effect, alpha)
        if math.isnan(p):
            raise ValueError(f"power is NaN at n = {n}, effect {effect:.3g} sd, alpha {alpha:.3g}")
        if p >= target:
            return n
    return None


def sd_from_ci(ci95: float, n: int) -> float:
    return ci95 / stats.t.ppf(0.975, n - 1) * math.sqrt(n)


def paper_sign(expect: str) -> int:
    return -1 if expect == "lower" else 1


def rows_of(summary: Path) -> list[str]:
    d = json.loads(summary.read_text())
    where = summary.parent.relative_to(ROOT / "results")
    rows = []
    for v in d.get("verdicts", []):
        # Holm's family: the differences with a p-value (a cell without paired seeds has none).
        m = sum(c["p_holm"] is not None for c in v["cells"])
        if m == 0:
            continue
        alpha = v["alpha"] / m
        for c in v["cells"]:
            t = c["diff"]["test"]
            n, mean = t["n"], t["mean_diff"]
            if c["outcome"] != "not_resolved" or n < 3 or mean * paper_sign(v["expect"]) <= 0:
                continue
            sd = sd_from_ci(t["ci95"], n)
            need = seeds_for(abs(mean) / sd, alpha) if sd > 0 else None
            rows.append(
                f"| {v['claim']} | `{where}` | {c['diff']['entry']} vs {c['diff']['reference']} "
                f"| {c['diff']['task']} | {mean:+.3f} ± {t['ci95']:.3f} | {sd:.3f} | {n} | {m} "
                f"| {need if need is not None else f'> {MAX_SEEDS}'} |"
            )
    return rows


def report() -> str:
    summaries = sorted({p for pat in EXPERIMENTS for p in ROOT.glob(f"results/{pat}/*/summary.json")})
    rows = [r for s in summaries for r in rows_of(s)]
    return "\n".join([
        "# Seeds that would resolve the open differences (simulated tables)",
        "",
        "Written by scripts/industrial/seeds_needed.py from each simulated table's summary.json "
        "(`make figures`). Each row is a difference of a claim's verdict that the t-test left not "
        "resolved while its mean points the paper's way: test NE difference in % (MSE for a "
        "regression task; for a claim about how a difference moves, its change in points), "
        "mean ± 95 % CI over the seeds trained; `sd`, the seed-to-seed standard deviation of the "
        "paired difference; `seeds for 80 %`, the seeds at which a two-sided t-test at alpha / m "
        f"(m: the claim's differences with a p-value) has {POWER:.0%} power if the true "
        "difference is the observed mean. That mean is itself noisy: a planning figure, not a "
        "promise.",
        "",
        "| claim | results | comparison | task | diff % now | sd | seeds now | m | seeds for 80 % |",
        "|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
    ])


def selftest() -> None:
    # Cohen (1988), one-sample t-test, two-sided alpha 0.05, power 0.8: d = 0.5 needs 34, d = 0.8
    # needs 15, d = 0.2 needs 199 (G*Power gives the same).
    for d, n in [(0.5, 34), (0.8, 15), (0.2, 199)]:
        got = seeds_for(d, 0.05)
        assert got == n, (d, got, n)
    # The sd of 10 values with mean 0 and sd 1 read back from their 95 % CI half-width.
    assert abs(sd_from_ci(stats.t.ppf(0.975, 9) / math.sqrt(10), 10) - 1.0) < 1e-12
    print("seeds_needed selftest: ok")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="results/seeds_needed.md")
    ap.add_argument("--selftest", action="store_true")
    a = ap.parse_args()
    if a.selftest:
        selftest()
        return
    out = ROOT / a.out
    out.write_text(report())
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
