"""The numbers the placement and inpainting pages quote are those of the committed results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results"


def _page(name: str) -> str:
    return " ".join((ROOT / "docs" / name).read_text().split())  # line breaks as spaces


def test_the_harmonic_accuracy_table_is_the_measured_one() -> None:
    configs = json.loads((RESULTS / "harmonic_accuracy.json").read_text())["configs"]
    page = _page("inpainting.md")
    for name, row in configs.items():
        cycles, sweeps = (part.split("=")[1].split(" ")[0] for part in name.split(", "))
        cells = (
            f"| {cycles}, {sweeps}{' (default)' if 'default' in name else ''} | "
            f"{row['mean_error']:.3f} | {row['worst_hole_mean_error']:.3f} | "
            f"{row['max_error']:.2f} | {row['max_residual']:.3f} | "
            f"{row['psnr_gap_db_mean']:+.3f} ({row['psnr_gap_db_min']:+.2f} to "
            f"{row['psnr_gap_db_max']:+.2f}) |"
        )
        assert cells in page, cells


@pytest.mark.parametrize(
    ("page", "path", "fmt"),
    [
        ("placement.md", ("removal", "otsu", "1", "footprint_error"), "{:.2f}"),
        ("placement.md", ("removal", "polygon", "1", "footprint_error"), "{:.2f}"),
        ("placement.md", ("coins_photo", "0"), "+{:.1f}"),
        ("placement.md", ("coins_photo", "1"), "+{:.1f}"),
        ("placement.md", ("pasting", "hard", "edge_error"), "{:.2f}"),
        ("placement.md", ("pasting", "antialias (halo k/18)", "edge_error"), "{:.2f}"),
        ("placement.md", ("pasting", "inward fade (candidate)", "edge_error"), "{:.2f}"),
        (
            "placement.md",
            ("pasting", "poisson (decay=None, classic)", "inside_colour_shift"),
            "{:.2f}",
        ),
        ("placement.md", ("pasting", "poisson (decay=2)", "inside_colour_shift"), "{:.2f}"),
    ],
)
def test_the_artefact_numbers_are_the_measured_ones(
    page: str, path: tuple[str, ...], fmt: str
) -> None:
    value = json.loads((RESULTS / "placement_artefacts.json").read_text())
    for key in path:
        value = value[key]
    assert fmt.format(value) in _page(page)


def test_the_window_and_opencv_float_numbers_are_the_measured_ones() -> None:
    results = json.loads((RESULTS / "harmonic_accuracy.json").read_text())
    default = results["window"]["default"]
    means = [row[0] for row in default.values()]
    page = _page("placement.md")
    assert f"by {min(means):.2f} to {max(means):.2f} grey levels" in page
    assert f"({max(row[1] for row in default.values()):.0f} at worst)" in page
    telea = results["opencv_float"]["telea"]
    text = _page("inpainting.md")
    low, high = min(r[0] for r in telea.values()), max(r[0] for r in telea.values())
    assert f"{low:.1f}-{high:.1f} grey levels on average per hole kind for Telea" in text


def test_the_cost_of_the_defaults_is_the_measured_one() -> None:
    medians = json.loads((RESULTS / "placement_defaults.json").read_text())["median_cpu_ms"]
    page = _page("placement.md")
    for call in ("RandomRelocate pull_push window", "CopyPaste"):
        ratio = medians[f"{call}, defaults"] / medians[f"{call}, exact"]
        assert f"{ratio:.2f}x" in page
