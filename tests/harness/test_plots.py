"""The plots explain themselves: read back from the figures drawn for the committed quick run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("matplotlib")

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from shiftaug.harness import plots

QUICK = Path(__file__).resolve().parents[2] / "docs" / "experiments" / "quick"


@pytest.fixture(scope="module")
def runs() -> list[dict[str, Any]]:
    return json.loads((QUICK / "results.json").read_text())["runs"]


def test_consistency_bars_start_at_zero_and_show_the_means(runs: list[dict[str, Any]]) -> None:
    fig = plots._consistency(runs, plt)
    keys = list(dict.fromkeys((r["model"], r["arm"]) for r in runs))
    for ax, metric in zip(fig.axes, ("consistency_circular", "consistency_crop"), strict=True):
        assert ax.get_xlim()[0] == 0
        widths = [bar.get_width() for bar in ax.patches]
        expected = [
            100 * np.mean([r["metrics"][metric] for r in runs if (r["model"], r["arm"]) == k])
            for k in keys
        ]
        np.testing.assert_allclose(widths, expected)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == [f"{m} / {a}" for m, a in keys]
    assert fig.axes[0].yaxis_inverted()  # first run on top (the axes share y: inverted once)
    plt.close(fig)


def test_heatmap_titles_line_up_and_the_red_box_is_explained(runs: list[dict[str, Any]]) -> None:
    fig = plots._heatmaps(runs, plt)
    fig.canvas.draw()
    arms = list(dict.fromkeys(r["arm"] for r in runs))
    top = [ax for ax in fig.axes if ax.get_title() in arms]
    assert [ax.get_title() for ax in top] == arms
    heights = {round(ax.title.get_window_extent().y0) for ax in top}
    assert len(heights) == 1, heights  # the "relocate" column used to sit higher
    texts = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    assert texts == ["training positions"]
    labelled = [ax for ax in fig.axes if ax.get_images()]
    assert any(ax.get_xlabel() == "object x (px)" for ax in labelled)
    assert any("object y (px)" in ax.get_ylabel() for ax in labelled)
    plt.close(fig)


def test_every_arm_has_its_own_marker_and_line_style(runs: list[dict[str, Any]]) -> None:
    fig = plots._displacement(runs, plt)
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        lines = ax.get_lines()
        styles = {(line.get_marker(), str(line.get_linestyle())) for line in lines}
        assert len(styles) == len(lines) >= 1
        # equal curves stay apart: every line's x positions differ from the others'
        xs = {tuple(np.round(line.get_xdata(), 3)) for line in lines}
        assert len(xs) == len(lines)
    plt.close(fig)


def test_layers_are_readable_and_define_the_index(runs: list[dict[str, Any]]) -> None:
    fig = plots._layers(runs, plt)
    sizes = [t.get_fontsize() for ax in fig.axes for t in ax.get_xticklabels()]
    assert sizes and min(sizes) >= 8
    assert plots.INVARIANCE_INDEX.split(";")[0] in fig.get_supxlabel()
    assert max(len([a for a in fig.axes if a.get_visible() and a.get_position().y0 == y])
               for y in {a.get_position().y0 for a in fig.axes}) <= 3  # fmt: skip
    plt.close(fig)


def test_report_captions_every_plot(tmp_path: Path) -> None:
    from shiftaug.harness.report import write_report

    (tmp_path / "results.json").write_bytes((QUICK / "results.json").read_bytes())
    lines = write_report(tmp_path).read_text().splitlines()
    images = [i for i, line in enumerate(lines) if line.startswith("![")]
    drawn = sorted((tmp_path / "plots").glob("*.png"))
    assert len(images) == len(drawn) >= 4  # every plot drawn is shown (and captioned below)
    for i in images:
        name = lines[i][2 : lines[i].index("]")]
        assert lines[i + 2] == f"*{plots.CAPTIONS[name]}*"
