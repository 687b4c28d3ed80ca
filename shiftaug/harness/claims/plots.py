"""The figures of claims.md (matplotlib, no display). Means over seeds, error bars = std."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..store import atomic_write

__all__ = ["write_claim_plots"]

Runs = dict[str, list[dict[str, Any]]]


def _pick(runs: Runs, part: str, model: str, arm: str) -> list[dict[str, Any]]:
    return [r for r in runs.get(part, []) if r["model"] == model and r["arm"] == arm]


def _metric(runs: Runs, part: str, model: str, arm: str, key: str) -> tuple[float, float]:
    vals = [r["metrics"].get(key) for r in _pick(runs, part, model, arm)]
    vals = [v for v in vals if v is not None]
    return (float(np.mean(vals)), float(np.std(vals))) if vals else (np.nan, 0.0)


def _curve(runs: Runs, part: str, model: str, arm: str, curve: str, x: str, y: str) -> Any:
    items = [r["curves"].get(curve) for r in _pick(runs, part, model, arm)]
    items = [c for c in items if c]
    if not items:
        return None
    ys = np.array([c[y] for c in items], dtype=float)
    return np.asarray(items[0][x]), ys.mean(0), ys.std(0)


def _bars(
    ax: Any, runs: Runs, part: str, cells: list[tuple[str, str]], key: str, title: str
) -> None:
    stats = [_metric(runs, part, m, a, key) for m, a in cells]
    ax.bar(
        range(len(cells)),
        [100 * s[0] for s in stats],
        yerr=[100 * s[1] for s in stats],
        color="tab:blue",
        capsize=3,
    )
    ax.set_xticks(
        range(len(cells)),
        [m if a == "none" else f"{m}/{a}" for m, a in cells],
        rotation=45,
        ha="right",
        fontsize=8,
    )
    ax.set_title(title, fontsize=9)
    ax.set_ylim(bottom=0)


def _pooling(runs: Runs, plt: Any) -> Any:
    cells = [
        (m, "none")
        for m in (
            "cnn",
            "cnn_avg",
            "cnn_blur",
            "cnn_blur5",
            "cnn_aps",
            "cnn_k5",
            "cnn_k7",
            "cnn_k9",
            "lcn",
        )
    ]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    _bars(axes[0], runs, "conv", cells, "flip_rate_1px", "1-px flips (%), lower is better")
    _bars(axes[1], runs, "conv", cells, "consistency_crop", "crop consistency (%)")
    return fig


def _layers(runs: Runs, plt: Any) -> Any:
    fig, ax = plt.subplots(figsize=(5, 3.2))
    for model, style in (("cnn", "o-"), ("lcn", "s--"), ("cnn_flat", "^-")):
        items = [r["curves"].get("equivariance") for r in _pick(runs, "conv", model, "none")]
        items = [c for c in items if c]
        if not items:
            continue
        names = list(items[0]["error"])
        vals = np.array(
            [[c["error"][n] if c["error"][n] is not None else np.nan for n in names] for c in items]
        )
        ax.errorbar(
            range(len(names)), vals.mean(0), yerr=vals.std(0), fmt=style, label=model, capsize=3
        )
        ax.set_xticks(range(len(names)), names, rotation=30, fontsize=8)
    ax.set_ylabel("relative error (0 = exact)")
    ax.set_title("equivariance error of each layer under 8-px shifts", fontsize=9)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    return fig


def _lines(
    runs: Runs,
    plt: Any,
    specs: list[tuple[str, str, str, str, str, str]],
    xl: str,
    yl: str,
    title: str,
) -> Any:
    fig, ax = plt.subplots(figsize=(5, 3.2))
    for part, model, arm, curve, x, y in specs:
        got = _curve(runs, part, model, arm, curve, x, y)
        if got is not None:
            xs, mean, std = got
            ax.errorbar(
                xs, 100 * mean, yerr=100 * std, marker=".", capsize=2, label=f"{model}/{arm}"
            )
    ax.set_xlabel(xl)
    ax.set_ylabel(yl)
    ax.set_title(title, fontsize=9)
    ax.set_ylim(0, 102)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    return fig


def _rotation(runs: Runs, plt: Any) -> Any:
    specs = [
        ("rotation", m, a, "rotation", "angle", "accuracy")
        for m, a in (("cnn", "none"), ("cnn", "rotate"), ("gcnn_p4", "none"))
    ]
    return _lines(
        runs,
        plt,
        specs,
        "rotation (degrees)",
        "accuracy (%)",
        "accuracy against the rotation angle",
    )


def _pairs(runs: Runs, plt: Any) -> Any:
    specs = [("augment", "cnn", "translate", "pairs", "distance", y) for y in ("both", "alone")]
    fig = _lines(
        runs,
        plt,
        specs,
        "distance between the two digits' corners (px)",
        "top-1 names a digit present (%)",
        "two digits side by side (solid: pair, second: alone)",
    )
    return fig


def _region(runs: Runs, plt: Any) -> Any:
    fig, ax = plt.subplots(figsize=(5, 3.2))
    parts = sorted(p for p in runs if p.startswith("region_"))
    for model, style in (("cnn", "o-"), ("cnn_flat", "s--")):
        stats = [_metric(runs, p, model, "none", "unseen_accuracy") for p in parts]
        xs = [float(p[7:]) for p in parts]
        ax.errorbar(
            xs,
            [100 * s[0] for s in stats],
            yerr=[100 * s[1] for s in stats],
            fmt=style,
            capsize=3,
            label=model,
        )
    ax.set_xlabel("side of the training region (fraction of the canvas)")
    ax.set_ylabel("accuracy at unseen positions (%)")
    ax.set_ylim(0, 102)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    return fig


def _stn(runs: Runs, plt: Any) -> Any:
    items = [r["curves"].get("stn") for r in _pick(runs, "stn", "stn", "translate")]
    items = [c for c in items if c]
    if not items:
        return None
    fig, ax = plt.subplots(figsize=(4, 4))
    true = np.array(items[0]["true"]).reshape(-1)
    pred = np.array(items[0]["predicted"]).reshape(-1)
    ax.scatter(
        true,
        pred,
        s=4,
        alpha=0.5,
        label=f"x and y, seed {_pick(runs, 'stn', 'stn', 'translate')[0]['seed']}",
    )
    lim = max(abs(true).max(), abs(pred).max()) + 1
    ax.plot([-lim, lim], [-lim, lim], color="grey", linewidth=0.8, label="undoes the shift exactly")
    ax.set_xlabel("object displacement from the training centre (px)")
    ax.set_ylabel("shift the STN undoes (px)")
    ax.legend(fontsize=7)
    return fig


def _vit(runs: Runs, plt: Any) -> Any:
    cells = [
        ("cnn", "none"),
        ("cnn", "translate"),
        ("vit", "none"),
        ("vit", "translate"),
        ("vit_nopos", "none"),
        ("vit_p4", "none"),
        ("vit_gap", "none"),
    ]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    _bars(axes[0], runs, "vit", cells, "position_gap", "position gap, seen − unseen (points)")
    _bars(axes[1], runs, "vit", cells, "accuracy", "accuracy (%)")
    return fig


MAKERS: dict[str, Callable[[Runs, Any], Any]] = {
    "claims_pooling": _pooling,
    "claims_layers": _layers,
    "claims_region": _region,
    "claims_rotation": _rotation,
    "claims_vit": _vit,
    "claims_stn": _stn,
    "claims_pairs": _pairs,
}


def _save(fig: Any, path: Path) -> None:
    atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=110))


def write_claim_plots(runs: Runs, folder: str | Path) -> list[str]:
    """Write the claims figures into ``folder``; returns the names written (missing data: skipped)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder = Path(folder)
    written = []
    for name, make in MAKERS.items():
        try:
            fig = make(runs, plt)
        except (KeyError, ValueError, IndexError):
            fig = None  # a part of the suite did not run (a reduced suite): no figure
        if fig is None:
            continue
        fig.tight_layout()
        _save(fig, folder / f"{name}.png")
        plt.close(fig)
        written.append(name)
    return written
