"""The copy-paste speed numbers the docs quote are those of the committed benchmark results."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results"
TORCH = "per-image torch (torchvision references)"
NUMPY = "per-image NumPy"
OURS = "shiftaug CopyPasteCollate"


def _page(name: str) -> str:
    return " ".join((ROOT / "docs" / name).read_text().split())  # line breaks as spaces


def _summary(name: str) -> dict[str, dict]:
    return json.loads((RESULTS / f"{name}.json").read_text())["summary"]


def _span(values: list[float], digits: int = 1) -> str:
    low, high = min(values), max(values)
    return f"{low:.{digits}f}-{high:.{digits}f}x"


def test_the_benchmarks_page_table_is_the_committed_one() -> None:
    measured = (RESULTS / "copy_paste_coco_threads1.md").read_text()
    table = measured[: measured.index("\n- cpu")]
    assert table.strip() in (ROOT / "docs" / "benchmarks.md").read_text()


def test_the_quoted_ratios_are_the_measured_ones() -> None:
    summary = _summary("copy_paste_coco_threads1")
    big = [summary[f"cpu {n}x3x1024x1024"] for n in (8, 16)]
    page = _page("benchmarks.md")
    torch_wall = [case["ratios"][TORCH] for case in big]
    assert all(case["pass"] for case in big)
    assert f"{torch_wall[0]:.1f}x (batch 8) and {torch_wall[1]:.1f}x (batch 16)" in page
    cpu = [case["cpu_ms"][TORCH] / case["cpu_ms"][OURS] for case in big]
    assert f"{cpu[0]:.1f}x and {cpu[1]:.1f}x in CPU time" in page
    small = [summary[f"cpu {n}x3x640x640"]["ratios"][TORCH] for n in (8, 16)]
    assert f"{_span(small)} at 640x640" in page
    numpy_wall = [case["ratios"][NUMPY] for case in summary.values()]
    numpy_cpu = [case["cpu_ms"][NUMPY] / case["cpu_ms"][OURS] for case in summary.values()]
    assert f"{_span(numpy_wall)} in wall clock, {_span(numpy_cpu)} in CPU time" in page
    threads = [
        case["ratios"][f"{OURS}(threads=None)"] for case in _summary("copy_paste_coco").values()
    ]
    assert f"{_span(threads)} slower" in page
    detection = _page("detection.md")
    assert f"runs {_span(torch_wall)} faster" in detection
    assert f"({_span(small)} at 640x640), and {_span(numpy_wall)} faster" in detection
