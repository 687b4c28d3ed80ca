"""The placement experiment's parts: scenes data, the new arms, realistic/frame shift metrics,
the removal probe, and a tiny end-to-end run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from shiftaug import RandomRelocate
from shiftaug.cli import main
from shiftaug.harness.arms import make_arm, translate_range
from shiftaug.harness.config import ArmConfig, DataConfig, EvalConfig
from shiftaug.harness.data import Task, make_task
from shiftaug.harness.removal import removal_probe
from shiftaug.harness.scenes import CLASS_NAMES


@pytest.fixture(scope="module")
def scenes() -> Task:
    cfg = DataConfig(dataset="scenes", canvas=24, object_size=10, background="texture",
                     train_size=96, test_size=48)  # fmt: skip
    return make_task(cfg, margin=3)


def test_scenes_task_renders_its_own_test_views(scenes: Task) -> None:
    assert scenes.train_images.shape == (96, 3, 24, 24) and scenes.num_classes == len(CLASS_NAMES)
    assert int(scenes.train_labels.max()) < len(CLASS_NAMES) and scenes.test_positions is not None
    index = torch.arange(len(scenes.test_images))
    rendered, labels = scenes.render(index, scenes.test_positions)  # type: ignore[misc]
    assert torch.equal(rendered, scenes.view(scenes.test_images))  # exactly the test scenes
    assert torch.equal(labels, scenes.test_labels)
    masks = scenes.render_masks(index, scenes.test_positions)  # type: ignore[misc]
    # the object covers its mask: moving it elsewhere changes exactly those pixels
    moved, _ = scenes.render(index, (scenes.test_positions + 7).clamp(0, scenes.free))  # type: ignore[misc]
    changed = (moved != rendered).any(1, keepdim=True)
    assert (
        changed
        <= (masks | scenes.render_masks(index, (scenes.test_positions + 7).clamp(0, scenes.free)))
    ).all()  # type: ignore[misc]


def test_translate_reflect_is_a_reflect_padded_shift(scenes: Task) -> None:
    arm = make_arm(
        "translate_reflect", ArmConfig(), scenes, generator=torch.Generator().manual_seed(0)
    )
    (lx, hx), (ly, hy) = translate_range(ArmConfig(), scenes)  # type: ignore[misc]
    images = scenes.train_images[:6]
    out = arm(images)  # type: ignore[misc]
    for o, image in zip(out, images, strict=True):
        padded = np.pad(image.numpy(), ((0, 0), (24, 24), (24, 24)), mode="reflect")
        found = [
            (dx, dy)
            for dy in range(ly, hy + 1)
            for dx in range(lx, hx + 1)
            if np.array_equal(padded[:, 24 - dy : 48 - dy, 24 - dx : 48 - dx], o.numpy())
        ]
        assert found


@pytest.mark.parametrize("backend", ["constant", "harmonic", "learned"])
def test_relocate_backend_arms_equal_random_relocate(scenes: Task, backend: str) -> None:
    arm = make_arm(
        f"relocate_{backend}", ArmConfig(), scenes, generator=torch.Generator().manual_seed(4)
    )
    assert arm is not None and arm.removes and arm.needs_masks
    images, masks = scenes.train_images[:8], scenes.train_masks[:8]  # type: ignore[index]
    # The arms use 0.1's exact mode (hard paste, hole = the mask), not the 0.2 defaults.
    expected = RandomRelocate(
        backend, blend="hard", hole_margin=0, generator=torch.Generator().manual_seed(4)
    )(images, masks).image
    assert torch.equal(arm(images, masks), expected)
    if backend == "learned":  # the memo replays exactly what the backend computed
        again = make_arm(
            "relocate_learned", ArmConfig(), scenes, generator=torch.Generator().manual_seed(4)
        )
        assert torch.equal(again(images, masks), expected)  # type: ignore[misc]


def test_copypaste_arm_pastes_objects_of_the_same_class() -> None:
    # each image: a black canvas with one square whose grey level encodes the image's class
    labels = torch.tensor([0, 1, 0, 1, 2, 0, 2, 1])
    images = torch.zeros(8, 1, 20, 20)
    masks = torch.zeros(8, 1, 20, 20, dtype=torch.bool)
    for n in range(8):
        masks[n, 0, 2 + n % 3 : 7 + n % 3, 3:8] = True
    images[masks] = ((labels + 1) / 4).repeat_interleave(25)
    task = Task("t", images, labels, masks, images, labels, 0, 3)
    arm = make_arm("copypaste", ArmConfig(), task, generator=torch.Generator().manual_seed(0))
    assert arm is not None and arm.needs_labels
    out = arm(images, masks, labels)
    for o, label in zip(out, labels, strict=True):
        assert set(o.unique().tolist()) <= {0.0, (label.item() + 1) / 4}  # only its own class
    assert (out > 0).flatten(1).sum(1).gt(25).sum() >= 6  # most images received a second object
    with pytest.raises(ValueError, match=r"`arm` 'copypaste' needs the batch's masks and labels"):
        arm(images, None, None)


def test_arm_errors(scenes: Task) -> None:
    with pytest.raises(
        ValueError, match=r"`arm` must be one of \('relocate_blur', .*'relocate_bogus'"
    ):
        make_arm("relocate_bogus", ArmConfig(), scenes, generator=torch.Generator())
    with pytest.raises(ValueError, match=r"`arm` must be one of"):
        make_arm("relocated", ArmConfig(), scenes, generator=torch.Generator())


def test_removal_probe_sees_a_constant_fill_on_photos_but_not_on_black() -> None:
    cfg = EvalConfig(removal_images=360, removal_epochs=30)
    photos = make_task(DataConfig(dataset="scenes", canvas=24, object_size=8, background="texture",
                                  train_size=32, test_size=64), margin=0)  # fmt: skip
    black = make_task(DataConfig(dataset="sklearn", canvas=24, object_size=8, train_size=32,
                                 test_size=64), margin=0)  # fmt: skip
    # the constant fill (0) leaves a black hole on a photo, and nothing at all on black
    assert removal_probe("relocate_constant", ArmConfig(), photos, cfg, seed=0) >= 0.85  # type: ignore[operator]
    assert removal_probe("relocate_constant", ArmConfig(), black, cfg, seed=0) <= 0.65  # type: ignore[operator]
    assert removal_probe("translate", ArmConfig(), photos, cfg, seed=0) is None
    assert removal_probe("relocate", ArmConfig(), photos, EvalConfig(), seed=0) is None  # off


TINY = """
name: tiny-placement
runs: [{models: [cnn], arms: [none, relocate_harmonic]}]
seeds: [0, 1]
data: {dataset: scenes, canvas: 20, object_size: 8, background: texture, train_size: 128, test_size: 64}
train: {epochs: 1, batch_size: 32}
eval: {max_shift: 3, images: 32, grid_step: 4, grid_images: 4, layer_objects: 2, layer_positions: 2,
       removal_images: 60, removal_epochs: 1}
"""


def test_tiny_placement_experiment(tmp_path: Path) -> None:
    config = tmp_path / "tiny.yaml"
    config.write_text(TINY)
    out = tmp_path / "out"
    assert main(["experiment", "--config", str(config), "--out", str(out), "--no-progress"]) == 0
    results = json.loads((out / "results.json").read_text())
    runs = results["runs"]
    # The top-level summary: mean and sample std over seeds, recomputed here with NumPy.
    for model, arms in results["summary"].items():
        for arm, cells in arms.items():
            for name in ("accuracy", "realistic_shift_accuracy", "frame_shift_accuracy"):
                values = [
                    r["metrics"][name] for r in runs if (r["model"], r["arm"]) == (model, arm)
                ]
                assert cells[name]["seeds"] == len(values) == 2
                assert cells[name]["mean"] == pytest.approx(np.mean(values))
                assert cells[name]["std"] == pytest.approx(np.std(values, ddof=1))
    assert len(results["summary"]["cnn"]) == len({r["arm"] for r in runs})
    for run in runs:
        m = run["metrics"]
        assert 0 <= m["realistic_shift_accuracy"] <= 1 and 0 <= m["frame_shift_accuracy"] <= 1
        assert (m["removal_probe_accuracy"] is None) == (run["arm"] == "none")
    probes = {r["seed"]: r["metrics"]["removal_probe_accuracy"] for r in runs if r["arm"] != "none"}
    assert len(probes) == 2
    report = (out / "report.md").read_text()
    assert "## Realistic shifts, frame shifts and the removal probe" in report
    assert "| cnn | relocate_harmonic |" in report and (out / "plots" / "placement.png").is_file()


def test_placement_preset_is_the_issue_grid() -> None:
    from shiftaug.harness.config import load_config

    cfg = load_config("placement")
    assert len(cfg.seeds) >= 3 and cfg.data.dataset == "scenes" and cfg.data.background == "texture"
    assert {m for b in cfg.runs for m in b.models} == {"cnn", "cnn_flat", "vit"}
    arms = {a for b in cfg.runs for a in b.arms}
    assert {"none", "translate", "translate_reflect", "crop", "relocate_constant",
            "relocate_harmonic", "relocate_learned", "copypaste"} <= arms  # fmt: skip
