"""Regenerate docs/experiments/quick/ (report, plots, results) from the quick preset.

    python docs/experiments/regenerate.py [--out runs/quick]

Runs (or resumes) ``shiftaug experiment --preset quick`` and copies what it wrote next to
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


def regenerate(out: Path) -> None:
    start, load = time.perf_counter(), os.getloadavg()
    code = main(["experiment", "--preset", "quick", "--out", str(out), "--no-progress"])
    if code:
        raise SystemExit(code)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        f"wall {time.perf_counter() - start:.0f} s, CPU {usage.ru_utime + usage.ru_stime:.0f} s, "
        f"load average before {load[0]:.1f}, after {os.getloadavg()[0]:.1f}"
    )
    target = HERE / "quick"
    shutil.rmtree(target, ignore_errors=True)
    (target / "plots").mkdir(parents=True)
    for name in ("report.md", "results.json", "config.yaml"):
        shutil.copy(out / name, target / name)
    for png in (out / "plots").glob("*.png"):
        shutil.copy(png, target / "plots" / png.name)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/quick"))
    regenerate(parser.parse_args().out)
