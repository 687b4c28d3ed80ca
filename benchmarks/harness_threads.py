"""Harness training on a busy machine: torch threads = free cores vs. torch's default.

Runs one small experiment (a CNN on 256 sklearn digits, 4 epochs) with ``train.threads`` set to
each count in ``--threads``, interleaved round by round so that every count sees the same spells
of load, and records for each: the training time the run reports, its wall and CPU time, its
augmentation share of a train step, and the 1-minute load average before it started.

    python benchmarks/harness_threads.py                 # 1 vs all cores, 3 rounds
    python benchmarks/harness_threads.py --threads 1,2,4 --rounds 5

Writes ``results/harness_threads.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import RESULTS, environment

CONFIG = """
name: threads
runs: [{models: [cnn], arms: [translate]}]
seeds: [0]
data: {dataset: sklearn, canvas: 16, object_size: 8, jitter: 2, train_size: 256, test_size: 64}
train: {epochs: 4, batch_size: 32}
eval: {max_shift: 2, images: 32, grid_step: 2, grid_images: 8, layer_objects: 4, layer_positions: 4}
"""


def _run(config: Path, out: Path, threads: int) -> dict[str, float]:
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    command = [sys.executable, "-m", "shiftaug", "experiment", "--config", str(config)]
    command += ["--out", str(out), "--no-progress", "--set", f"train.threads={threads}"]
    subprocess.run(command, check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    metrics = json.loads((out / "results.json").read_text())["runs"][0]["metrics"]
    return {
        "threads": threads,
        "load_before": load,
        "train_s": metrics["train_time_s"],
        "aug_overhead": metrics["aug_overhead"],
        "wall_s": wall,
        "cpu_s": cpu,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default=f"1,{os.cpu_count()}", help="counts to compare")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    counts = [int(t) for t in args.threads.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "threads.yaml"
        config.write_text(CONFIG)
        for round_ in range(args.rounds):
            for threads in reversed(counts):
                row = _run(config, Path(folder) / f"r{round_}t{threads}", threads)
                rows.append({"round": round_, **row})
                print(json.dumps(rows[-1]), flush=True)
    lines = [
        "| threads | load before (1 min) | train time (s) | wall (s) | CPU (s) | aug share |",
        "|---:|---|---|---|---|---|",
    ]
    summary = {}
    for threads in counts:
        mine = [r for r in rows if r["threads"] == threads]

        def span(key: str, mine: list[dict[str, float]] = mine) -> str:
            values = [r[key] for r in mine]
            return f"{statistics.median(values):.3g} ({min(values):.3g}-{max(values):.3g})"

        summary[str(threads)] = {k: statistics.median(r[k] for r in mine) for k in mine[0]}
        lines.append(
            f"| {threads} | {span('load_before')} | {span('train_s')} | {span('wall_s')} | "
            f"{span('cpu_s')} | {span('aug_overhead')} |"
        )
    args.out.mkdir(parents=True, exist_ok=True)
    payload = {"environment": environment(), "summary": summary, "runs": rows}
    (args.out / "harness_threads.json").write_text(json.dumps(payload, indent=2) + "\n")
    (args.out / "harness_threads.md").write_text(
        f"Median (min-max) over {args.rounds} interleaved rounds.\n\n" + "\n".join(lines) + "\n"
    )
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
