"""Harness datasets: canvases against plain slicing, positions, the probe, ImageFolder from disk."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from shiftaug.harness.config import DataConfig
from shiftaug.harness.data import make_task, probe_patch
from shiftaug.harness.sources import load_digits


def _cfg(**kw: object) -> DataConfig:
    base = {"dataset": "sklearn", "canvas": 20, "object_size": 8, "train_size": 40, "test_size": 10}
    return DataConfig(**{**base, **kw})  # type: ignore[arg-type]


def _first_ink(images: torch.Tensor) -> torch.Tensor:
    """``(N, 2)`` ``(x, y)``: first column and first row with a non-zero pixel."""
    ink = images.flatten(1, -3).amax(1) > 0  # (N, H, W)
    return torch.stack([ink.any(1).int().argmax(1), ink.any(2).int().argmax(1)], 1)


def _located(canvas: torch.Tensor, digits: torch.Tensor) -> list[tuple[int, int]]:
    """Every (x, y) where one of ``digits`` sits unchanged on the black ``canvas`` (slicing)."""
    s = digits.shape[-1]
    origins = _first_ink(canvas[None]) - _first_ink(digits)  # line the ink up
    return [
        (x, y)
        for digit, (x, y) in zip(digits, origins.tolist(), strict=True)
        if x >= 0
        and y >= 0
        and canvas.sum() == digit.sum()
        and torch.equal(canvas[..., y : y + s, x : x + s], digit)
    ]


def test_black_canvas_holds_the_digit_at_a_training_position() -> None:
    task = make_task(_cfg(jitter=3), margin=2)
    digits, _, labels = load_digits("sklearn")
    x0, y0, x1, y1 = task.train_box  # type: ignore[misc]
    assert (x0, y0, x1, y1) == (3, 3, 9, 9)
    found = 0
    for image, label, mask in zip(
        task.train_images, task.train_labels, task.train_masks, strict=True
    ):
        matches = _located(image, digits[labels == label])
        assert matches, "every training canvas shows one unchanged digit"
        x, y = matches[0]
        assert x0 <= x <= x1 and y0 <= y <= y1
        ys, xs = torch.nonzero(mask[0], as_tuple=True)
        assert xs.min() >= x and xs.max() < x + 8 and ys.min() >= y and ys.max() < y + 8
        found += 1
    assert found == 40


def test_test_scenes_carry_real_context_around_the_view() -> None:
    task = make_task(_cfg(background="noise"), margin=3)
    assert task.test_images.shape == (10, 1, 26, 26)
    assert task.view(task.test_images).shape == (10, 1, 20, 20)
    border = task.test_images[..., :3, :]
    assert (border > 0).float().mean() > 0.9  # noise, not padding


def test_render_places_objects_where_asked() -> None:
    task = make_task(_cfg(), margin=0)
    positions = torch.tensor([[0, 0], [12, 5], [7, 12]])
    index = torch.tensor([0, 1, 2])
    images, labels = task.render(index, positions)  # type: ignore[misc]
    assert torch.equal(labels, task.test_labels[:3])
    for image, (x, y) in zip(images, positions.tolist(), strict=True):
        ys, xs = torch.nonzero(image[0] > 0, as_tuple=True)
        assert xs.min() >= x and xs.max() < x + 8 and ys.min() >= y and ys.max() < y + 8


def test_grid_is_aligned_on_the_centre_and_seen_matches_the_box() -> None:
    task = make_task(_cfg(jitter=2), margin=0)
    grid = task.grid(4)
    axis = sorted(set(grid[:, 0].tolist()))
    assert axis == [2, 6, 10] and len(grid) == 9  # free = 12, centre 6
    assert task.seen(grid).tolist() == [(x, y) == (6, 6) for x, y in grid.tolist()]
    assert len(task.grid(1)) == 13 * 13


def test_full_and_region_positions() -> None:
    full = make_task(_cfg(positions="full"), margin=0)
    assert full.train_box == (0, 0, 12, 12)
    region = make_task(_cfg(positions="region", region=[0.0, 0.5, 0.25, 1.0]), margin=0)
    assert region.train_box == (0, 6, 3, 12)


def test_texture_background_gives_rgb_canvases() -> None:
    task = make_task(_cfg(background="texture", dataset="mnist", object_size=10), margin=1)
    assert task.train_images.shape == (40, 3, 20, 20) and task.channels == 3
    assert float(task.train_images.min()) >= 0 and float(task.train_images.max()) <= 1


def test_probe_label_is_the_half_of_the_canvas() -> None:
    task = make_task(_cfg(dataset="probe", positions="full", object_size=4), margin=0)
    patch = probe_patch(4)
    for image, label in zip(task.train_images, task.train_labels, strict=True):
        ys, xs = torch.nonzero(image.sum(0) > 0, as_tuple=True)
        x, y = int(xs.min()), int(ys.min())
        assert torch.equal(image[:, y : y + 4, x : x + 4], patch)
        assert int(label) == int(x + 2 > 10)
    assert task.num_classes == 2 and set(task.train_labels.tolist()) == {0, 1}


@pytest.mark.parametrize(
    ("kw", "error", "match"),
    [
        ({"dataset": "imagenet"}, ValueError, r"`dataset` must be one of"),
        ({"background": "sky"}, ValueError, r"`background` must be one of"),
        ({"positions": "corner"}, ValueError, r"`positions` must be one of"),
        ({"object_size": 30}, ValueError, r"`data.object_size` must be <= data.canvas=20"),
        ({"train_size": 0}, ValueError, r"`data.train_size` must be an int >= 1"),
        ({"train_size": 1797}, ValueError, r"`data.train_size \+ data.test_size` must be <= 1797"),
        ({"jitter": 7}, ValueError, r"`data.jitter` must be an int in \[0, 6\]"),
        ({"positions": "region", "region": [0.5, 0, 0.2, 1]}, ValueError, r"`data.region` must be"),
    ],
)
def test_bad_data_settings(kw: dict[str, object], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        make_task(_cfg(**kw), margin=0)
    with pytest.raises(ValueError, match=r"`margin` must be an int >= 0"):
        make_task(_cfg(), margin=-1)


def _write_folder(root: Path, per_class: int = 3) -> None:
    from PIL import Image

    rng = np.random.default_rng(0)
    for split in ("train", "test"):
        for cls in ("cat", "dog"):
            (root / split / cls).mkdir(parents=True)
            for i in range(per_class):
                array = rng.integers(0, 255, (12, 10, 3), dtype=np.uint8)
                Image.fromarray(array).save(root / split / cls / f"{i}.png")


def test_imagefolder_is_read_from_disk(tmp_path: Path) -> None:
    _write_folder(tmp_path)
    cfg = DataConfig(
        dataset="imagefolder", data_root=str(tmp_path), canvas=16, train_size=100, test_size=100
    )
    task = make_task(cfg, margin=2)
    assert task.train_images.dtype == torch.uint8 and task.train_images.shape == (6, 3, 16, 16)
    assert task.test_images.shape == (6, 3, 20, 20) and task.num_classes == 2
    assert sorted(task.train_labels.tolist()) == [0, 0, 0, 1, 1, 1]
    assert task.render is None and task.train_masks is None
    # the stored pixels are the file's pixels, resized exactly as torchvision does
    from PIL import Image
    from torchvision.transforms.v2 import functional as TF

    files = sorted((tmp_path / "test").glob("*/*.png"))
    expected = {
        TF.resize(TF.pil_to_tensor(Image.open(f).convert("RGB")), [16, 16], antialias=True)
        .numpy()
        .tobytes()
        for f in files
    }
    got = {img.numpy().tobytes() for img in task.view(task.test_images)}
    assert got == expected
    assert torch.equal(task.test_images[..., :2, :], torch.zeros(6, 3, 2, 20, dtype=torch.uint8))


def test_natural_datasets_never_download(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"`data.data_root` must be an existing folder"):
        make_task(DataConfig(dataset="cifar10", data_root=None), margin=0)
    with pytest.raises(ValueError, match=r"`data.data_root` must contain cifar-10-batches-py"):
        make_task(DataConfig(dataset="cifar10", data_root=str(tmp_path)), margin=0)
    with pytest.raises(ValueError, match=r"must contain train/<class>/<image> folders"):
        make_task(DataConfig(dataset="imagefolder", data_root=str(tmp_path)), margin=0)
    assert not any(tmp_path.iterdir())  # nothing was fetched


def test_digit_resizing_keeps_values_in_range() -> None:
    task = make_task(_cfg(dataset="mnist", object_size=14, canvas=20), margin=0)
    digits = F.interpolate(load_digits("mnist")[0][:1], size=(14, 14), mode="area")
    assert float(task.train_images.max()) <= 1.0 and float(digits.max()) > 0.5
