#!/usr/bin/env python3
"""The relatedness sweep across its configs (docs/industrial.md, `make relatedness`): from each
`results/relatedness_cos<c>/group1/summary.json` (written by the analysis), every model's test
NE difference in % against Shared-bottom and against Single-task, per task, against the
click-like cosine. Writes a Markdown table (mean ± 95 % CI, unadjusted t-test p) and an SVG with
one panel per task and reference (error bars are the CIs); no plotting library, so the venv's
packages suffice. Configs without records are left out; with none, nothing is written.

Usage: scripts/industrial/relatedness.py [RESULTS_DIR [OUT_DIR]]
       (defaults: results/, and docs/img/relatedness.svg + results/relatedness.md)
"""
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REFERENCES = ["Shared-bottom", "Single-task"]
COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]


def load(results: Path) -> dict:
    """{cosine: summary} for every relatedness config with a summary."""
    out = {}
    for d in sorted(results.glob("relatedness_cos*")):
        m = re.fullmatch(r"relatedness_cos(\d+\.\d+)", d.name)
        summary = d / "group1" / "summary.json"
        if m and summary.is_file():
            out[float(m.group(1))] = json.loads(summary.read_text())
    return out


def diffs(summaries: dict) -> dict:
    """{(reference, task): {entry: [(cosine, mean, ci, p, n)]}} over the finished pairs."""
    out = {}
    for cos, s in sorted(summaries.items()):
        for d in s["ne_diffs"]:
            if d["reference"] not in REFERENCES or d["test"]["n"] == 0:
                continue
            t = d["test"]
            row = (cos, t["mean_diff"], t["ci95"], t["p"], t["n"])
            out.setdefault((d["reference"], d["task"]), {}).setdefault(d["entry"], []).append(row)
    return out


def num(x, fmt):
    return "–" if x is None else format(x, fmt)


def markdown(table: dict) -> str:
    lines = ["# The relatedness sweep (group1, click-like cosine)", "",
             "Test NE difference in % (mean ± 95 % CI over seeds, unadjusted t-test p), per task, "
             "against each reference; written by scripts/industrial/relatedness.py from "
             "results/relatedness_cos*/group1/summary.json.", ""]
    for (ref, task), entries in sorted(table.items()):
        cosines = sorted({c for rows in entries.values() for c, *_ in rows})
        lines += [f"## {task}, against {ref}", "",
                  "| model | " + " | ".join(f"cos {c:g}" for c in cosines) + " |",
                  "|---|" + "---|" * len(cosines)]
        for entry, rows in entries.items():
            by = {c: (m, ci, p, n) for c, m, ci, p, n in rows}
            cells = []
            for c in cosines:
                if c not in by:
                    cells.append("–")
                    continue
                m, ci, p, n = by[c]
                cells.append(f"{m:+.3f} ± {num(ci, '.3f')} (p {num(p, '.3g')}, n {n})")
            lines.append(f"| {entry} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def panel(x0, y0, w, h, title, entries, colours):
    """One chart: x the cosine (0 to 0.9), y the difference, a line per entry (in its colour)
    with CI bars."""
    pts = [(c, m, ci) for rows in entries.values() for c, m, ci, _, _ in rows]
    lo = min([m - (ci or 0) for _, m, ci in pts] + [0.0])
    hi = max([m + (ci or 0) for _, m, ci in pts] + [0.0])
    pad = 0.05 * (hi - lo or 1.0)
    lo, hi = lo - pad, hi + pad
    px = lambda c: x0 + 55 + c / 0.9 * (w - 75)
    py = lambda y: y0 + 25 + (hi - y) / (hi - lo) * (h - 60)
    out = [f'<text x="{x0 + w / 2}" y="{y0 + 17}" text-anchor="middle" font-size="13">{title}</text>',
           f'<rect x="{x0 + 50}" y="{y0 + 25}" width="{w - 60}" height="{h - 60}" fill="none" stroke="#999"/>',
           f'<line x1="{x0 + 50}" x2="{x0 + w - 10}" y1="{py(0):.1f}" y2="{py(0):.1f}" stroke="#000" stroke-dasharray="5,3"/>']
    for k in range(5):
        y = lo + (hi - lo) * k / 4
        out.append(f'<text x="{x0 + 45}" y="{py(y) + 4:.1f}" text-anchor="end" font-size="10">{y:+.2f}</text>')
    for c in (0.0, 0.3, 0.6, 0.9):
        out.append(f'<text x="{px(c):.1f}" y="{y0 + h - 20}" text-anchor="middle" font-size="10">{c:g}</text>')
    for entry, rows in entries.items():
        colour = colours[entry]
        d = " ".join(f"{px(c):.1f},{py(m):.1f}" for c, m, *_ in rows)
        out.append(f'<polyline points="{d}" fill="none" stroke="{colour}" stroke-width="1.5"/>')
        for c, m, ci, _, _ in rows:
            if ci is not None:
                out.append(f'<line x1="{px(c):.1f}" x2="{px(c):.1f}" y1="{py(m - ci):.1f}" '
                           f'y2="{py(m + ci):.1f}" stroke="{colour}"/>')
            out.append(f'<circle cx="{px(c):.1f}" cy="{py(m):.1f}" r="3" fill="{colour}"/>')
    out.append(f'<text x="{x0 + w / 2}" y="{y0 + h - 5}" text-anchor="middle" font-size="10">'
               'click-like cosine</text>')
    return out


def svg(table: dict) -> str:
    w, h = 330, 260
    keys = sorted(table)
    tasks = sorted({t for _, t in keys})
    entries = list(dict.fromkeys(e for k in keys for e in table[k]))
    colours = {e: COLOURS[i % len(COLOURS)] for i, e in enumerate(entries)}
    body = []
    for row, ref in enumerate(REFERENCES):
        for col, task in enumerate(tasks):
            if (ref, task) in table:
                body += panel(col * w, row * h, w, h, f"{task}: test NE diff % vs {ref}",
                              table[(ref, task)], colours)
    y = 2 * h + 10
    for i, entry in enumerate(entries):
        colour = colours[entry]
        body.append(f'<line x1="50" x2="75" y1="{y + 16 * i - 4}" y2="{y + 16 * i - 4}" '
                    f'stroke="{colour}" stroke-width="2"/>')
        body.append(f'<text x="82" y="{y + 16 * i}" font-size="11">{entry}</text>')
    width, height = w * max(1, len(tasks)), y + 16 * len(entries) + 8
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n'
            + "\n".join(body) + "\n</svg>\n")


def main() -> None:
    results = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "results"
    table = diffs(load(results))
    if not table:
        print("relatedness: no analysed relatedness configs under", results)
        return
    md_out = Path(sys.argv[2]) / "relatedness.md" if len(sys.argv) > 2 else results / "relatedness.md"
    svg_out = Path(sys.argv[2]) / "relatedness.svg" if len(sys.argv) > 2 else ROOT / "docs" / "img" / "relatedness.svg"
    md_out.write_text(markdown(table))
    svg_out.parent.mkdir(parents=True, exist_ok=True)
    svg_out.write_text(svg(table))
    print(f"wrote {md_out}\nwrote {svg_out}")


if __name__ == "__main__":
    main()
