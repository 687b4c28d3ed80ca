"""``shiftaug experiment`` and ``shiftaug report`` end to end: the smoke preset's claims,
determinism, resume after a kill, corrupt files, config mismatches, DDP with two processes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from shiftaug.cli import main
from shiftaug.harness.evaluate import METRIC_KEYS
from shiftaug.harness.store import FolderLock

TINY = """
name: tiny
runs: [{models: [cnn], arms: [translate]}]
seeds: [0]
data: {dataset: sklearn, canvas: 16, object_size: 8, jitter: 2, train_size: 256, test_size: 64}
train: {epochs: EPOCHS, batch_size: 32, threads: 1}
eval: {max_shift: 2, images: 32, grid_step: 2, grid_images: 8, layer_objects: 4, layer_positions: 4}
"""
TIMING = {"train_time_s", "eval_time_s", "aug_overhead"}


def _tiny(folder: Path, epochs: int) -> Path:
    path = folder / f"tiny{epochs}.yaml"
    path.write_text(TINY.replace("EPOCHS", str(epochs)))
    return path


def _results(out: Path) -> dict:
    return json.loads((out / "results.json").read_text())


def _metrics(out: Path) -> list[dict]:
    return [
        {k: v for k, v in r["metrics"].items() if k not in TIMING} for r in _results(out)["runs"]
    ]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("smoke") / "run"
    assert main(["experiment", "--preset", "smoke", "--out", str(out), "--no-progress"]) == 0
    return out


def test_smoke_writes_results_report_and_plots(smoke: Path) -> None:
    data = _results(smoke)
    assert data["complete"] and data["config"]["name"] == "smoke"
    assert [(r["model"], r["arm"], r["seed"]) for r in data["runs"]] == [
        ("cnn_flat", "none", 0),
        ("cnn_flat", "translate", 0),
        ("cnn_aps", "none", 0),
    ]
    for run in data["runs"]:
        assert set(METRIC_KEYS) | {
            "aug_overhead",
            "train_time_s",
            "consistency_circular_init",
        } <= set(run["metrics"])
        assert {"heatmap", "displacement", "layers"} <= set(run["curves"])
    assert (smoke / "config.yaml").exists()
    report = (smoke / "report.md").read_text()
    assert "Zhang 2019" in report and "| cnn_flat | translate |" in report
    assert "cnn_aps: circular consistency 100.0% trained; untrained, the logits change" in report
    assert "85.11" in report and "100.0% untrained" not in report
    assert {p.name for p in (smoke / "plots").iterdir()} == {
        "displacement.png",
        "heatmaps.png",
        "consistency.png",
        "layers.png",
        "placement.png",  # canvas runs measure realistic and frame shifts too
    }


def test_smoke_shows_the_claims(smoke: Path) -> None:
    runs = {(r["model"], r["arm"]): r["metrics"] for r in _results(smoke)["runs"]}
    aps = runs[("cnn_aps", "none")]
    # Non-vacuous: a real classifier (not one class for everything) that never changes its
    # prediction under circular shifts, and untrained logits that do not move under any roll.
    assert aps["accuracy"] >= 0.7 and aps["consistency_circular"] == 1.0
    assert aps["logit_change_init"] <= 1e-3 * aps["logit_spread_init"]
    assert runs[("cnn_flat", "none")]["position_gap"] >= 0.30
    assert abs(runs[("cnn_flat", "translate")]["position_gap"]) <= 0.05
    assert (
        runs[("cnn_flat", "translate")]["unseen_accuracy"]
        > runs[("cnn_flat", "none")]["unseen_accuracy"]
    )
    assert 0 < runs[("cnn_flat", "translate")]["aug_overhead"] < 0.5


def test_rerun_skips_finished_runs(smoke: Path) -> None:
    stamps = {p: p.stat().st_mtime_ns for p in smoke.glob("runs/*/*")}
    before = _results(smoke)["runs"]
    assert main(["experiment", "--preset", "smoke", "--out", str(smoke), "--no-progress"]) == 0
    assert {p: p.stat().st_mtime_ns for p in smoke.glob("runs/*/*")} == stamps
    assert _results(smoke)["runs"] == before


def test_report_is_rebuilt_without_training(
    smoke: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(smoke, copy, ignore=shutil.ignore_patterns("runs", "plots", "report.md"))
    assert main(["report", str(copy)]) == 0
    assert (copy / "report.md").read_text() == (smoke / "report.md").read_text()
    assert len(list((copy / "plots").glob("*.png"))) == 5
    # a truncated results file is one clear error, and the old report stays as it was
    text = (copy / "results.json").read_text()
    (copy / "results.json").write_text(text[: len(text) // 3])
    capsys.readouterr()
    assert main(["report", str(copy)]) == 2
    assert "results.json` must be the JSON the harness writes" in capsys.readouterr().err
    assert (copy / "report.md").read_text() == (smoke / "report.md").read_text()
    (copy / "results.json").write_text(json.dumps({"runs": [{"model": "cnn", "arm": "none"}]}))
    assert main(["report", str(copy)]) == 2
    assert "run 0 must have model, arm, seed and metrics" in capsys.readouterr().err


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """``(config, out)`` of one finished tiny run (4 epochs), shared by the tests below."""
    folder = tmp_path_factory.mktemp("tiny")
    config, out = _tiny(folder, epochs=4), folder / "ref"
    assert main(["experiment", "--config", str(config), "--out", str(out), "--no-progress"]) == 0
    return config, out


def test_same_seed_same_metrics(reference: tuple[Path, Path], tmp_path: Path) -> None:
    config, ref = reference
    assert (
        main(["experiment", "--config", str(config), "--out", str(tmp_path), "--no-progress"]) == 0
    )
    assert _metrics(tmp_path) == _metrics(ref)
    assert _results(tmp_path)["runs"][0]["curves"] == _results(ref)["runs"][0]["curves"]


def _command(config: Path, out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "shiftaug",
        "experiment",
        "--config",
        str(config),
        "--out",
        str(out),
        "--no-progress",
    ]


def test_kill_and_rerun_resumes_without_losing_or_repeating_runs(
    reference: tuple[Path, Path], tmp_path: Path
) -> None:
    config, ref = reference
    process = subprocess.Popen(
        _command(config, tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    run = tmp_path / "runs" / "cnn__translate__seed0"
    deadline = time.monotonic() + 120
    while (
        not (run / "checkpoint.pt").exists()
        and process.poll() is None
        and time.monotonic() < deadline
    ):
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert (run / "checkpoint.pt").exists() and not (run / "result.json").exists()
    assert (
        main(["experiment", "--config", str(config), "--out", str(tmp_path), "--no-progress"]) == 0
    )
    assert _metrics(tmp_path) == _metrics(ref)
    assert len(_results(tmp_path)["runs"]) == 1
    assert not list(tmp_path.rglob("*.tmp"))


def test_corrupt_checkpoint_is_retrained_and_lost_result_reevaluated(
    reference: tuple[Path, Path], tmp_path: Path
) -> None:
    config, ref = reference
    out = tmp_path / "out"
    shutil.copytree(ref, out)
    first = _results(ref)["runs"][0]
    expected = [{k: v for k, v in first["metrics"].items() if k not in TIMING}]
    run = out / "runs" / "cnn__translate__seed0"
    # the result file of a finished run is cut short: evaluated again from the final checkpoint
    (run / "result.json").write_text('{"metrics": {"accura')
    assert main(["experiment", "--config", str(config), "--out", str(out), "--no-progress"]) == 0
    assert _results(out)["runs"][0]["metrics"]["train_time_s"] == first["metrics"]["train_time_s"]
    assert _metrics(out) == expected
    # a garbled checkpoint without a result: retrained from scratch, same numbers
    (run / "result.json").unlink()
    (run / "checkpoint.pt").write_bytes(b"not a checkpoint")
    with pytest.warns(RuntimeWarning, match=r"checkpoint.pt is unreadable"):
        assert (
            main(["experiment", "--config", str(config), "--out", str(out), "--no-progress"]) == 0
        )
    assert _metrics(out) == expected


def test_config_errors_exit_2(
    reference: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, ref = reference
    out = tmp_path / "out"
    shutil.copytree(ref, out)
    code = main(
        ["experiment", "--config", str(config), "--out", str(out), "--set", "data.canvas=24"]
    )
    assert code == 2
    assert (
        "must hold runs of the same config, but it was made with different data settings"
        in capsys.readouterr().err
    )
    # another seed on the same folder is fine: only the new run is trained
    assert (
        main(
            [
                "experiment",
                "--config",
                str(config),
                "--out",
                str(out),
                "--seeds",
                "0,1",
                "--no-progress",
            ]
        )
        == 0
    )
    assert [r["seed"] for r in _results(out)["runs"]] == [0, 1]
    assert main(["experiment", "--preset", "smoke", "--set", "train.epochs=x"]) == 2
    assert "`train.epochs` must be of type int" in capsys.readouterr().err
    assert (
        main(
            [
                "experiment",
                "--config",
                str(config),
                "--out",
                str(tmp_path / "o2"),
                "--models",
                "mlp",
            ]
        )
        == 2
    )
    assert "`model` must be one of" in capsys.readouterr().err
    (out / "config.yaml").write_text("data: [\n")
    assert main(["experiment", "--config", str(config), "--out", str(out)]) == 2
    assert "config.yaml` must be a config the harness wrote" in capsys.readouterr().err


def test_print_config(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["experiment", "--preset", "quick", "--print-config", "--seeds", "3"]) == 0
    text = capsys.readouterr().out
    assert "name: quick" in text and "seeds:\n- 3" in text


def test_two_process_ddp_on_cpu(reference: tuple[Path, Path], tmp_path: Path) -> None:
    config, _ = reference
    out = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    command = launcher + _command(config, out)[1:]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    data = _results(out)
    assert data["environment"]["world_size"] == 2 and len(data["runs"]) == 1
    assert data["runs"][0]["steps"] == 4 * (256 // 32)  # every rank took every (shared) batch
    assert 0.1 < data["runs"][0]["metrics"]["accuracy"] <= 1
    assert result.stdout.count("results:") == 1  # only rank 0 reports
    assert not list(out.rglob("*.tmp"))


def test_imagefolder_experiment_without_positions(tmp_path: Path) -> None:
    from tests.harness.test_data import _write_folder

    _write_folder(tmp_path / "data", per_class=8)
    out = tmp_path / "out"
    args = ["experiment", "--out", str(out), "--no-progress", "--preset", "smoke",
            "--data-root", str(tmp_path / "data"), "--models", "cnn", "--arms", "crop,translate",
            "--set", "data.dataset=imagefolder", "--set", "data.canvas=16",
            "--set", "train.batch_size=8", "--set", "train.epochs=1"]  # fmt: skip
    assert main(args) == 0
    runs = _results(out)["runs"]
    assert [r["arm"] for r in runs] == ["crop", "translate"]
    for run in runs:
        m = run["metrics"]
        assert m["position_gap"] is None and m["seen_accuracy"] is None
        assert 0 <= m["accuracy"] <= 1 and 0 <= m["consistency_crop"] <= 1
        assert len(run["curves"]["displacement"]["accuracy"]) == 2 * 4 + 1
    assert "| cnn | crop |" in (out / "report.md").read_text()


def test_bad_values_and_names_fail_before_anything_is_written(
    reference: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, _ = reference
    out = tmp_path / "out"
    cases = [
        (["--set", "train.epochs=-1"], "`train.epochs` must be >= 1, but got -1"),
        (["--set", "train.batch_size=0"], "`train.batch_size` must be >= 1, but got 0"),
        (["--device", "foo"], "`train.device` must be auto, cpu, mps, cuda or cuda:<index>"),
        (["--models", "cnn,mlp"], "`model` must be one of"),
        (["--arms", "translate,flip"], "`arm` must be one of"),
        (["--models", "cnn,"], "`runs[0].models` must be a non-empty list of model names"),
    ]
    if not torch.cuda.is_available():
        cases.append((["--device", "cuda"], "`train.device` must be a device of this machine"))
    for extra, message in cases:
        args = ["experiment", "--config", str(config), "--out", str(out), *extra]
        assert main(args) == 2, extra
        assert message in capsys.readouterr().err
        assert not out.exists()


def test_a_folder_in_use_is_refused(
    reference: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, _ = reference
    with FolderLock(tmp_path):  # what a running experiment holds (tests/harness/test_store.py)
        assert main(["experiment", "--config", str(config), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "folder error: `--out`" in err and "must not be in use by another experiment" in err
    assert not (tmp_path / "results.json").exists()


def _unfinished_copy(ref: Path, out: Path) -> Path:
    """A copy of ``ref`` whose run lost its result: the rerun resumes from the checkpoint."""
    shutil.copytree(ref, out)
    run = out / "runs" / "cnn__translate__seed0"
    (run / "result.json").unlink()
    return run / "checkpoint.pt"


def test_resume_needs_the_threads_it_started_with(
    reference: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, ref = reference
    path = _unfinished_copy(ref, tmp_path / "out")
    checkpoint = torch.load(path, weights_only=True)
    assert (checkpoint["threads"], checkpoint["device"], checkpoint["world"]) == (1, "cpu", 1)
    checkpoint["threads"] = 3  # as if it had started on a machine with more free cores
    torch.save(checkpoint, path)
    args = ["experiment", "--config", str(config), "--out", str(tmp_path / "out")]
    assert main([*args, "--set", "train.threads=2", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "resume error: a resumed run must continue with the threads" in err
    assert "3 / cpu / 1, but this one has 2 / cpu / 1" in err
    # auto threads take the recorded count
    assert main([*args, "--set", "train.threads=0", "--no-progress"]) == 0
    assert _results(tmp_path / "out")["runs"][0]["threads"] == 3
    assert _metrics(tmp_path / "out") == _metrics(ref)


def test_a_checkpoint_that_does_not_fit_the_model_is_retrained(
    reference: tuple[Path, Path], tmp_path: Path
) -> None:
    config, ref = reference
    path = _unfinished_copy(ref, tmp_path / "out")
    checkpoint = torch.load(path, weights_only=True)
    name = next(iter(checkpoint["model"]))
    checkpoint["model"][name] = torch.zeros(3)  # unpickles fine, fits no layer
    torch.save(checkpoint, path)
    with pytest.warns(RuntimeWarning, match=rf"does not fit the model \({name} has shape"):
        assert (
            main(["experiment", "--config", str(config), "--out", str(tmp_path / "out"),
                  "--no-progress"]) == 0
        )  # fmt: skip
    assert _metrics(tmp_path / "out") == _metrics(ref)  # retrained from the same start


def test_report_takes_a_folder_either_way_and_names_a_bad_one(
    smoke: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(smoke, copy, ignore=shutil.ignore_patterns("runs"))
    stale = copy / "plots" / ".heatmaps.png.999999999.abcd1234.tmp"  # a killed report's
    stale.write_bytes(b"half a png")
    assert main(["report", "--out", str(copy)]) == 0
    assert not stale.exists()
    assert main(["report", str(copy / "results.json")]) == 0  # the file itself: its folder
    capsys.readouterr()
    assert main(["report", str(copy / "report.md")]) == 2
    assert "`OUT` must be an experiment's output folder" in capsys.readouterr().err
    assert main(["report", str(copy), "--out", str(tmp_path)]) == 2
    assert "`OUT` and `--out` must name one folder" in capsys.readouterr().err
    assert main(["report"]) == 2
    assert "none was given" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "missing")]) == 2
    assert "results.json` must exist" in capsys.readouterr().err


def test_ddp_ranks_all_stop_on_a_folder_in_use(
    reference: tuple[Path, Path], tmp_path: Path
) -> None:
    # rank 0 finds the lock taken; without passing that on, rank 1 waited at a barrier for the
    # process group's 2-hour timeout
    config, _ = reference
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    with FolderLock(tmp_path):
        result = subprocess.run(
            launcher + _command(config, tmp_path)[1:],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
        )
    assert result.returncode != 0
    assert result.stderr.count("folder error: `--out`") == 2  # both ranks say why
