#!/usr/bin/env python3
"""Compare the records a GPU check trained with committed records of the same runs.

    scripts/device_check_compare.py GPU_RUNS.jsonl REFERENCE_RUNS.jsonl

For every (entry, seed) both files hold, the test metric of each task (AUC of a binary task,
loss of a regression task) on the GPU minus the reference's; printed per entry and task as
mean, standard deviation and largest absolute difference over the seeds, then the largest
absolute difference overall. Used by docs/performance.md ("CUDA") on the check's Table 5 slice
(against results/table5/runs.jsonl, trained on the CPU) and its Table 6 slice.
"""
import json
import statistics
import sys


def load(path):
    runs, tasks = {}, None
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            if r.get("status") != "ok":
                continue
            runs[(r["entry"], r["seed"])] = r["best"]["test"]
            tasks = r["tasks"]
    return runs, tasks


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    gpu, tasks = load(sys.argv[1])
    ref, _ = load(sys.argv[2])
    shared = sorted(k for k in gpu if k in ref)
    if not shared:
        sys.exit("no (entry, seed) in both files")
    entries = sorted({e for e, _ in shared})
    print(f"{len(shared)} runs in both files; GPU minus reference, test metric per task")
    print("| entry | " + " | ".join(tasks) + " |")
    print("|---|" + "---|" * len(tasks))
    overall = 0.0
    for e in entries:
        seeds = [s for ee, s in shared if ee == e]
        cells = []
        for i in range(len(tasks)):
            field = "auc" if gpu[(e, seeds[0])][i]["auc"] is not None else "loss"
            d = [gpu[(e, s)][i][field] - ref[(e, s)][i][field] for s in seeds]
            worst = max(abs(x) for x in d)
            overall = max(overall, worst)
            sd = statistics.stdev(d) if len(d) > 1 else 0.0
            cells.append(f"{field} {statistics.mean(d):+.5f} ± {sd:.5f} (max {worst:.5f})")
        print(f"| {e} ({len(seeds)} seeds) | " + " | ".join(cells) + " |")
    print(f"largest absolute difference: {overall:.5f}")


if __name__ == "__main__":
    main()
