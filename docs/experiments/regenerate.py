"""Regenerate a committed result folder (docs/experiments/quick/ or .../claims/) from its preset.

    python docs/experiments/regenerate.py [--preset quick|claims] [--out runs/<preset>]

Runs (or resumes) ``shiftaug experiment --preset <preset>`` and copies what it wrote next to
this script; prints the wall time, the CPU time and the machine's load so the docs can quote
them. For ``claims`` it copies ``claims.md``, the summary ``results.json`` and the plots.
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
FILES = {"quick": ("report.md", "results.json", "config.yaml"), "claims": ("claims.md", "results.json")}


def regenerate(preset: str, out: Path) -> None:
    start, load = time.perf_counter(), os.getloadavg()
    code = main(["experiment", "--preset", preset, "--out", str(out), "--no-progress"])
    if code:
        raise SystemExit(code)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        f"wall {time.perf_counter() - start:.0f} s, CPU {usage.ru_utime + usage.ru_stime:.0f} s, "
        f"load average before {load[0]:.1f}, after {os.getloadavg()[0]:.1f}"
    )
    target = HERE / preset
    shutil.rmtree(target, ignore_errors=True)
    (target / "plots").mkdir(parents=True)
    for name in FILES[preset]:
        shutil.copy(out / name, target / name)
    for png in (out / "plots").glob("*.png"):
        shutil.copy(png, target / "plots" / png.name)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=sorted(FILES), default="quick")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    regenerate(args.preset, args.out or Path("runs") / args.preset)
