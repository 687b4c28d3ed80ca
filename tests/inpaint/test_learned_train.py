"""``shiftaug train-inpainter`` end to end (smoke preset only): files, resume, data, DDP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from shiftaug.cli import main
from shiftaug.inpaint.learned import load_inpainter, load_inpainter_config
from shiftaug.inpaint.learned.data import PhotoSet, folder_photos, skimage_photos

SMOKE = ["train-inpainter", "--preset", "smoke", "--no-progress"]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("smoke")
    assert main([*SMOKE, "--out", str(out)]) == 0
    return out


def test_smoke_writes_a_loadable_model_and_a_log(smoke: Path) -> None:
    net, info = load_inpainter(smoke / "inpainter.safetensors")
    cfg = load_inpainter_config("smoke")
    assert net.config == cfg.net and info["steps"] == cfg.steps and info["size"] == cfg.size
    assert set(info["held_out"]) == {"psnr", "psnr_harmonic"}
    log = json.loads((smoke / "train_log.json").read_text())
    assert [r["step"] for r in log["history"]] == list(range(1, cfg.steps + 1))
    assert all(np.isfinite(r["d"]) and np.isfinite(r["g"]) for r in log["history"])
    ckpt = torch.load(smoke / "checkpoint.pt", weights_only=True)
    assert ckpt["step"] == cfg.steps


def test_resume_continues_exactly(smoke: Path, tmp_path: Path) -> None:
    # 6 steps in one go (the smoke fixture) == 3 steps, then the same command raised to 6
    assert main([*SMOKE, "--out", str(tmp_path), "--steps", "3"]) == 0
    assert main([*SMOKE, "--out", str(tmp_path)]) == 0
    whole = load_inpainter(smoke / "inpainter.safetensors")[0].state_dict()
    resumed = load_inpainter(tmp_path / "inpainter.safetensors")[0].state_dict()
    assert all(torch.equal(whole[k], resumed[k]) for k in whole)
    log = json.loads((tmp_path / "train_log.json").read_text())
    assert [r["step"] for r in log["history"]] == list(range(1, 7))


def test_pt_format_and_config_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*SMOKE, "--out", str(tmp_path), "--format", "pt", "--steps", "1"]) == 0
    assert load_inpainter(tmp_path / "inpainter.pt")[1]["steps"] == 1
    assert main([*SMOKE, "--out", str(tmp_path), "--set", "net.width=6"]) == 2
    assert "must hold a run of the same config to resume" in capsys.readouterr().err
    assert main([*SMOKE, "--set", "holes=[ellipses]"]) == 2
    assert "`holes` must be one of" in capsys.readouterr().err
    assert main([*SMOKE, "--set", "depth=3"]) == 2
    assert "`depth` must be one of the config keys" in capsys.readouterr().err
    assert main(["train-inpainter", "--preset", "huge"]) == 2
    assert "`preset` must be one of ['full', 'quick', 'smoke']" in capsys.readouterr().err
    assert main([*SMOKE, "--data", str(tmp_path / "nothing")]) == 2
    assert "`data` must be an existing folder of images" in capsys.readouterr().err
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "checkpoint.pt").write_bytes(b"cut short")
    assert main([*SMOKE, "--out", str(tmp_path / "bad")]) == 2
    assert "unreadable checkpoint" in capsys.readouterr().err


def test_print_config(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train-inpainter", "--preset", "full", "--print-config", "--steps", "9"]) == 0
    text = capsys.readouterr().out
    assert "name: full" in text and "steps: 9" in text


def _folder(root: Path) -> list[np.ndarray]:
    """Six 40x48 photos-to-be, two with instance masks (an id map with two objects)."""
    rng = np.random.default_rng(0)
    (root / "masks" / "sub").mkdir(parents=True)
    (root / "sub").mkdir()
    objects = []
    for i in range(6):
        name = f"sub/im{i}.png" if i % 2 else f"im{i}.jpg"
        Image.fromarray(rng.integers(0, 255, (40, 48, 3), dtype=np.uint8)).save(root / name)
        if i < 2:
            ids = np.zeros((40, 48), np.uint8)
            ids[5:12, 8:20] = 1
            ids[20:35, 30:33] = 7
            Image.fromarray(ids).save(root / "masks" / Path(name).with_suffix(".png"))
            objects += [ids[5:12, 8:20] == 1, ids[20:35, 30:33] == 7]
    return objects


def test_folder_data_with_instance_masks(tmp_path: Path) -> None:
    objects = _folder(tmp_path / "data")
    train, held = folder_photos(tmp_path / "data", holdout=0.34, seed=0)
    assert len(train.images) == 4 and len(held.images) == 2
    shapes = [s.numpy() for s in train.shapes + held.shapes]
    assert len(shapes) == 4
    for obj in objects:  # every instance mask became a silhouette, cropped to its box
        assert any(s.shape == obj.shape and (s == obj).all() for s in shapes)
    out = tmp_path / "out"
    assert main([*SMOKE, "--out", str(out), "--data", str(tmp_path / "data"), "--steps", "2"]) == 0
    info = load_inpainter(out / "inpainter.safetensors")[1]
    assert info["data"] == str(tmp_path / "data")


def test_folder_errors(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match=r"`data` must contain images"):
        folder_photos(tmp_path / "empty")
    _folder(tmp_path / "d")
    Image.fromarray(np.zeros((5, 5), np.uint8)).save(tmp_path / "d" / "masks" / "im0.png")
    with pytest.raises(ValueError, match=r"must have the size of its image"):
        folder_photos(tmp_path / "d")


def test_crops_stay_inside_their_regions() -> None:
    # pixel value = column index // 2: a crop's values tell which columns it came from
    columns = torch.arange(200).div(2, rounding_mode="floor").to(torch.uint8)
    image = columns.expand(3, 120, 200).contiguous()
    photos = PhotoSet([image], regions=[[(0, 0, 100, 120)]])
    crops = photos.crops(50, 16, zoom=(1.0, 1.0), generator=torch.Generator().manual_seed(0))
    assert crops.max() * 255 <= 49.5  # never a column >= 100
    held = skimage_photos("eval", names=("camera",))
    assert held.regions == [[(256, 256, 512, 512)]]
    train = skimage_photos("train", names=("camera",))
    assert train.regions == [[(0, 0, 512, 256), (0, 0, 256, 512)]]  # never the held-out quarter


def test_two_process_ddp_on_cpu(tmp_path: Path) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    command = [*launcher, "-m", "shiftaug", *SMOKE, "--out", str(tmp_path), "--steps", "2"]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("model:") == 1  # only rank 0 writes and reports
    info = load_inpainter(tmp_path / "inpainter.safetensors")[1]
    assert info["processes"] == 2 and info["steps"] == 2
    assert not list(tmp_path.rglob(".*.tmp"))
