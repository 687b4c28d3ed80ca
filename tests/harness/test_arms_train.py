"""Augmentation arms against direct references; the training loop's determinism and resume."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F

from shiftaug.harness.arms import ARMS, make_arm, translate_range
from shiftaug.harness.config import ArmConfig, DataConfig, TrainConfig
from shiftaug.harness.data import Task, make_task
from shiftaug.harness.models import build_model
from shiftaug.harness.train import train


@pytest.fixture(scope="module")
def task() -> Task:
    cfg = DataConfig(dataset="sklearn", canvas=16, object_size=8, train_size=64, test_size=16)
    return make_task(cfg, margin=2)


def _is_shift_of(out: torch.Tensor, image: torch.Tensor, circular: bool) -> bool:
    """``out`` equals ``image`` moved by some whole-pixel shift (roll or zero-filled slice)."""
    h, w = image.shape[-2:]
    for dy in range(-h + 1, h):
        for dx in range(-w + 1, w):
            if circular:
                ref = torch.roll(image, (dy, dx), dims=(-2, -1))
            else:
                ref = torch.zeros_like(image)
                ref[..., max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = image[
                    ..., max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)
                ]
            if torch.equal(out, ref):
                return True
    return False


@pytest.mark.parametrize("name", ["translate", "jitter", "roll"])
def test_shift_arms_move_each_sample_by_its_own_shift(task: Task, name: str) -> None:
    arm = make_arm(name, ArmConfig(), task, generator=torch.Generator().manual_seed(0))
    images = task.train_images[:12]
    out = arm(images, task.train_masks[:12])  # type: ignore[misc,index]
    assert out.shape == images.shape and out.dtype == images.dtype
    assert all(_is_shift_of(o, i, name == "roll") for o, i in zip(out, images, strict=True))
    changed = [not torch.equal(o, i) for o, i in zip(out, images, strict=True)]
    assert sum(changed) >= 6  # per-sample draws: most samples move


def test_translate_range_reaches_every_position(task: Task) -> None:
    (lx, hx), (ly, hy) = translate_range(ArmConfig(), task)  # type: ignore[misc]
    x0, y0, x1, y1 = task.train_box  # type: ignore[misc]
    assert x1 + lx == 0 and x0 + hx == task.free and y1 + ly == 0 and y0 + hy == task.free
    assert translate_range(ArmConfig(translate_px=3), task) == 3


def test_crop_arm_is_torchvision_random_crop_per_sample(task: Task) -> None:
    arm = make_arm("crop", ArmConfig(crop_padding=2), task, generator=torch.Generator())
    torch.manual_seed(0)
    images = task.train_images[:10]
    out = arm(images, None)  # type: ignore[misc]
    offsets = set()
    for o, image in zip(out, images, strict=True):
        padded = F.pad(image, (2, 2, 2, 2))
        match = [
            (i, j)
            for i in range(5)
            for j in range(5)
            if torch.equal(padded[:, i : i + 16, j : j + 16], o)
        ]
        assert match
        offsets.add(match[0])
    assert len(offsets) > 1  # not one crop for the whole batch


def test_relocate_arm_moves_the_digit_and_keeps_its_pixels(task: Task) -> None:
    arm = make_arm("relocate", ArmConfig(), task, generator=torch.Generator().manual_seed(0))
    images, masks = task.train_images[:6], task.train_masks[:6]  # type: ignore[index]
    out = arm(images, masks)  # type: ignore[misc]
    for o, image, mask in zip(out, images, masks, strict=True):
        # black canvas: the hole is filled black and the digit is pasted whole elsewhere
        ink = image[mask].sort().values
        assert torch.equal(o[o > 0].sort().values, ink[ink > 0])


def test_arm_errors(task: Task) -> None:
    with pytest.raises(ValueError, match=r"`arm` must be one of"):
        make_arm("mixup", ArmConfig(), task, generator=torch.Generator())
    natural = Task(
        "folder",
        task.train_images,
        task.train_labels,
        None,
        task.test_images,
        task.test_labels,
        2,
        10,
    )
    with pytest.raises(ValueError, match=r"`arm` 'relocate' needs object masks"):
        make_arm("relocate", ArmConfig(), natural, generator=torch.Generator())
    assert make_arm("none", ArmConfig(), task, generator=torch.Generator()) is None
    assert set(ARMS) == {"none", "translate", "jitter", "roll", "crop", "relocate", "rotate"}


def _fit(
    task: Task, epochs: int, arm_name: str = "translate", **kw: object
) -> tuple[torch.nn.Module, object]:
    torch.manual_seed(0)
    model = build_model("cnn", in_channels=1, num_classes=10, image_size=task.image_size)
    g = torch.Generator()
    arm = make_arm(arm_name, ArmConfig(), task, generator=g)
    cfg = TrainConfig(epochs=epochs, batch_size=16)
    state = train(
        model, task, arm, cfg, seed=1, device=torch.device("cpu"), generator=g, progress=False, **kw
    )  # type: ignore[arg-type]
    return model, state


def test_training_is_deterministic_and_learns(task: Task) -> None:
    a, state = _fit(task, 3)
    b, _ = _fit(task, 3)
    for pa, pb in zip(a.state_dict().values(), b.state_dict().values(), strict=True):
        assert torch.equal(pa, pb)
    assert state.epoch == 3 and state.steps == 12 and len(state.losses) == 3  # type: ignore[attr-defined]
    assert state.losses[-1] < state.losses[0]  # type: ignore[attr-defined]
    assert 0 < state.aug_overhead < 1  # type: ignore[attr-defined]


def test_resuming_from_a_checkpoint_equals_training_straight_through(task: Task) -> None:
    saved: list[dict] = []
    straight, _ = _fit(task, 3, on_epoch=lambda ck: saved.append(copy.deepcopy(ck)))
    first = saved[0]
    assert first["state"]["epoch"] == 1
    resumed, state = _fit(task, 3, checkpoint=first)
    for pa, pb in zip(straight.state_dict().values(), resumed.state_dict().values(), strict=True):
        assert torch.equal(pa, pb)
    assert state.epoch == 3 and len(state.losses) == 3  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("batch_size", "world", "match"),
    [
        (100, 1, r"`train.batch_size` must be <= 64 training images"),
        (15, 2, r"divisible by the 2 processes, but got 15"),
    ],
)
def test_batch_size_errors(task: Task, batch_size: int, world: int, match: str) -> None:
    model = build_model("cnn", in_channels=1, num_classes=10, image_size=task.image_size)
    cfg = TrainConfig(batch_size=batch_size)
    with pytest.raises(ValueError, match=match):
        train(
            model, task, None, cfg, seed=0, device=torch.device("cpu"), world=world, progress=False
        )


def test_training_runs_on_every_device(task: Task, device: str) -> None:
    torch.manual_seed(0)
    model = build_model("cnn", in_channels=1, num_classes=10, image_size=task.image_size)
    model.to(device)
    g = torch.Generator(device)
    arm = make_arm("translate", ArmConfig(), task, generator=g)
    state = train(model, task, arm, TrainConfig(epochs=1, batch_size=16), seed=0,
                  device=torch.device(device), generator=g, progress=False)  # fmt: skip
    assert state.epoch == 1 and next(model.parameters()).device.type == torch.device(device).type
