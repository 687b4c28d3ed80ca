"""``claims.md``, ``results.json`` and plots of a suite, computed from its parts' results."""

from __future__ import annotations

import platform
from pathlib import Path
from typing import Any

from ..report import load_results
from ..store import atomic_write, read_json, write_json
from .stats import __doc__ as STATS_DOC
from .verdicts import ACC_FLOOR, GAP, PTS, merged
from .verdicts_more import claim_rows

__all__ = ["CLAIMS_SCHEMA", "write_claims"]

CLAIMS_SCHEMA = "shiftaug.claims/1"
# Curves too large to keep in the summary (they stay in each part's own results.json).
_DROP_CURVES = ("heatmap",)


def _part(folder: Path) -> dict[str, Any]:
    """A part's results: every finished run found in ``folder/runs`` (the source of truth, so
    that runs finished by several processes are all counted), with the part's config and
    environment. A part that has not run yet counts as empty (its claims say so)."""
    data: dict[str, Any] = {"runs": [], "complete": False}
    if (folder / "results.json").exists():
        data = load_results(folder)
    found = []
    for path in sorted(folder.glob("runs/*/result.json")):
        try:
            record = read_json(path)
        except ValueError:
            continue  # a run being written: not finished
        if isinstance(record, dict) and isinstance(record.get("metrics"), dict):
            found.append(record)
    known = {r.get("key") for r in data["runs"]}
    data["runs"] = data["runs"] + [r for r in found if r.get("key") not in known]
    return data


def _slim(run: dict[str, Any]) -> dict[str, Any]:
    curves = {k: v for k, v in (run.get("curves") or {}).items() if k not in _DROP_CURVES}
    return {**{k: v for k, v in run.items() if k not in ("curves", "losses")}, "curves": curves}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(rows: list[dict[str, str]]) -> list[str]:
    lines = [
        "| # | claim | experiment | ours (mean ± std over seeds, %) | literature | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for i, row in enumerate(rows, 1):
        lines.append(
            f"| {i} | {_cell(row['claim'])} | {_cell(row['experiment'])} | {_cell(row['ours'])} "
            f"| {_cell(row['literature'])} | **{row['verdict']}**: {_cell(row['why'])} |"
        )
    return lines


def write_claims(
    out: str | Path, name: str, parts: list[str], *, timing: dict[str, Any] | None = None
) -> Path:
    """Read ``OUT/<part>/results.json`` for every part; write ``OUT/results.json``,
    ``OUT/claims.md`` and ``OUT/plots/*.png``. Returns the claims.md path.

    A rerun without training (every part finished) keeps the timing of the first full run.
    """
    from .plots import write_claim_plots

    out = Path(out)
    data = {part: _part(out / part) for part in parts}
    runs = {part: [_slim(r) for r in d["runs"]] for part, d in data.items()}
    rows = claim_rows({part: d["runs"] for part, d in data.items()})
    previous = out / "results.json"
    if previous.exists() and (timing is None or timing.get("wall_s", 0) < 60):
        timing = read_json(previous).get("timing", timing)
    env: dict[str, Any] = next(
        (d["environment"] for d in data.values() if d.get("environment")), {}
    )
    summary: dict[str, Any] = {
        "schema": CLAIMS_SCHEMA,
        "name": name,
        "environment": {**env, "python": platform.python_version()},
        "timing": timing or {},
        "complete": all(d.get("complete") for d in data.values()),
        "rules": {"accuracy_floor": ACC_FLOOR, "min_effect": PTS, "min_gap": GAP},
        "claims": rows,
        "parts": {
            part: {"config": d.get("config"), "complete": d.get("complete"), "runs": runs[part]}
            for part, d in data.items()
        },
    }
    write_json(previous, summary)
    plots = write_claim_plots(merged(runs), out / "plots")
    seeds = sorted({r["seed"] for rs in runs.values() for r in rs})
    count = sum(len(rs) for rs in runs.values())
    t = summary["timing"]
    timing_line = (
        f"Wall time {t['wall_s'] / 60:.1f} min, CPU time {t['cpu_s'] / 60:.1f} min, load average "
        f"{t.get('load_before', 0):.1f} before and {t.get('load_after', 0):.1f} after, on "
        f"{env.get('device_name', '?')} with {env.get('torch_threads', '?')} threads"
        + (f" ({t['note']})." if t.get("note") else ".")
        if t.get("wall_s")
        else "Timing: not recorded (summary rebuilt from finished parts)."
    )
    unfinished = [p for p, d in data.items() if not d.get("complete")]
    lines = [
        f"# shiftaug claims: {name}",
        "",
        *(
            [
                f"**Incomplete**: parts {', '.join(f'`{p}`' for p in unfinished)} have not "
                "finished; rerun the same command to resume them. Claims that need them say "
                "*inconclusive* (missing).",
                "",
            ]
            if unfinished
            else []
        ),
        f"{count} runs in {len(parts)} parts ({', '.join(f'`{p}`' for p in parts)}), seeds "
        f"{seeds}; every number is the mean ± standard deviation over seeds, in percent unless "
        f"stated. {timing_line}",
        "",
        "**How the verdicts are computed** (`shiftaug/harness/claims/verdicts.py`): an "
        f"invariance number counts only if the model's test accuracy is at least "
        f"{100 * ACC_FLOOR:.0f}% (a claim whose core models miss it is *inconclusive*; side "
        "variants that miss it are shown, marked, and not counted). "
        + " ".join((STATS_DOC or "").split("\n\n")[1].split()).replace("``", "`")
        + f" Minimum effects: {100 * PTS:.0f} points for accuracy, consistency and flips, "
        f"{100 * GAP:.0f} points for position gaps. Each row's sentence names the rule that "
        "decided it.",
        "",
        *_table(rows),
        "",
        "## Plots",
        "",
        *(f"![{p}](plots/{p}.png)" for p in plots),
        "",
    ]
    path = out / "claims.md"
    text = "\n".join(lines)
    atomic_write(path, lambda f: f.write(text.encode()))
    return path
