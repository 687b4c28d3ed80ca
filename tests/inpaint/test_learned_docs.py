"""The generative-placement guide's Python examples run as written; the benchmark's smoke run."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def test_guide_examples_run() -> None:
    blocks = BLOCK.findall((ROOT / "docs" / "generative.md").read_text())
    assert len(blocks) >= 3
    namespace: dict[str, object] = {}
    for block in blocks:  # the blocks build on each other, like a reader's session
        exec(compile(block, "docs/generative.md", "exec"), namespace)
    assert namespace["images"].shape == (16, 3, 64, 64)  # type: ignore[attr-defined]


def _load(name: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    return module


def test_benchmark_smoke_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    _load("common", monkeypatch)
    bench = _load("learned_inpainter", monkeypatch)
    assert bench.main(["--quick", "--sizes", "32", "--out", str(tmp_path)]) == 0
    summary = json.loads((tmp_path / "learned_inpainter.json").read_text())["summary"]
    methods = set(bench.METHODS)
    assert set(summary["means"]["32"]) == methods
    for kind in ("strokes", "boxes", "objects"):
        for name in methods:
            cell = summary["per_kind"]["32"][kind][name]
            assert 0 <= cell["detect"][0] <= 1 and cell["images_per_s"] > 0
    assert summary["train_step_s"]["cpu 32"] > 0
    assert (tmp_path / "learned_inpainter.png").is_file()
