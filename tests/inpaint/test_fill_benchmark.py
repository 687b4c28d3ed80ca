"""``benchmarks/_fill_quality.py`` on two images: every method and hole kind is measured."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"

pytest.importorskip("cv2")
pytest.importorskip("skimage")


def _load(name: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    return module


def test_tiny_run_measures_every_method_on_every_hole_kind(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _load("common", monkeypatch)  # the benchmark imports its sibling `common`
    bench = _load("_fill_quality", monkeypatch)
    methods = ["harmonic", "pull_push", "telea (OpenCV)", "constant (128)"]
    kinds = ["rect16", "horse48"]
    measurements, table, summary = bench.run_fill_quality(
        True, count=2, repeats=1, methods=methods, kinds=kinds
    )
    cases = {(m.case.split()[0], m.method) for m in measurements}
    assert cases == {(kind, method) for kind in kinds for method in methods}
    assert all(m.items == 2 and m.median_ms > 0 for m in measurements)
    psnr = summary["psnr_db"]
    for kind in kinds:
        # Any real fill beats painting the hole mid-grey.
        assert psnr["harmonic"][kind] > psnr["constant (128)"][kind]
    target = summary["target"]
    assert target["pass"] == (target["fast_psnr_db"] >= target["reference_psnr_db"])
    assert ("PASS" if target["pass"] else "FAIL") in table
    assert table.count("| harmonic |") == 3  # PSNR, SSIM and speed tables


def test_holes_are_the_same_for_every_call_and_inside_the_image(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _load("common", monkeypatch)
    bench = _load("_fill_quality", monkeypatch)
    for kind in ("rect40", "horse80"):
        shape, size = bench.HOLES[kind]
        holes = bench.hole_masks(shape, size, 3)
        assert holes.shape == (3, 1, 128, 128) and holes.any((1, 2, 3)).all()
        assert (holes == bench.hole_masks(shape, size, 3)).all()
