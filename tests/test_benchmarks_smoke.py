"""``benchmarks/translate.py --quick`` on a tiny batch: every method runs and the files appear;
the translate, pipelines and placement figures are redrawn from their committed JSON."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
RESULTS = BENCHMARKS / "results"

pytest.importorskip("torchvision")
pytest.importorskip("albumentations")


def _load(name: str, monkeypatch: pytest.MonkeyPatch):
    """Import ``benchmarks/<name>.py`` as module ``name`` for the duration of one test."""
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    return module


def _load_translate(monkeypatch: pytest.MonkeyPatch):
    _load("common", monkeypatch)  # the script imports its sibling `common`
    return _load("translate", monkeypatch)


def test_quick_run_measures_every_method_and_writes_results(tmp_path, monkeypatch, capsys):
    bench = _load_translate(monkeypatch)
    assert capsys.readouterr().out == ""  # importing runs nothing
    code = bench.main(["--quick", "--shapes", "4x3x16x16", "--out", str(tmp_path), "--no-plot"])
    assert code == 0
    result = json.loads((tmp_path / "translate.json").read_text())
    measured = {(m["case"], m["method"]) for m in result["measurements"]}
    float_case, uint8_case = "4x3x16x16 float32", "4x3x16x16 uint8"
    assert {(float_case, m.key) for m in bench.METHODS} <= measured
    rejected = {key.split(" / ")[1] for key in result["summary"]["skipped"]}
    # Peers that refuse uint8 are reported as such, never silently converted.
    assert rejected == {"kornia_affine", "kornia_translate", "kornia_crop", "drq"}
    assert all((uint8_case, m.key) in measured for m in bench.METHODS if m.key not in rejected)
    assert all(m["median_ms"] > 0 for m in result["measurements"])
    table = (tmp_path / "translate.md").read_text()
    assert "*rejects uint8" in table and "shiftaug RandomTranslate, nearest" in table
    assert result["summary"]["targets"] == []  # targets are defined for the shapes only


def test_targets_compare_against_the_fastest_per_sample_peer(monkeypatch) -> None:
    bench = _load_translate(monkeypatch)
    common = sys.modules["common"]
    case = "256x3x32x32 float32"

    def timed(method: str, ms: float):
        return common.Measurement("translate", case, method, [ms])

    results = {(case, m): timed(m, ms) for m, ms in
               [("shiftaug_nearest", 1.0), ("kornia_affine", 4.0), ("drq", 2.5),
                ("tv_affine_batch", 0.5), ("shiftaug_bilinear", 1.5)]}  # fmt: skip
    verdicts = {v["target"]: v for v in bench.evaluate(bench.TARGETS, results)}
    nearest = verdicts["nearest f32 vs fastest per-sample peer"]
    # The one-shift-per-batch call is not a per-sample peer, so DrQ (2.5 ms) is the fastest.
    assert (nearest["peer"], nearest["ratio"], nearest["status"]) == ("drq", 2.5, "FAIL")
    bilinear = verdicts["bilinear f32 vs kornia RandomAffine"]
    assert bilinear["status"] == "PASS" and bilinear["ratio"] == pytest.approx(4.0 / 1.5)


# The figures are drawn from the committed results files (``--redraw``).


@pytest.mark.parametrize("name", ["placement", "pipelines", "translate"])
def test_read_results_gives_back_the_committed_measurements(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    common = _load("common", monkeypatch)
    measurements, payload = common.read_results(RESULTS / f"{name}.json")
    raw = json.loads((RESULTS / f"{name}.json").read_text())["measurements"]
    assert [m.method for m in measurements] == [m["method"] for m in raw]
    assert [m.median_ms for m in measurements] == pytest.approx([m["median_ms"] for m in raw])
    assert [m.items_per_s for m in measurements] == pytest.approx([m["items_per_s"] for m in raw])
    spreads = [value for m in measurements for value in m.spread_ms]
    assert spreads == pytest.approx([value for m in raw for value in m["spread_ms"]])
    assert payload["environment"]["torch"]


@pytest.mark.parametrize("name", ["pipelines", "translate"])
def test_redraw_draws_the_figure_from_the_json_alone(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _load("common", monkeypatch)
    bench = _load(name, monkeypatch)
    shutil.copy(RESULTS / f"{name}.json", tmp_path)
    assert bench.main(["--redraw", "--out", str(tmp_path)]) == 0
    assert (tmp_path / f"{name}.png").stat().st_size > 10_000
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{name}.json", f"{name}.png"]


def test_placement_redraw_writes_where_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _load("common", monkeypatch)
    bench = _load("placement", monkeypatch)
    assert bench.redraw("placement", tmp_path) == tmp_path / "placement.png"
    assert (tmp_path / "placement.png").stat().st_size > 10_000


def test_the_fill_figure_is_drawn_from_the_json_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    common = _load("common", monkeypatch)
    bench = _load("_fill_quality", monkeypatch)
    summary = common.read_results(RESULTS / "placement_fill.json")[1]["summary"]
    assert set(summary["psnr_db"]) == set(summary["images_per_s"])
    bench.plot(summary, tmp_path / "placement_fill.png")
    assert (tmp_path / "placement_fill.png").stat().st_size > 10_000
