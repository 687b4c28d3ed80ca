"""``report.md`` from ``results.json``: tables, the issue's checks, published numbers next to ours.

:func:`write_report` reads and validates the whole results file before writing anything, so
a corrupt file gives one clear error instead of a half-written report.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .claims.verdicts import ACC_FLOOR
from .references import metric as _metric
from .references import reference_rows
from .references import spec_of as _spec
from .store import ResultsError, atomic_write, read_json

__all__ = ["load_results", "summarize", "write_report"]


def load_results(out: str | Path) -> dict[str, Any]:
    """Read and check ``OUT/results.json``; :class:`ResultsError` if it is not usable."""
    path = Path(out) / "results.json"
    data = read_json(path)
    runs = data.get("runs") if isinstance(data, dict) else None
    if not isinstance(runs, list):
        raise ResultsError(f"`{path}` must hold a list of runs under 'runs', but it does not.")
    for i, run in enumerate(runs):
        if not (
            isinstance(run, dict)
            and all(
                isinstance(run.get(k), t) for k, t in (("model", str), ("arm", str), ("seed", int))
            )
            and isinstance(run.get("metrics"), dict)
        ):
            raise ResultsError(
                f"`{path}` run {i} must have model, arm, seed and metrics, but got {str(run)[:80]!r}."
            )
        for key, value in run["metrics"].items():
            if value is not None and not isinstance(value, (int, float)):
                raise ResultsError(
                    f"`{path}` run {i} metric {key!r} must be a number, but got {value!r}."
                )
        if not isinstance(run.get("curves", {}), dict):
            raise ResultsError(f"`{path}` run {i} 'curves' must be a mapping.")
    return data


def summarize(
    runs: Iterable[dict[str, Any]],
) -> dict[tuple[str, str], dict[str, tuple[float, float] | None]]:
    """Mean and standard deviation over seeds of every metric, per ``(model, arm)``.

    Example:
        >>> from shiftaug.harness.report import summarize
        >>> runs = [{"model": "cnn", "arm": "none", "seed": s, "metrics": {"accuracy": a}}
        ...         for s, a in ((0, 0.9), (1, 0.8))]
        >>> mean, std = summarize(runs)[("cnn", "none")]["accuracy"]
        >>> round(mean, 3), round(std, 3)
        (0.85, 0.071)
    """
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for run in runs:
        groups.setdefault((run["model"], run["arm"]), []).append(run["metrics"])
    table: dict[tuple[str, str], dict[str, tuple[float, float] | None]] = {}
    for key, metrics in groups.items():
        names = dict.fromkeys(k for m in metrics for k in m)
        row: dict[str, tuple[float, float] | None] = {}
        for name in names:
            values = [float(m[name]) for m in metrics if m.get(name) is not None]
            values = [v for v in values if math.isfinite(v)]
            row[name] = (
                (statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0)
                if values
                else None
            )
        table[key] = row
    return table


def _pct(cell: tuple[float, float] | None, *, signed: bool = False) -> str:
    if cell is None:
        return "–"
    mean, std = cell
    text = f"{100 * mean:+.1f}" if signed else f"{100 * mean:.1f}"
    return text + (f" ± {100 * std:.1f}" if std else "")


def _sci(cell: tuple[float, float] | None) -> str:
    return "–" if cell is None else f"{cell[0]:.1e}"


def _main_table(table: dict[tuple[str, str], dict[str, Any]], k: int) -> list[str]:
    cols = [
        ("accuracy", "accuracy"),
        ("seen_accuracy", "seen"),
        ("unseen_accuracy", "unseen"),
        ("position_gap", "gap"),
        ("logit_change_init", "init logit Δ"),
        ("consistency_circular", "circ. cons."),
        ("consistency_crop", "crop cons."),
        ("flip_rate_1px", "1-px flips"),
        ("worst_of_k", f"worst-of-{k}"),
        ("aug_overhead", "aug overhead"),
    ]
    lines = [
        "| model | arm | " + " | ".join(c[1] for c in cols) + " | train time |",
        "|---|---|" + "---:|" * (len(cols) + 1),
    ]
    for (model, arm), row in table.items():
        time_s = row.get("train_time_s")
        cells = [
            _sci(row.get(key))
            if key == "logit_change_init"
            else _pct(row.get(key), signed=key == "position_gap")
            for key, _ in cols
        ]
        cells.append(f"{time_s[0]:.0f} s" if time_s else "–")
        lines.append(f"| {model} | {arm} | " + " | ".join(cells) + " |")
    return lines


def _verdict(ok: bool) -> str:
    return "✅" if ok else "❌"


def _aps_check(model: str, arms: list[str], table: dict[tuple[str, str], dict[str, Any]]) -> str:
    """APS: exact circular invariance, shown without the one-class degeneracy.

    Trained: circular consistency, counted only where accuracy reaches :data:`ACC_FLOOR`.
    Untrained (a network that predicts one class for every image is trivially "100% consistent"):
    the largest logit change over every circular shift, next to the logits' spread.
    """
    done = [_metric(table, model, a, "consistency_circular") for a in arms]
    acc = [_metric(table, model, a, "accuracy") or 0.0 for a in arms]
    change = max((_metric(table, model, a, "logit_change_init") or 0.0) for a in arms)
    spread = min((_metric(table, model, a, "logit_spread_init") or 0.0) for a in arms)
    counted = [c for c, a in zip(done, acc, strict=True) if c is not None and a >= ACC_FLOOR]
    low = min(counted) if counted else None
    ok = low == 1.0 and len(counted) == len(arms) and change <= 1e-3 * spread
    shown = "–" if low is None else f"{100 * low:.1f}"
    return (
        f"| {model} (APS, circular padding): trained circular consistency, lowest over arms with "
        f"accuracy ≥ {100 * ACC_FLOOR:.0f}% ({len(counted)} of {len(arms)}); untrained: largest "
        f"logit change over every circular shift vs the logits' spread | {shown}; "
        f"{change:.1e} vs {spread:.2f} | 100; change ≤ 0.1% of spread | {_verdict(ok)} |"
    )


def _checks(runs: list[dict[str, Any]], table: dict[tuple[str, str], dict[str, Any]]) -> list[str]:
    """The claims of the issue, each with our number, the target and a verdict."""
    models = list(dict.fromkeys(r["model"] for r in runs))
    arms_of = {m: [a for (mm, a) in table if mm == m] for m in models}
    lines = ["| claim | measured | target | |", "|---|---|---|---|"]
    for model in models:
        spec = _spec(runs, model)
        if spec.get("pool") == "aps" and spec.get("padding") == "circular":
            lines.append(_aps_check(model, arms_of[model], table))
    cnns = [
        m
        for m in models
        if _spec(runs, m).get("kind") == "cnn"
        and _metric(table, m, "none", "position_gap") is not None
    ]
    if cnns:
        worst = max(cnns, key=lambda m: _metric(table, m, "none", "position_gap") or 0.0)
        gap = _metric(table, worst, "none", "position_gap") or 0.0
        lines.append(
            f"| a CNN trained at one region without augmentation loses accuracy at unseen positions (largest gap: {worst}) "
            f"| {100 * gap:+.1f} points | >= 30 | {_verdict(gap >= 0.30)} |"
        )
        aug = _metric(table, worst, "translate", "position_gap")
        if aug is not None:
            lines.append(
                f"| the same CNN ({worst}) trained with `RandomTranslate` over the canvas "
                f"| {100 * aug:+.1f} points | within ±5 | {_verdict(abs(aug) <= 0.05)} |"
            )
    overhead = {m: _metric(table, m, "translate", "aug_overhead") for m in models}
    measured = {m: v for m, v in overhead.items() if v is not None}
    if measured:
        model = max(measured, key=lambda m: measured[m])
        lines.append(
            f"| `RandomTranslate` share of the train step (largest: {model}) "
            f"| {100 * measured[model]:.1f}% | <= 5% | {_verdict(measured[model] <= 0.05)} |"
        )
    return lines


def _position_table(
    runs: list[dict[str, Any]], table: dict[tuple[str, str], dict[str, Any]]
) -> list[str]:
    """Seen / unseen accuracy per model (rows) and arm (columns)."""
    models = list(dict.fromkeys(r["model"] for r in runs))
    arms = list(dict.fromkeys(r["arm"] for r in runs))
    if all(_metric(table, m, a, "position_gap") is None for m in models for a in arms):
        return []
    lines = ["| model | " + " | ".join(arms) + " |", "|---|" + "---|" * len(arms)]
    for model in models:
        cells = []
        for arm in arms:
            seen, unseen = (
                _metric(table, model, arm, "seen_accuracy"),
                _metric(table, model, arm, "unseen_accuracy"),
            )
            cells.append(
                "–"
                if seen is None or unseen is None
                else f"{100 * seen:.0f} / {100 * unseen:.0f} ({100 * (seen - unseen):+.0f})"
            )
        lines.append(f"| {model} | " + " | ".join(cells) + " |")
    return lines


def _blur_pairs(
    runs: list[dict[str, Any]], table: dict[tuple[str, str], dict[str, Any]]
) -> list[str]:
    models = list(dict.fromkeys(r["model"] for r in runs))
    lines = []
    for plain in models:
        base = _spec(runs, plain)
        if base.get("kind") != "cnn" or base.get("pool", "max") != "max":
            continue
        for blur in models:
            other = _spec(runs, blur)
            if other.get("pool") == "blur" and {**other, "pool": "max"} == {**base, "pool": "max"}:
                for m, arm in table:
                    if m == plain and (blur, arm) in table:
                        a, b = table[(plain, arm)], table[(blur, arm)]
                        lines.append(
                            f"| {plain} → {blur} | {arm} | {_pct(a.get('consistency_crop'))} → {_pct(b.get('consistency_crop'))} | {_pct(a.get('accuracy'))} → {_pct(b.get('accuracy'))} |"
                        )
    if not lines:
        return []
    head = ["| max-pool → BlurPool | arm | crop consistency | accuracy |", "|---|---|---|---|"]
    zhang = (
        "| Zhang 2019, antialiased-cnns README §4, ResNet18 table (ImageNet) | – | 85.11 → "
        "87.51 (Tri-3) / 88.25 (Bin-5) | 69.74 → 71.69 / 71.38 |"
    )
    return head + lines + [zhang]


def write_report(out: str | Path) -> Path:
    """Write ``OUT/report.md`` and ``OUT/plots/*.png`` from ``OUT/results.json``.

    Returns:
        The report's path.
    """
    from .plots import CAPTIONS, write_plots

    out = Path(out)
    data = load_results(out)
    runs = data["runs"]
    table = summarize(runs)
    cfg = data.get("config") or {}
    k = (cfg.get("eval") or {}).get("worst_of", 10)
    env = data.get("environment") or {}
    plots = write_plots(runs, out / "plots")
    d = cfg.get("data") or {}
    lines = [
        f"# shiftaug experiment: {data.get('name', '?')}",
        "",
        f"{len(runs)} runs{'' if data.get('complete', True) else ' (incomplete: rerun the command to finish)'}"
        f" on {env.get('device', '?')} ({env.get('device_name') or 'unknown'}), torch {env.get('torch', '?')}, "
        f"{env.get('world_size', 1)} process(es). Data: {d.get('dataset')} on a {d.get('canvas')} px "
        f"{d.get('background')} canvas, training positions `{d.get('positions')}`; seeds "
        f"{cfg.get('seeds')}. All numbers in percent; ± is the standard deviation over seeds.",
        "",
        "## Checks",
        "",
        *_checks(runs, table),
        "",
        "## All runs",
        "",
        *_main_table(table, k),
        "",
    ]
    positions = _position_table(runs, table)
    if positions:
        lines += [
            "## Seen / unseen positions",
            "",
            "Accuracy at the training positions / elsewhere on the canvas (gap in points).",
            "",
            *positions,
            "",
        ]
    blur = _blur_pairs(runs, table)
    if blur:
        lines += ["## Anti-aliasing (BlurPool) next to Zhang 2019", "", *blur, ""]
    lines += [
        "## Published numbers next to ours",
        "",
        "Published results use other data and larger models: compare directions, not values.",
        "",
        *reference_rows(runs, table),
        "",
    ]
    lines += ["## Plots", ""]
    for name in plots:
        lines += [f"![{name}](plots/{name}.png)", "", f"*{CAPTIONS[name]}*", ""]
    path = out / "report.md"
    text = "\n".join(lines)
    atomic_write(path, lambda f: f.write(text.encode()))
    return path
