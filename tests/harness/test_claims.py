"""The claims suite: statistics, every verdict rule on synthetic results, suite loading, and a
tiny suite end to end through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shiftaug.cli import main
from shiftaug.harness.claims.stats import Stat, diff, spearman, stat
from shiftaug.harness.claims.suite import load_suite
from shiftaug.harness.claims.verdicts import ACC_FLOOR
from shiftaug.harness.claims.verdicts_more import claim_rows, placement


def _runs(part: dict[tuple[str, str], dict[str, list[float]]]) -> list[dict]:
    """Runs with per-seed metric values: {(model, arm): {metric: [seed0, seed1, seed2]}}."""
    out = []
    for (model, arm), metrics in part.items():
        n = len(next(iter(metrics.values())))
        for s in range(n):
            values = {k: v[s] for k, v in metrics.items()}
            values.setdefault("accuracy", 0.95)
            out.append({"model": model, "arm": arm, "seed": s, "metrics": values})
    return out


def _rows(parts: dict[str, list[dict]]) -> dict[str, dict[str, str]]:
    return {row["key"]: row for row in claim_rows(parts)}


def test_stats_against_hand_computations() -> None:
    s = stat([0.1, 0.3, None, float("nan")])
    assert s == Stat(pytest.approx(0.2), pytest.approx(0.1414213562), 2)
    assert stat([None]) is None
    d = diff(Stat(0.5, 0.1, 4), Stat(0.4, 0.1, 4), 0.05)
    assert d.se == pytest.approx((0.01 / 4 * 2) ** 0.5) and not d.real  # 0.1 < 2 SE = 0.141
    assert diff(Stat(0.5, 0.0, 3), Stat(0.4, 0.0, 3), 0.05).real
    assert not diff(Stat(0.5, 0.0, 3), Stat(0.48, 0.0, 3), 0.05).real  # below min effect
    assert spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]) == pytest.approx(0.8)
    assert spearman([1, 1, 1], [1, 2, 3]) == 0.0


def test_pooling_verdicts_supported_nuanced_refuted_and_gated() -> None:
    def part(blur: float, avg: float, acc: float = 0.95) -> list[dict]:
        flips = {"cnn": 0.10, "cnn_avg": avg, "cnn_blur": blur, "cnn_blur5": blur, "cnn_aps": blur}
        return _runs(
            {
                (m, "none"): {
                    "flip_rate_1px": [f, f + 0.005, f - 0.005],
                    "consistency_crop": [0.9] * 3,
                    "accuracy": [acc] * 3,
                }
                for m, f in flips.items()
            }
        )

    assert _rows({"conv": part(0.02, 0.03)})["pooling"]["verdict"] == "supported"
    assert _rows({"conv": part(0.02, 0.10)})["pooling"]["verdict"] == "nuanced"
    assert _rows({"conv": part(0.10, 0.10)})["pooling"]["verdict"] == "refuted"
    gated = _rows({"conv": part(0.02, 0.03, acc=ACC_FLOOR - 0.1)})["pooling"]
    assert gated["verdict"] == "inconclusive" and "accuracy floor" in gated["why"]


def test_conv_claim_needs_shared_weights_and_reports_the_head() -> None:
    def part(lcn_err: float, flat_gap: float) -> list[dict]:
        cells = {
            ("cnn", "none"): (0.05, 0.01),
            ("cnn_flat", "none"): (0.05, flat_gap),
            ("lcn", "none"): (lcn_err, 0.3),
        }
        return _runs(
            {
                c: {"equivariance_error_maps": [e] * 3, "position_gap": [g] * 3}
                for c, (e, g) in cells.items()
            }
        )

    assert _rows({"conv": part(0.8, 0.6)})["conv"]["verdict"] == "nuanced"
    assert _rows({"conv": part(0.8, 0.01)})["conv"]["verdict"] == "supported"
    assert _rows({"conv": part(0.06, 0.6)})["conv"]["verdict"] == "refuted"


def test_gated_rows_still_show_what_was_measured() -> None:
    cells = {
        ("cnn", "none"): [0.95, 0.96, 0.94],
        ("gcnn_p4", "none"): [ACC_FLOOR - 0.2] * 3,
        ("cnn", "rotate"): [0.9, 0.9, 0.9],
    }
    part = _runs(
        {
            c: {"accuracy": acc, "rotation_consistency": [0.625] * 3, "consistency_crop": [0.9] * 3}
            for c, acc in cells.items()
        }
    )
    rows = _rows({"rotation": part})
    for key in ("rotation", "gcnn"):
        row = rows[key]
        assert row["verdict"] == "inconclusive" and "gcnn_p4/none (50.0 ± 0.0)" in row["why"]
        assert "62.5 ± 0.0" in row["ours"] and "not counted" in row["ours"], row


def test_gcnn_sentence_names_what_failed() -> None:
    def cell(r90: float, rot: float, shift: float) -> dict[str, list[float]]:
        return {
            "rotation_consistency_90": [r90] * 3,
            "rotation_consistency": [rot, rot + 0.01, rot - 0.01],
            "consistency_crop": [shift, shift + 0.01, shift - 0.01],
        }

    part = _runs(
        {("gcnn_p4", "none"): cell(1.0, 0.56, 0.78), ("cnn", "none"): cell(0.2, 0.29, 0.9)}
    )
    row = _rows({"rotation": part})["gcnn"]
    assert row["verdict"] == "nuanced", row
    assert "more consistent than the CNN at every 15° (+27.0 pts" in row["why"]
    assert "less consistent under shifts (-12.0 pts" in row["why"]


def test_region_rule_is_a_rank_correlation() -> None:
    parts = {}
    for size, flat in (("0.1", 0.3), ("0.5", 0.6), ("0.9", 0.9)):
        parts[f"region_{size}"] = _runs(
            {
                ("cnn", "none"): {
                    "consistency_crop": [0.95] * 3,
                    "unseen_accuracy": [0.93, 0.94, 0.95],
                },
                ("cnn_flat", "none"): {
                    "consistency_crop": [flat] * 3,
                    "unseen_accuracy": [flat - 0.05] * 3,
                },
            }
        )
    assert _rows(parts)["region"]["verdict"] == "supported"


def test_placement_row_reads_committed_results_or_is_pending(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shiftaug.harness.claims import verdicts_more
    from shiftaug.harness.claims.verdicts import Results

    monkeypatch.setattr(verdicts_more, "PLACEMENT_RESULTS", tmp_path / "missing.json")
    assert placement(Results({}))["verdict"] == "pending"
    path = tmp_path / "results.json"
    runs = _runs(
        {
            ("cnn", "translate"): {"realistic_shift_accuracy": [0.6, 0.62, 0.61]},
            ("cnn", "relocate_harmonic"): {"realistic_shift_accuracy": [0.8, 0.81, 0.79]},
        }
    )
    path.write_text(json.dumps({"runs": runs}))
    monkeypatch.setattr(verdicts_more, "PLACEMENT_RESULTS", path)
    row = placement(Results({}))
    assert row["verdict"] == "supported" and "relocate_harmonic" in row["why"]
    # Two seeds, or an arm below the accuracy floor: the difference does not count.
    for cells in (
        {
            ("cnn", "translate"): {"realistic_shift_accuracy": [0.6, 0.62]},
            ("cnn", "relocate_harmonic"): {"realistic_shift_accuracy": [0.8, 0.81]},
        },
        {
            ("cnn", "translate"): {"realistic_shift_accuracy": [0.6, 0.62, 0.61]},
            ("cnn", "relocate_harmonic"): {
                "realistic_shift_accuracy": [0.8, 0.81, 0.79],
                "accuracy": [ACC_FLOOR - 0.1] * 3,
            },
        },
    ):
        path.write_text(json.dumps({"runs": _runs(cells)}))
        row = placement(Results({}))
        assert row["verdict"] == "inconclusive" and "not counted" in row["ours"], row
    # Reflect padding as good as relocation: nuanced; relocation no better than translate: refuted.
    base = {
        ("cnn", "translate"): {"realistic_shift_accuracy": [0.6, 0.62, 0.61]},
        ("cnn", "translate_reflect"): {"realistic_shift_accuracy": [0.8, 0.8, 0.8]},
    }
    for relocated, verdict in (([0.8, 0.81, 0.79], "nuanced"), ([0.6, 0.61, 0.62], "refuted")):
        cells = {**base, ("cnn", "copypaste"): {"realistic_shift_accuracy": relocated}}
        path.write_text(json.dumps({"runs": _runs(cells)}))
        row = placement(Results({}))
        assert row["verdict"] == verdict and "translate_reflect 80.0 ± 0.0" in row["ours"], row
        assert ("cnn/copypaste (beats translate)" in row["why"]) == (verdict == "nuanced")


def test_placement_results_path_is_the_repositorys() -> None:
    from shiftaug.harness.claims import verdicts_more

    root = Path(__file__).resolve().parents[2]
    assert root / "docs/experiments/placement/results.json" == verdicts_more.PLACEMENT_RESULTS


def test_suite_loading_and_errors(tmp_path: Path) -> None:
    name, parts = load_suite("claims", overrides=["train.epochs=1"])
    assert name == "claims" and {"conv", "vit", "probe"} <= set(parts)
    assert all(cfg.train.epochs == 1 for cfg in parts.values())
    assert parts["probe"].data.dataset == "probe" and parts["conv"].data.dataset == "mnist"
    bad = tmp_path / "bad.yaml"
    bad.write_text("parts: {a: {}}\nextra: 1\n")
    with pytest.raises(ValueError, match=r"`suite` keys must be name, defaults and parts"):
        load_suite(None, bad)
    bad.write_text("parts: {}\n")
    with pytest.raises(ValueError, match=r"`parts` must name at least one experiment"):
        load_suite(None, bad)
    bad.write_text("parts: {a: {train: {epochz: 1}}}\n")
    with pytest.raises(
        ValueError, match=r"part 'a': `train.epochz` must be one of the config keys"
    ):
        load_suite(None, bad)


TINY_SUITE = """
name: tinyclaims
defaults:
  seeds: [0, 1]
  data: {dataset: sklearn, canvas: 16, object_size: 8, jitter: 1, train_size: 128, test_size: 32}
  train: {epochs: 1, batch_size: 32, threads: 1}
  eval: {max_shift: 4, images: 16, grid_images: 2, layer_objects: 2, layer_positions: 2, logit_images: 1}
parts:
  conv:
    runs: [{models: [cnn, cnn_blur, lcn], arms: [none]}]
    eval: {extras: [equivariance]}
  rotation:
    runs: [{models: [cnn, gcnn_p4], arms: [none]}]
    eval: {extras: [rotation]}
"""


def test_tiny_suite_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "suite.yaml"
    config.write_text(TINY_SUITE)
    out = tmp_path / "out"
    args = ["experiment", "--config", str(config), "--out", str(out), "--no-progress"]
    assert main([*args, "--jobs", "2"]) == 0  # the parts in two worker processes
    printed = capsys.readouterr().out
    assert "claims:" in printed and "== part rotation finished" in printed
    summary = json.loads((out / "results.json").read_text())
    assert summary["schema"] == "shiftaug.claims/1" and set(summary["parts"]) == {
        "conv",
        "rotation",
    }
    assert len(summary["parts"]["conv"]["runs"]) == 6
    assert summary["timing"]["cpu_s"] > 0 and "load_before" in summary["timing"]
    rows = {r["key"]: r for r in summary["claims"]}
    # Row 10 reads the repository's committed placement results, as the committed claims did.
    committed = json.loads(
        (Path(__file__).parents[2] / "docs/experiments/claims/results.json").read_text()
    )
    placement_row = next(r for r in committed["claims"] if r["key"] == "placement")
    assert len(rows) == 13 and rows["placement"]["verdict"] == placement_row["verdict"]
    assert all(
        r["verdict"] in ("supported", "refuted", "nuanced", "inconclusive", "pending")
        for r in rows.values()
    )
    text = (out / "claims.md").read_text()
    assert "| 1 | Convolution" in text and "accuracy floor" in text.lower()
    assert (out / "plots" / "claims_layers.png").exists()
    assert (out / "conv" / "report.md").exists()  # every part is a normal experiment
    assert summary["timing"]["jobs"] == 2 and set(summary["timing"]["parts"]) == {
        "conv",
        "rotation",
    }
    assert main(["experiment", "--config", str(config), "--models", "cnn", "--out", str(out)]) == 2
    assert "must not be given for the suite" in capsys.readouterr().err
    # One process, one part after the other: the same numbers, run for run.
    serial = tmp_path / "serial"
    assert main([*args[:3], "--out", str(serial), "--no-progress", "--jobs", "1"]) == 0
    for part in ("conv", "rotation"):
        assert _measured(out / part) == _measured(serial / part)


def _measured(folder: Path) -> list[dict]:
    """Each run's metrics but the timings (wall-clock seconds and the augmentation's share)."""
    runs = json.loads((folder / "results.json").read_text())["runs"]
    skip = ("train_time_s", "eval_time_s", "aug_overhead")
    return [{k: v for k, v in r["metrics"].items() if k not in skip} for r in runs]


def test_jobs_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "suite.yaml"
    config.write_text(TINY_SUITE)
    assert main(["experiment", "--config", str(config), "--out", str(tmp_path), "--jobs", "0"]) == 2
    assert "`jobs` must be an int >= 1, but got 0." in capsys.readouterr().err
    assert main(["experiment", "--preset", "smoke", "--out", str(tmp_path), "--jobs", "2"]) == 2
    assert "`--jobs` must only be given for a suite" in capsys.readouterr().err
    assert not list(tmp_path.glob("*/results.json"))  # refused before anything ran


def test_new_config_keys_are_checked() -> None:
    from shiftaug.harness.config import load_config

    with pytest.raises(ValueError, match=r"`eval.extras` must be a list of equivariance"):
        load_config("smoke", overrides=["eval.extras=[nope]"])
    with pytest.raises(ValueError, match=r"`eval.logit_images` must be >= 1, but got 0"):
        load_config("smoke", overrides=["eval.logit_images=0"])
    with pytest.raises(ValueError, match=r"`arms.rotate_degrees` must be"):
        load_config("smoke", overrides=["arms.rotate_degrees=-5"])


def test_summary_of_an_unfinished_suite_says_so(tmp_path: Path) -> None:
    from shiftaug.harness.claims.report import write_claims

    (tmp_path / "conv").mkdir()
    runs = _runs({("cnn", "none"): {"flip_rate_1px": [0.1, 0.1, 0.1]}})
    (tmp_path / "conv" / "results.json").write_text(json.dumps({"runs": runs, "complete": True}))
    path = write_claims(tmp_path, "part", ["conv", "rotation"], timing=None)
    text = path.read_text()
    assert "**Incomplete**: parts `rotation` have not finished" in text
    summary = json.loads((tmp_path / "results.json").read_text())
    assert summary["complete"] is False and summary["parts"]["rotation"]["runs"] == []
    rows = {r["key"]: r for r in summary["claims"]}
    assert rows["rotation"]["verdict"] == "inconclusive" and "missing" in rows["rotation"]["why"]


@pytest.mark.parametrize(
    ("aps_flips", "verdict", "text"),
    [
        ([0.062, 0.044, 0.080], "nuanced", "change 6.2 ± 1.8% of its predictions (+6.2 pts"),
        ([0.0, 0.01, 0.0], "supported", "within noise of zero (+0.3 pts"),
    ],
)
def test_aps_realistic_rule_compares_aps_flips_with_zero_whatever_the_cnn(
    aps_flips: list[float], verdict: str, text: str
) -> None:
    aps = {
        "logit_change_init": [1e-8] * 3,
        "logit_spread_init": [0.07] * 3,
        "consistency_circular": [1.0] * 3,
        "flip_rate_1px": aps_flips,
    }
    weak_cnn = {"accuracy": [ACC_FLOOR - 0.1] * 3, "flip_rate_1px": [0.21, 0.15, 0.27]}
    row = _rows({"texture": _runs({("cnn_aps", "none"): aps, ("cnn", "none"): weak_cnn})})
    row = row["aps_realistic"]
    assert row["verdict"] == verdict and text in row["why"], row
    assert "Shifman" not in row["why"] and "not counted" in row["ours"]
    broken = _runs({("cnn_aps", "none"): {**aps, "consistency_circular": [0.99] * 3}})
    assert _rows({"texture": broken})["aps_realistic"]["verdict"] == "refuted"
