"""The placement experiment's part of the report: realistic vs frame shifts, the removal probe.

Used by :mod:`~shiftaug.harness.report` (a table) and :mod:`~shiftaug.harness.plots`
(``placement.png``) for any results that hold ``realistic_shift_accuracy``; runs without it
are left out. Means and standard deviations are over seeds.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "CAPTION",
    "PLACEMENT_METRICS",
    "placement_plot",
    "placement_summary",
    "placement_table",
]

CAPTION = (
    "Accuracy (%) when the object moves over its unmoved background (realistic shifts) and "
    "when the camera moves by the same shifts (frame shifts, real context), and the accuracy of "
    "a probe telling from which half of the canvas a relocating arm removed the object (50 = "
    "no trace left; arms that remove nothing have no bar). Bars: mean over seeds; error bars: "
    "standard deviation over seeds."
)
PLACEMENT_METRICS = (
    ("accuracy", "accuracy"),
    ("realistic_shift_accuracy", "realistic shifts"),
    ("frame_shift_accuracy", "frame shifts"),
    ("grid_accuracy", "every position"),
    ("removal_probe_accuracy", "removal probe"),
)


def _rows(
    runs: list[dict[str, Any]],
) -> dict[tuple[str, str], dict[str, tuple[float, float] | None]]:
    """``(mean, std over seeds)`` of each placement metric per ``(model, arm)``."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for run in runs:
        if run["metrics"].get("realistic_shift_accuracy") is not None:
            groups.setdefault((run["model"], run["arm"]), []).append(run["metrics"])
    rows: dict[tuple[str, str], dict[str, tuple[float, float] | None]] = {}
    for key, metrics in groups.items():
        rows[key] = {}
        for name, _ in PLACEMENT_METRICS:
            values = [float(m[name]) for m in metrics if m.get(name) is not None]
            std = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
            rows[key][name] = (float(np.mean(values)), std) if values else None
    return rows


def placement_summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """``{model: {arm: {metric: {"mean", "std", "seeds"}}}}`` over seeds (std with ddof=1; 0 for
    one seed), for the runs that hold the placement metrics; ``{}`` when none does.

    Example:
        >>> from shiftaug.harness.placement_report import placement_summary
        >>> runs = [{"model": "cnn", "arm": "none", "seed": s,
        ...          "metrics": {"accuracy": a, "realistic_shift_accuracy": a}}
        ...         for s, a in enumerate([0.5, 0.7])]
        >>> cell = placement_summary(runs)["cnn"]["none"]["accuracy"]
        >>> round(cell["mean"], 6), round(cell["std"], 6), cell["seeds"]
        (0.6, 0.141421, 2)
    """
    seeds: dict[tuple[str, str], int] = {}
    for run in runs:
        if run["metrics"].get("realistic_shift_accuracy") is not None:
            key = (run["model"], run["arm"])
            seeds[key] = seeds.get(key, 0) + 1
    out: dict[str, Any] = {}
    for (model, arm), row in _rows(runs).items():
        out.setdefault(model, {})[arm] = {
            name: None if value is None else
            {"mean": value[0], "std": value[1], "seeds": seeds[(model, arm)]}
            for name, value in row.items()
        }  # fmt: skip
    return out


def _cell(value: tuple[float, float] | None) -> str:
    if value is None:
        return "–"
    mean, std = value
    return f"{100 * mean:.1f} ± {100 * std:.1f}"


def placement_table(runs: list[dict[str, Any]]) -> list[str]:
    """Markdown lines: one row per model and arm (empty when no run has these metrics)."""
    rows = _rows(runs)
    if not rows:
        return []
    lines = [
        "| model | arm | " + " | ".join(name for _, name in PLACEMENT_METRICS) + " |",
        "|---|---|" + "---:|" * len(PLACEMENT_METRICS),
    ]
    for (model, arm), row in rows.items():
        cells = [_cell(row.get(key)) for key, _ in PLACEMENT_METRICS]
        lines.append(f"| {model} | {arm} | " + " | ".join(cells) + " |")
    return lines


def placement_plot(runs: list[dict[str, Any]], plt: Any) -> Any:
    """Bars with seed error bars: realistic shifts, frame shifts, removal probe; arms per model."""
    rows = _rows(runs)
    if not rows:
        return None
    models = list(dict.fromkeys(m for m, _ in rows))
    arms = list(dict.fromkeys(a for _, a in rows))
    metrics = PLACEMENT_METRICS[1:3] + PLACEMENT_METRICS[4:]
    fig, axes = plt.subplots(
        1, len(metrics), figsize=(5.2 * len(metrics), 0.35 * len(arms) * len(models) + 1.8)
    )
    cycle = plt.get_cmap("tab10")
    height = 0.8 / len(models)
    for ax, (key, title) in zip(axes, metrics, strict=True):
        for j, model in enumerate(models):
            cells = [rows.get((model, arm), {}).get(key) for arm in arms]
            means = [100 * c[0] if c else np.nan for c in cells]
            stds = [100 * c[1] if c else 0.0 for c in cells]
            ax.barh(np.arange(len(arms)) + j * height, means, height, xerr=stds, capsize=2,
                    color=cycle(j), label=model)  # fmt: skip
        ax.set_yticks(np.arange(len(arms)) + height * (len(models) - 1) / 2, arms, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel("%")
        ax.set_title(
            title + (" (50 = no trace)" if key == "removal_probe_accuracy" else ""), fontsize=9
        )
        if key == "removal_probe_accuracy":
            ax.axvline(50, color="grey", ls="--", lw=0.8)
        ax.grid(axis="x", alpha=0.3)
    axes[0].legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig
