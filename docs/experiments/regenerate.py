"""Regenerate docs/experiments/<preset>/ (report, plots, results) from a preset.

    python docs/experiments/regenerate.py [--preset quick] [--out runs/quick]
    python docs/experiments/regenerate.py --preset placement --out runs/placement

Runs (or resumes) ``shiftaug experiment --preset <preset>`` and copies what it wrote next to
this script; prints the wall time and the machine's load so the docs can quote them.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import time
from pathlib import Path

from shiftaug.cli import main

HERE = Path(__file__).resolve().parent


def regenerate(out: Path, preset: str = "quick") -> None:
    start, load = time.perf_counter(), os.getloadavg()
    code = main(["experiment", "--preset", preset, "--out", str(out), "--no-progress"])
    if code:
        raise SystemExit(code)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime + children.ru_utime + children.ru_stime
    print(
        f"wall {time.perf_counter() - start:.0f} s, CPU {cpu:.0f} s, "
        f"load average before {load[0]:.1f}, after {os.getloadavg()[0]:.1f}"
    )
    target = HERE / preset
    # Generated files only: a hand-written page next to them (conclusion.md) stays.
    shutil.rmtree(target / "plots", ignore_errors=True)
    (target / "plots").mkdir(parents=True)
    for name in ("report.md", "results.json", "config.yaml"):
        shutil.copy(out / name, target / name)
    for png in (out / "plots").glob("*.png"):
        shutil.copy(png, target / "plots" / png.name)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="quick", help="quick or placement")
    parser.add_argument("--out", type=Path, default=None, help="default runs/<preset>")
    args = parser.parse_args()
    regenerate(args.out or Path("runs") / args.preset, args.preset)
