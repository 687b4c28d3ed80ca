"""``shiftaug evaluate`` / ``evaluate_model`` offline, on a model the test trains and saves:
the metrics equal a direct evaluation, every data source works, errors are clear."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

from shiftaug.cli import main
from shiftaug.harness import evaluate_model
from shiftaug.harness.arms import make_arm
from shiftaug.harness.config import ArmConfig, DataConfig, EvalConfig, TrainConfig
from shiftaug.harness.data import make_task
from shiftaug.harness.evaluate import evaluate
from shiftaug.harness.models import build_model
from shiftaug.harness.train import train

EVAL = [
    "--set",
    "max_shift=2",
    "--set",
    "images=16",
    "--set",
    "grid_images=2",
    "--set",
    "layer_objects=2",
    "--set",
    "layer_positions=2",
    "--set",
    "logit_images=1",
]
CFG = EvalConfig(
    max_shift=2, images=16, grid_images=2, layer_objects=2, layer_positions=2, logit_images=1
)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small CNN trained for one epoch on sklearn digits and saved as a state dict."""
    torch.manual_seed(0)
    task = make_task(
        DataConfig("sklearn", canvas=16, object_size=8, train_size=256, test_size=32), margin=2
    )
    model = build_model("cnn", in_channels=1, num_classes=10, image_size=(16, 16))
    arm = make_arm("translate", ArmConfig(), task, generator=torch.Generator())
    train(
        model,
        task,
        arm,
        TrainConfig(epochs=1, batch_size=32),
        seed=0,
        device=torch.device("cpu"),
        generator=torch.Generator(),
        progress=False,
    )
    path = tmp_path_factory.mktemp("model") / "cnn.pt"
    torch.save(model.state_dict(), path)
    return path


def test_cli_on_canvas_data_equals_a_direct_evaluation(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "card"
    args = [
        "evaluate",
        "--model",
        "cnn",
        "--checkpoint",
        str(trained),
        "--data",
        "sklearn",
        "--image-size",
        "16",
        "--out",
        str(out),
        "--no-progress",
        *EVAL,
    ]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "crop consistency" in printed and "report:" in printed
    data = json.loads((out / "results.json").read_text())
    metrics = data["runs"][0]["metrics"]
    # The same model and data, evaluated directly.
    model = build_model("cnn", in_channels=1, num_classes=10, image_size=(16, 16))
    model.load_state_dict(torch.load(trained, weights_only=True))
    task = make_task(
        DataConfig("sklearn", canvas=16, object_size=5, train_size=1, test_size=16), margin=2
    )
    direct, _ = evaluate(model, task, CFG, seed=0)
    for key in (
        "accuracy",
        "consistency_crop",
        "flip_rate_1px",
        "grid_accuracy",
        "small_shift_accuracy",
    ):
        assert metrics[key] == pytest.approx(direct[key]), key
    assert metrics["logit_change_init"] >= 0 and "heatmap" in data["runs"][0]["curves"]
    assert (out / "report.md").exists() and (out / "plots" / "heatmaps.png").exists()


def test_factory_models_and_imagefolder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import Image

    for split_class in ("a", "b"):
        folder = tmp_path / "photos" / "test" / split_class
        folder.mkdir(parents=True)
        for i in range(3):
            pixels = (torch.rand(20, 20, 3) * 255).to(torch.uint8).numpy()
            Image.fromarray(pixels).save(folder / f"{i}.png")
    (tmp_path / "mynets.py").write_text(
        "import torch\n"
        "def make(num_classes=2):\n"
        "    torch.manual_seed(0)\n"
        "    return torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1),\n"
        "        torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(4, num_classes))\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    record = evaluate_model(
        "mynets:make",
        model_args={"num_classes": 2},
        data="imagefolder",
        data_root=tmp_path / "photos",
        image_size=12,
        eval_config=CFG,
        out=tmp_path / "card",
        progress=False,
    )
    metrics = record["metrics"]
    assert metrics["position_gap"] is None and 0 <= metrics["consistency_crop"] <= 1
    assert record["curves"]["shift"]["shift"] == [-2, -1, 0, 1, 2]
    assert (tmp_path / "card" / "report.md").exists()
    sys.modules.pop("mynets", None)


def test_errors_are_clear(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["evaluate", "--out", str(tmp_path / "x"), "--no-progress", *EVAL]
    assert main([*base, "--model", "cnn", "--checkpoint", str(tmp_path / "none.pt")]) == 2
    assert "`checkpoint` must be an existing file" in capsys.readouterr().err
    assert (
        main(
            [
                *base,
                "--model",
                "cnn_flat",
                "--checkpoint",
                str(trained),
                "--data",
                "sklearn",
                "--image-size",
                "16",
            ]
        )
        == 2
    )
    assert "must fit the model" in capsys.readouterr().err
    assert main([*base, "--model", "cnn", "--data", "imagefolder"]) == 2
    assert "`data_root` must be given" in capsys.readouterr().err
    assert (
        main(
            [*base, "--model", "cnn", "--data", "imagefolder", "--data-root", str(tmp_path / "no")]
        )
        == 2
    )
    assert "`data_root` must be an existing folder" in capsys.readouterr().err
    assert main([*base, "--model", "cnn", "--data", "svhn"]) == 2
    assert "`data` must be one of" in capsys.readouterr().err
    assert main([*base, "--model", "cnn", "--model-args", "[1]"]) == 2
    assert "`--model-args` must be a JSON object" in capsys.readouterr().err
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match=r"`checkpoint` .* must be a torch state dict"):
        evaluate_model(
            "cnn", checkpoint=bad, data="sklearn", image_size=16, eval_config=CFG, progress=False
        )
