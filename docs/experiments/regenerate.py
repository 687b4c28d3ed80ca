"""Regenerate a committed result folder (docs/experiments/quick/ or .../claims/) from its preset.

    python docs/experiments/regenerate.py [--preset quick|claims] [--out runs/<preset>]

Runs (or resumes) ``shiftaug experiment --preset <preset>`` and copies what it wrote next to
this script; prints the wall time, the CPU time and the machine's load and writes them to
``timing.json`` next to the results, so the docs can quote them. For ``claims`` it copies ``claims.md``, the summary ``results.json`` and the plots.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import time
from pathlib import Path

from shiftaug.cli import main

HERE = Path(__file__).resolve().parent
FILES = {
    "quick": ("report.md", "results.json", "config.yaml"),
    "claims": ("claims.md", "results.json"),
}
START, END = "<!-- claims:start -->", "<!-- claims:end -->"
PAGES = (HERE.parent / "experiments.md", HERE.parents[1] / "README.md")


def claims_table() -> str:
    """The claims summary (claim, verdict, why) from the committed claims results."""
    data = json.loads((HERE / "claims" / "results.json").read_text())
    seeds = sorted({r["seed"] for part in data["parts"].values() for r in part["runs"]})
    lines = [
        f"Computed from the committed run ({len(seeds)} seeds each; numbers and sources in "
        "[claims.md](docs/experiments/claims/claims.md)):",
        "",
        "| # | claim | verdict |",
        "|---|---|---|",
    ]
    for i, row in enumerate(data["claims"], 1):
        lines.append(f"| {i} | {row['claim']} | **{row['verdict']}**: {row['why']} |")
    return "\n".join(lines)


def write_tables() -> None:
    """Put :func:`claims_table` between the markers of the docs page and the README."""
    table = claims_table()
    for page in PAGES:
        text = page.read_text()
        if START not in text:
            continue
        head, rest = text.split(START, 1)
        link = "experiments/claims/claims.md" if page.name == "experiments.md" else None
        body = table.replace("docs/experiments/claims/claims.md", link) if link else table
        page.write_text(f"{head}{START}\n{body}\n{END}{rest.split(END, 1)[1]}")


def regenerate(preset: str, out: Path) -> None:
    start, load = time.perf_counter(), os.getloadavg()
    code = main(["experiment", "--preset", preset, "--out", str(out), "--no-progress"])
    if code:
        raise SystemExit(code)
    # This process and its finished children (the suite's worker processes).
    cpu = sum(
        u.ru_utime + u.ru_stime
        for u in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    )
    wall = time.perf_counter() - start
    timing: dict[str, object] = {
        "command": f"python docs/experiments/regenerate.py --preset {preset} --out {out}",
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "load_average_before": [round(x, 2) for x in load],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "cpu_count": os.cpu_count(),
        "note": "a resumed run counts only the runs this call trained; the machine is shared",
    }
    print(
        f"wall {wall:.0f} s, CPU {cpu:.0f} s, "
        f"load average before {load[0]:.1f}, after {os.getloadavg()[0]:.1f}"
    )
    target = HERE / preset
    if wall < 60 and (target / "timing.json").exists():  # a rerun that trained nothing
        timing = json.loads((target / "timing.json").read_text())
    shutil.rmtree(target, ignore_errors=True)
    (target / "plots").mkdir(parents=True)
    for name in FILES[preset]:
        shutil.copy(out / name, target / name)
    (target / "timing.json").write_text(json.dumps(timing, indent=1) + "\n")
    for png in (out / "plots").glob("*.png"):
        shutil.copy(png, target / "plots" / png.name)
    if preset == "claims":
        write_tables()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=sorted(FILES), default="quick")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--tables-only", action="store_true", help="only rewrite the docs' claims tables"
    )
    args = parser.parse_args()
    if args.tables_only:
        write_tables()
    else:
        regenerate(args.preset, args.out or Path("runs") / args.preset)
