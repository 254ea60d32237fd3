#!/usr/bin/env python3
"""The regime study's learning curves as SVG (docs/industrial.md): per preset, one panel per
reported task, the test NE (MSE for a regression task) of each curve as its gap to the Bayes
limit in % (the limit is the line at 0), against examples seen (log scale). From the records
(`results/curve_*/*/runs.jsonl`) and each run's oracle (`task_relations.json`); no plotting
library, so the venv's packages suffice.

Usage: scripts/industrial/plot_curves.py  (writes docs/img/curves_group1.svg, curves_group3.svg)
"""
import json
import math
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# (curve config, entry, label, colour, dashed): constant-rate curves are lines through their
# checkpoints; each decay run is one point, its stream's end.
SERIES = {
    "group1": [
        ("long_group1_w1k_lr3e-3", "Shared-bottom", "SB, 1,000 × 400, lr 3e-3", "#1f77b4", False),
        ("group1_w1k_lr3e-3", "AdaTT", "AdaTT, 1,000 × 400, lr 3e-3", "#ff7f0e", False),
        ("group1_w50k_lr3e-3", "Shared-bottom", "SB, 50,000 × 20,000, lr 3e-3", "#7f7f7f", False),
        ("long_group1_w250_lr3e-3", "Shared-bottom", "SB, 250 × 100, lr 3e-3", "#2ca02c", False),
    ],
    "group3": [
        ("long_group3_w1k_lr3e-3", "Shared-bottom", "SB, 1,000 × 400, lr 3e-3", "#1f77b4", False),
        ("group3_w1k_lr3e-3", "AdaTT", "AdaTT, 1,000 × 400, lr 3e-3", "#ff7f0e", False),
        ("long_group3_w250_lr3e-3", "Shared-bottom", "SB, 250 × 100, lr 3e-3", "#2ca02c", False),
    ],
}
DECAY = {
    "group1": [("w100", "SB, 100 × 40, lr 1e-2 decayed to 0 (end of each stream)", "#d62728")],
    "group3": [("w100", "SB, 100 × 40, lr 1e-2 decayed to 0 (end of each stream)", "#d62728")],
}
DECAY_ROWS = ["0.7M", "2.8M", "11.2M"]


def run_dir(name: str) -> Path:
    dirs = sorted((ROOT / "results" / f"curve_{name}").glob("*/runs.jsonl"))
    if not dirs:
        raise SystemExit(f"no records for curve_{name}")
    return dirs[0].parent


def record(name: str, entry: str) -> dict:
    for line in open(run_dir(name) / "runs.jsonl"):
        r = json.loads(line)
        if r["entry"] == entry and r["status"] == "ok":
            return r
    raise SystemExit(f"curve_{name}: no finished {entry} run")


def oracle(name: str) -> dict:
    t = json.load(open(run_dir(name) / "task_relations.json"))
    return {o["name"]: o["value"] for o in t["oracle"]}


def value(m: dict) -> float:
    return m["ne"] if m["ne"] is not None else m["loss"]


def points(r: dict, task: int) -> list:
    pts = [(c["examples"], value(c["eval"]["test"][task])) for c in r["checkpoints"]]
    pts.append((r["epochs"][-1]["examples"], value(r["best"]["test"][task])))
    return sorted(pts)


def reported(r: dict, name: str) -> list:
    t = json.load(open(run_dir(name) / "task_relations.json"))
    return [i for i, task in enumerate(t["tasks"]) if task["role"] == "reported"]


def gap(v: float, o: float) -> float:
    return 100.0 * (v - o) / o


def panel(x0, y0, w, h, title, lines, dots):
    """One chart: lines [(label, colour, [(x, y)])], dots [(label, colour, [(x, y)])]."""
    xs = [p[0] for _, _, ps in lines + dots for p in ps]
    ys = [p[1] for _, _, ps in lines + dots for p in ps] + [0.0]
    lx0, lx1 = math.log10(min(xs)) - 0.05, math.log10(max(xs)) + 0.05
    y1 = max(ys) * 1.05
    y1 = max(y1, 1.0)
    px = lambda x: x0 + 50 + (math.log10(x) - lx0) / (lx1 - lx0) * (w - 60)
    py = lambda y: y0 + 25 + (1 - y / y1) * (h - 60)
    out = [f'<text x="{x0 + w / 2}" y="{y0 + 15}" text-anchor="middle" font-size="13">{title}</text>']
    out.append(f'<rect x="{x0 + 50}" y="{y0 + 25}" width="{w - 60}" height="{h - 60}" fill="none" stroke="#999"/>')
    # y ticks
    step = 10 ** math.floor(math.log10(y1 / 4)) if y1 > 0 else 1
    for m in (1, 2, 5, 10):
        if y1 / (step * m) <= 7:
            step *= m
            break
    t = 0.0
    while t <= y1:
        out.append(f'<line x1="{x0 + 50}" x2="{x0 + w - 10}" y1="{py(t):.1f}" y2="{py(t):.1f}" stroke="#eee"/>')
        out.append(f'<text x="{x0 + 45}" y="{py(t) + 4:.1f}" text-anchor="end" font-size="10">{t:g}</text>')
        t += step
    # the Bayes limit
    out.append(f'<line x1="{x0 + 50}" x2="{x0 + w - 10}" y1="{py(0):.1f}" y2="{py(0):.1f}" stroke="#000" stroke-dasharray="5,3"/>')
    # x ticks at powers of ten and their halves
    for e in range(5, 9):
        for m in (1, 3):
            x = m * 10 ** e
            if lx0 <= math.log10(x) <= lx1:
                out.append(f'<text x="{px(x):.1f}" y="{y0 + h - 20}" text-anchor="middle" font-size="10">{x / 1e6:g}M</text>')
    for _, colour, ps in lines:
        d = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in ps)
        out.append(f'<polyline points="{d}" fill="none" stroke="{colour}" stroke-width="1.5"/>')
    for _, colour, ps in dots:
        for x, y in ps:
            out.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3.5" fill="{colour}"/>')
    out.append(f'<text x="{x0 + w / 2}" y="{y0 + h - 5}" text-anchor="middle" font-size="10">examples seen</text>')
    return out


def figure(preset: str) -> str:
    series = SERIES[preset]
    first = series[0][0]
    tasks = reported(record(first, "Shared-bottom"), first)
    names = record(first, "Shared-bottom")["tasks"]
    w, h = 330, 260
    body = []
    for k, t in enumerate(tasks):
        lines = []
        for name, entry, label, colour, _ in series:
            o = oracle(name)[names[t]]
            lines.append((label, colour, [(x, gap(v, o)) for x, v in points(record(name, entry), t)]))
        dots = []
        for world, label, colour in DECAY[preset]:
            ps = []
            for rows in DECAY_ROWS:
                name = f"decay_{preset}_{world}_{rows}"
                r = record(name, "Shared-bottom")
                ps.append((r["epochs"][-1]["examples"], gap(value(r["best"]["test"][t]), oracle(name)[names[t]])))
            dots.append((label, colour, ps))
        kind = "MSE" if names[t] == "watch_time" else "NE"
        body += panel(k * w, 0, w, h, f"{names[t]}: test {kind} above the Bayes limit (%)", lines, dots)
    legend_y = h + 10
    items = [(label, colour, False) for _, _, label, colour, _ in series] + [
        (label, colour, True) for _, label, colour in DECAY[preset]]
    for i, (label, colour, dot) in enumerate(items):
        y = legend_y + 16 * i
        if dot:
            body.append(f'<circle cx="62" cy="{y - 4}" r="3.5" fill="{colour}"/>')
        else:
            body.append(f'<line x1="50" x2="75" y1="{y - 4}" y2="{y - 4}" stroke="{colour}" stroke-width="2"/>')
        body.append(f'<text x="82" y="{y}" font-size="11">{label}</text>')
    y = legend_y + 16 * len(items)
    body.append(f'<line x1="50" x2="75" y1="{y - 4}" y2="{y - 4}" stroke="#000" stroke-dasharray="5,3"/>')
    body.append(f'<text x="82" y="{y}" font-size="11">Bayes limit (each world\'s own, on the same test rows)</text>')
    width, height = w * len(tasks), y + 12
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n'
            + "\n".join(body) + "\n</svg>\n")


def main() -> None:
    out = ROOT / "docs" / "img"
    out.mkdir(parents=True, exist_ok=True)
    for preset in SERIES:
        (out / f"curves_{preset}.svg").write_text(figure(preset))


if __name__ == "__main__":
    main()
