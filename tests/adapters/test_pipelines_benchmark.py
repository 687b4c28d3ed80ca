"""``benchmarks/pipelines.py`` on tiny inputs: every method runs, tables and plot are written."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _load(name: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    return module


def test_every_method_runs_and_the_results_are_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    common = _load("common", monkeypatch)  # the script imports its sibling `common`
    bench = _load("pipelines", monkeypatch)
    images = np.random.default_rng(0).integers(0, 256, (6, 16, 16, 3), dtype=np.uint8)
    methods = bench.epoch_methods(images, batch_size=4, workers=0)
    assert all(epoch() == 6 for _, epoch in methods.values())  # every image comes through
    timed = common.measure_interleaved(
        {name: epoch for name, (_, epoch) in methods.items()}, suite="pipelines",
        case="epoch tiny", items=6, warmup=0, repeats=1, min_time_s=0.0,
    )  # fmt: skip
    per_image = bench.per_image_methods(16, bench.FIXED)
    outputs = {name: call()["image"] for name, call in per_image.items()}
    # The same whole-pixel shift: our pixels equal albumentations' Affine away from the border.
    theirs, ours = outputs["albumentations Affine"], outputs["shiftaug albumentations adapter"]
    assert np.array_equal(theirs[2:-2, 3:-3], ours[2:-2, 3:-3])
    timed_images = common.measure_interleaved(
        per_image, suite="pipelines", case="per image 16x16", warmup=0, repeats=1
    )
    measurements = [*timed.values(), *timed_images.values()]
    table = bench.markdown(measurements, {})
    assert "shiftaug albumentations adapter" in table and "| 16x16 |" in table
    bench.plot(measurements, tmp_path / "pipelines.png")
    assert (tmp_path / "pipelines.png").stat().st_size > 0
