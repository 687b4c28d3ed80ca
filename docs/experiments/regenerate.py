"""Regenerate a committed result folder (docs/experiments/<preset>/) from its preset.

    python docs/experiments/regenerate.py [--preset quick|claims|placement] [--out runs/<preset>]

Runs (or resumes) ``shiftaug experiment --preset <preset>`` and copies what it wrote next to
this script; prints the wall time, the CPU time and the machine's load and writes them to
``timing.json`` next to the results, so the docs can quote them. For ``claims`` it copies
``claims.md``, the summary ``results.json`` and the plots.

    python docs/experiments/regenerate.py --preset placement --collect runs/a runs/b ...

Parts of one preset's grid run in parallel processes (``shiftaug experiment --preset placement
--models cnn --out runs/a``, ...): ``--collect`` gathers their finished runs, in the preset's
grid order, into ``--out`` (results.json marked incomplete when cells are missing), writes the
report there and copies it here, training nothing.
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
    "placement": ("report.md", "results.json", "config.yaml"),
}
# Hand-written pages next to the generated files (the placement conclusion) are kept.
KEEP = ("conclusion.md",)
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


def collect(preset: str, parts: list[Path], out: Path) -> None:
    """Merge the finished runs of ``parts`` (folders of ``preset``'s grid) into ``out``."""
    from shiftaug.harness.config import config_to_dict, load_config
    from shiftaug.harness.experiment import RESULTS_SCHEMA, _summary, run_key
    from shiftaug.harness.report import write_report

    cfg = load_config(preset)
    found: dict[str, dict] = {}
    environment: dict = {}
    for part in parts:
        for result in sorted(part.glob("runs/*/result.json")):
            found.setdefault(result.parent.name, json.loads(result.read_text()))
        if (part / "results.json").is_file():
            environment = (
                environment or json.loads((part / "results.json").read_text())["environment"]
            )
    cells = cfg.grid()
    records = [found[run_key(*cell)] for cell in cells if run_key(*cell) in found]
    out.mkdir(parents=True, exist_ok=True)
    data = {
        "schema": RESULTS_SCHEMA, "name": cfg.name, "config": config_to_dict(cfg),
        "environment": environment, "complete": len(records) == len(cells),
        **_summary(records), "runs": records,
    }  # fmt: skip
    (out / "results.json").write_text(json.dumps(data, indent=1))
    import yaml

    (out / "config.yaml").write_text(yaml.safe_dump(config_to_dict(cfg), sort_keys=False))
    write_report(out)
    print(f"{len(records)} of {len(cells)} runs collected, load average {os.getloadavg()[0]:.1f}")


def copy_back(preset: str, out: Path) -> None:
    """Replace the generated files of ``docs/experiments/<preset>/`` by those of ``out``."""
    target = HERE / preset
    for path in target.glob("*") if target.is_dir() else ():
        if path.is_dir():
            shutil.rmtree(path)
        elif path.name not in KEEP:
            path.unlink()
    (target / "plots").mkdir(parents=True)
    for name in FILES[preset]:
        shutil.copy(out / name, target / name)
    for png in (out / "plots").glob("*.png"):
        shutil.copy(png, target / "plots" / png.name)


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
    copy_back(preset, out)
    (target / "timing.json").write_text(json.dumps(timing, indent=1) + "\n")
    if preset == "claims":
        write_tables()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=sorted(FILES), default="quick")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--tables-only", action="store_true", help="only rewrite the docs' claims tables"
    )
    parser.add_argument("--collect", nargs="+", type=Path, default=None, metavar="DIR")
    args = parser.parse_args()
    if args.tables_only:
        write_tables()
    elif args.collect:
        collect(args.preset, args.collect, args.out or Path("runs") / args.preset)
        copy_back(args.preset, args.out or Path("runs") / args.preset)
    else:
        regenerate(args.preset, args.out or Path("runs") / args.preset)
