"""PNG plots of an experiment's runs (matplotlib, no display needed).

- ``displacement.png``: accuracy against the distance (px) from the training positions, one
  panel per model, one line per arm;
- ``heatmaps.png``: accuracy at every object position, models x arms, training positions
  outlined in red;
- ``consistency.png``: circular and crop consistency per model and arm;
- ``layers.png``: embedding invariance index per layer.

Every arm has one colour, marker and line style in every plot, so lines that coincide stay
visible. Runs with several seeds are averaged. A plot without data is skipped, never an error.
:data:`CAPTIONS` says what each plot shows; the report prints it under the plot.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .store import atomic_write

__all__ = ["CAPTIONS", "INVARIANCE_INDEX", "write_plots"]

INVARIANCE_INDEX = (
    "invariance index = mean cos(same object, other position) "
    "- mean cos(other object, same position); > 0: the layer encodes what more than where"
)

CAPTIONS = {
    "displacement": "Accuracy (%) of each model against the distance in pixels between the "
    "object's test position and the nearest training position (0 = seen positions); one line "
    "per augmentation arm, averaged over seeds (each arm's points sit 0.1 px apart sideways, so "
    "lines that coincide stay visible).",
    "heatmaps": "Accuracy (%) at every object position on the canvas (x, y: the object's "
    "top-left corner in pixels), models down, arms across. The red square outlines the "
    "positions the training digits occupied; everything outside it was never seen in training.",
    "consistency": "How often the predicted class stays the same under two random shifts of "
    "the same test image (%), under circular shifts (content wraps around) and under crops of "
    "a larger scene (no padding). Bars start at 0; the number is at the end of each bar, with "
    "the standard deviation over seeds (and an error bar) when there are several.",
    "layers": f"Embedding invariance per layer, from the input side (left) to the output "
    f"(right): {INVARIANCE_INDEX}.",
}

_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")
_DASHES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1)), (0, (1, 3)))


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


def _arm_styles(runs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """One colour, marker and line style per arm, the same in every panel and plot."""
    import matplotlib

    arms = list(dict.fromkeys(r["arm"] for r in runs))
    cycle = matplotlib.colormaps["tab10"]
    return {
        arm: {
            "color": cycle(i % 10),
            "marker": _MARKERS[i % len(_MARKERS)],
            "linestyle": _DASHES[i % len(_DASHES)],
            "markersize": 5,
            "markerfacecolor": "none" if i % 2 else cycle(i % 10),  # hollow every other arm
            "linewidth": 1.4,
        }
        for i, arm in enumerate(arms)
    }


def _per_model_lines(
    runs: list[dict[str, Any]],
    plt: Any,
    curve: str,
    draw: Callable[[Any, list[dict[str, Any]], dict[str, Any], str], None],
    height: float = 3.0,
) -> Any:
    """One panel per model (at most three a row, to stay readable at page width), one line per
    arm, one legend for all."""
    groups = _grouped(runs, curve)
    models = list(dict.fromkeys(m for m, _ in groups))
    if not models:
        return None
    styles = _arm_styles([r for r in runs if (r["model"], r["arm"]) in groups])
    cols = min(3, len(models))
    rows = -(-len(models) // cols)
    fig, axes = plt.subplots(
        rows,
        cols,
        figsize=(3.4 * cols, height * rows + 0.8),
        sharey=True,
        squeeze=False,
        layout="constrained",
    )
    for ax, model in zip(axes.flat, models, strict=False):
        for (m, arm), curves in groups.items():
            if m == model:
                draw(ax, curves, styles[arm], arm)
        ax.set_title(model, fontsize=11)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=9)
    for ax in axes.flat[len(models) :]:
        ax.set_visible(False)
    handles = [plt.Line2D([], [], label=a, **s) for a, s in styles.items()]
    fig.legend(
        handles=handles,
        loc="outside upper center",
        ncol=min(len(handles), 6),
        fontsize=10,
        frameon=False,
        title="augmentation arm",
        title_fontsize=10,
    )
    return fig, axes


def _displacement(runs: list[dict[str, Any]], plt: Any) -> Any:
    arms = list(dict.fromkeys(r["arm"] for r in runs))

    def draw(ax: Any, curves: list[dict[str, Any]], style: dict[str, Any], arm: str) -> None:
        acc = 100 * _mean([c["accuracy"] for c in curves])
        # Each arm a little to the side (0.1 px apart) so that equal lines stay visible.
        dodge = 0.1 * (arms.index(arm) - (len(arms) - 1) / 2)
        distance = np.asarray(curves[0]["distance"][: len(acc)], dtype=float) + dodge
        ax.plot(distance, acc, label=arm, **style)

    made = _per_model_lines(runs, plt, "displacement", draw)
    if made is None:
        return None
    fig, axes = made
    for ax in axes[:, 0]:
        ax.set_ylabel("accuracy (%)", fontsize=10)
    axes[0, 0].set_ylim(0, 102)
    fig.supxlabel("distance from the nearest training position (px)", fontsize=10)
    return fig


def _layers(runs: list[dict[str, Any]], plt: Any) -> Any:
    def draw(ax: Any, curves: list[dict[str, Any]], style: dict[str, Any], arm: str) -> None:
        names = list(curves[0])
        values = [np.mean([c.get(n, np.nan) for c in curves]) for n in names]
        ax.plot(range(len(names)), values, label=arm, **style)
        ax.set_xticks(range(len(names)), names, rotation=35, ha="right", fontsize=9)
        ax.axhline(0, color="grey", linewidth=0.8)

    made = _per_model_lines(runs, plt, "layers", draw, height=3.4)
    if made is None:
        return None
    fig, axes = made
    for ax in axes[:, 0]:
        ax.set_ylabel("invariance index", fontsize=10)
    definition = INVARIANCE_INDEX.replace("; ", ";\n")
    fig.supxlabel(f"layer (input side left, output right)\n{definition}", fontsize=10)
    return fig


def _heat_cell(ax: Any, curves: list[dict[str, Any]], plt: Any) -> Any:
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
            (x0 - 0.5, y0 - 0.5), x1 - x0 + 1, y1 - y0 + 1, fill=False, edgecolor="red", lw=1.5
        )
    )
    ax.set_xticks([xs[0], xs[-1]])
    ax.set_yticks([ys[0], ys[-1]])
    return im


def _heatmaps(runs: list[dict[str, Any]], plt: Any) -> Any:
    groups = _grouped(runs, "heatmap")
    if not groups:
        return None
    models = list(dict.fromkeys(m for m, _ in groups))
    arms = list(dict.fromkeys(a for _, a in groups))
    fig, axes = plt.subplots(
        len(models),
        len(arms),
        figsize=(2.2 * len(arms) + 1.2, 2.2 * len(models) + 0.6),
        layout="constrained",
    )
    axes = np.asarray(axes).reshape(len(models), len(arms))
    im = None
    for i, model in enumerate(models):
        for j, arm in enumerate(arms):
            ax = axes[i][j]
            ax.tick_params(labelsize=9)
            if i == 0:
                ax.set_title(arm, fontsize=12)
            if j == 0:
                ax.set_ylabel(f"{model}\nobject y (px)", fontsize=11)
            curves = groups.get((model, arm))
            if curves:
                im = _heat_cell(ax, curves, plt)
                if i == len(models) - 1:
                    ax.set_xlabel("object x (px)", fontsize=10)
            else:  # a square frame like the maps', so titles line up; say why it is empty
                ax.set_box_aspect(1)
                ax.set_xticks([])
                ax.set_yticks([])
                for spine in ax.spines.values():
                    spine.set_visible(False)
                ax.text(0.5, 0.5, "not run", ha="center", va="center", color="0.6", fontsize=8)
    fig.colorbar(im, ax=axes, shrink=0.6, label="accuracy (%) with the object there")
    fig.legend(
        handles=[
            plt.Rectangle(
                (0, 0), 1, 1, fill=False, edgecolor="red", lw=1.5, label="training positions"
            )
        ],
        loc="lower center",
        bbox_to_anchor=(0.45, 1.0),
        frameon=False,
        fontsize=9,
    )
    return fig


def _mean_std(runs: list[dict[str, Any]], key: tuple[str, str], metric: str) -> tuple[float, float]:
    """Mean and standard deviation over seeds, in percent (NaN when no run has the metric)."""
    values = [
        100 * float(r["metrics"][metric])
        for r in runs
        if (r["model"], r["arm"]) == key and r["metrics"].get(metric) is not None
    ]
    if not values:
        return float("nan"), 0.0
    return float(np.mean(values)), float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


def _consistency(runs: list[dict[str, Any]], plt: Any) -> Any:
    keys = list(dict.fromkeys((r["model"], r["arm"]) for r in runs))
    if not keys:
        return None
    styles = _arm_styles(runs)
    fig, axes = plt.subplots(
        1, 2, figsize=(9, 0.28 * len(keys) + 1.4), sharey=True, layout="constrained"
    )
    for ax, metric, title in zip(
        axes,
        ("consistency_circular", "consistency_crop"),
        ("circular shifts", "crops of a larger scene"),
        strict=True,
    ):
        values, stds = zip(*(_mean_std(runs, k, metric) for k in keys), strict=True)
        colours = [styles[a]["color"] for _, a in keys]
        errors = [e if e else np.nan for e in stds]  # no cap drawn for a single seed
        bars = ax.barh(range(len(keys)), values, color=colours, xerr=errors, capsize=2)
        labels = [
            "–" if v != v else f"{v:.1f}" + (f" ± {e:.1f}" if e else "")
            for v, e in zip(values, stds, strict=True)
        ]
        ax.bar_label(bars, labels=labels, padding=2, fontsize=7)
        ax.set_yticks(range(len(keys)), [f"{m} / {a}" for m, a in keys], fontsize=8)
        ax.set_xlim(0, 120)  # room for the labels after a 100% bar
        ax.set_xticks(range(0, 101, 20))
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("consistency (%)", fontsize=9)
    axes[0].invert_yaxis()  # first run on top (the axes share y: invert once)
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
    }
    written = []
    for name, make in makers.items():
        fig = make(runs, plt)
        if fig is not None:
            _save(fig, folder / f"{name}.png")
            plt.close(fig)
            written.append(name)
    return written
