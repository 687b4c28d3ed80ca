"""PNG plots of an experiment's runs (matplotlib, no display needed).

- ``displacement.png``: accuracy against the distance (px) from the training positions, one
  panel per model, one line per arm;
- ``heatmaps.png``: accuracy at every object position, models x arms, training box outlined;
- ``consistency.png``: circular and crop consistency per model and arm;
- ``layers.png``: embedding invariance index per layer;
- ``placement.png``: realistic vs frame shifts and the removal probe
  (:mod:`~shiftaug.harness.placement_report`), for runs that measured them.

Runs with several seeds are averaged. A plot without data is skipped, never an error.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .placement_report import placement_plot
from .store import atomic_write

__all__ = ["write_plots"]


def _grouped(runs: list[dict[str, Any]], curve: str) -> dict[tuple[str, str], list[dict[str, Any]]]:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for run in runs:
        data = (run.get("curves") or {}).get(curve)
        if isinstance(data, dict) and data:
            groups.setdefault((run["model"], run["arm"]), []).append(data)
    return groups


def _mean(series: list[list[float]]) -> np.ndarray:
    length = min(len(s) for s in series)
    return np.mean([np.asarray(s[:length], dtype=float) for s in series], axis=0)


def _save(fig: Any, path: Path) -> None:
    atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=110, bbox_inches="tight"))


def _arm_colours(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One colour per arm, the same in every panel and plot."""
    import matplotlib

    arms = list(dict.fromkeys(r["arm"] for r in runs))
    cycle = matplotlib.colormaps["tab10"]
    return {arm: cycle(i % 10) for i, arm in enumerate(arms)}


def _per_model_lines(
    runs: list[dict[str, Any]],
    plt: Any,
    curve: str,
    draw: Callable[[Any, list[dict[str, Any]], Any, str], None],
) -> Any:
    """One panel per model, one line per arm, one legend for all."""
    groups = _grouped(runs, curve)
    models = list(dict.fromkeys(m for m, _ in groups))
    if not models:
        return None
    colours = _arm_colours(runs)
    fig, axes = plt.subplots(
        1, len(models), figsize=(2.8 * len(models), 2.8), sharey=True, squeeze=False
    )
    for ax, model in zip(axes[0], models, strict=True):
        for (m, arm), curves in groups.items():
            if m == model:
                draw(ax, curves, colours[arm], arm)
        ax.set_title(model, fontsize=9)
        ax.grid(alpha=0.3)
    handles = [plt.Line2D([], [], color=c, marker=".", label=a) for a, c in colours.items()]
    fig.legend(
        handles=handles,
        loc="lower center",
        ncol=len(handles),
        fontsize=8,
        bbox_to_anchor=(0.5, 1.0),
        frameon=False,
    )
    return fig, axes[0]


def _displacement(runs: list[dict[str, Any]], plt: Any) -> Any:
    def draw(ax: Any, curves: list[dict[str, Any]], colour: Any, arm: str) -> None:
        acc = 100 * _mean([c["accuracy"] for c in curves])
        ax.plot(curves[0]["distance"][: len(acc)], acc, marker=".", color=colour, label=arm)

    made = _per_model_lines(runs, plt, "displacement", draw)
    if made is None:
        return None
    fig, axes = made
    axes[0].set_ylabel("accuracy (%)")
    for ax in axes:
        ax.set_xlabel("distance from training positions (px)", fontsize=7)
    return fig


def _layers(runs: list[dict[str, Any]], plt: Any) -> Any:
    def draw(ax: Any, curves: list[dict[str, Any]], colour: Any, arm: str) -> None:
        names = list(curves[0])
        values = [np.mean([c.get(n, np.nan) for c in curves]) for n in names]
        ax.plot(range(len(names)), values, marker=".", color=colour, label=arm)
        ax.set_xticks(range(len(names)), names, rotation=60, fontsize=6)
        ax.axhline(0, color="grey", linewidth=0.5)

    made = _per_model_lines(runs, plt, "layers", draw)
    if made is None:
        return None
    fig, axes = made
    axes[0].set_ylabel("invariance index")
    return fig


def _heatmaps(runs: list[dict[str, Any]], plt: Any) -> Any:
    groups = _grouped(runs, "heatmap")
    models = list(dict.fromkeys(m for m, _ in groups))
    arms = list(dict.fromkeys(a for _, a in groups))
    if not groups:
        return None
    fig, axes = plt.subplots(
        len(models), len(arms), figsize=(2.2 * len(arms), 2.2 * len(models)), squeeze=False
    )
    for i, model in enumerate(models):
        for j, arm in enumerate(arms):
            ax = axes[i][j]
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(arm, fontsize=9)
            if j == 0:
                ax.set_ylabel(model, fontsize=9)
            curves = groups.get((model, arm))
            if not curves:
                ax.axis("off")
                continue
            x, y = np.asarray(curves[0]["x"]), np.asarray(curves[0]["y"])
            acc = _mean([c["accuracy"] for c in curves])
            xs, ys = np.unique(x), np.unique(y)
            image = np.full((len(ys), len(xs)), np.nan)
            image[np.searchsorted(ys, y), np.searchsorted(xs, x)] = 100 * acc
            im = ax.imshow(
                image,
                vmin=0,
                vmax=100,
                cmap="viridis",
                origin="upper",
                extent=(xs[0] - 0.5, xs[-1] + 0.5, ys[-1] + 0.5, ys[0] - 0.5),
            )
            x0, y0, x1, y1 = curves[0]["train_box"]
            ax.add_patch(
                plt.Rectangle(
                    (x0 - 0.5, y0 - 0.5),
                    x1 - x0 + 1,
                    y1 - y0 + 1,
                    fill=False,
                    edgecolor="red",
                    linewidth=1,
                )
            )
    fig.colorbar(im, ax=axes, shrink=0.6, label="accuracy (%) at object position")
    return fig


def _consistency(runs: list[dict[str, Any]], plt: Any) -> Any:
    from .report import summarize

    table = summarize(runs)
    keys = list(table)
    if not keys:
        return None
    fig, axes = plt.subplots(1, 2, figsize=(max(6, 0.45 * len(keys) + 2), 3.2), sharey=True)
    for ax, metric, title in zip(
        axes,
        ("consistency_circular", "consistency_crop"),
        ("circular shifts", "crops of the larger scene"),
        strict=True,
    ):
        values = [100 * (table[k].get(metric) or (np.nan, 0))[0] for k in keys]
        ax.barh(range(len(keys)), values, color="tab:blue")
        ax.set_yticks(range(len(keys)), [f"{m} / {a}" for m, a in keys], fontsize=7)
        ax.set_xlim(min([50.0, *[v for v in values if v == v]]), 100)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("consistency (%)")
        ax.invert_yaxis()
    return fig


def write_plots(runs: list[dict[str, Any]], folder: str | Path) -> list[str]:
    """Write the PNGs for ``runs`` into ``folder``; returns the names of those written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder = Path(folder)
    makers: dict[str, Callable[[list[dict[str, Any]], Any], Any]] = {
        "displacement": _displacement,
        "heatmaps": _heatmaps,
        "consistency": _consistency,
        "layers": _layers,
        "placement": placement_plot,
    }
    written = []
    for name, make in makers.items():
        fig = make(runs, plt)
        if fig is not None:
            _save(fig, folder / f"{name}.png")
            plt.close(fig)
            written.append(name)
    return written
