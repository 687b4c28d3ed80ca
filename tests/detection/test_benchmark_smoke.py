"""``benchmarks/copy_paste_coco.py --quick``: every method runs, agrees, and the files appear."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torchvision")
from tests.test_benchmarks_smoke import _load  # imports benchmarks/<name>.py


def test_quick_run_checks_agreement_and_writes_results(tmp_path, monkeypatch, capsys) -> None:
    _load("common", monkeypatch)  # the script imports its sibling `common`
    bench = _load("copy_paste_coco", monkeypatch)
    assert capsys.readouterr().out == ""  # importing runs nothing
    args = ["--quick", "--devices", "cpu", "--profile", "--out", str(tmp_path), "--no-plot"]
    assert bench.main(args) == 0
    result = json.loads((tmp_path / "copy_paste_coco.json").read_text())
    methods = {m["method"] for m in result["measurements"]}
    assert methods - {"shiftaug CopyPasteCollate(threads=None)"} == {
        "shiftaug CopyPasteCollate",
        "per-image torch (torchvision references)",
        "per-image NumPy",
    }
    (summary,) = result["summary"].values()
    assert summary["agreement"]["checked_samples"] == 4
    assert set(summary["stages"]) == set(bench.STAGES)
    assert all(m["median_ms"] > 0 for m in result["measurements"])
    assert "per-image time / ours" in (tmp_path / "copy_paste_coco.md").read_text()


def test_the_references_agree_with_the_collate_on_all_objects(monkeypatch) -> None:
    _load("common", monkeypatch)
    bench = _load("copy_paste_coco", monkeypatch)
    samples = bench.make_samples(5, 40, (1, 7), seed=3)
    assert bench.check_agreement(samples, "all")["checked_samples"] == 5
