"""albumentations adapter: targets vs the core kernels, serialization, errors."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import albumentations as A
import numpy as np
import pytest
import torch

from shiftaug.adapters.albumentations import RandomTranslate
from shiftaug.functional import (
    PADDING_MODES,
    translate_boxes,
    translate_image,
    translate_keypoints,
    translate_mask,
)
from tests.adapters.references import rule_mask

ROOT = Path(__file__).resolve().parents[2]
H, W = 20, 24


def _image(dtype: type = np.uint8, channels: int | None = 3, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    shape = (H, W) if channels is None else (H, W, channels)
    values = rng.integers(0, 256, shape)
    return values.astype(np.uint8) if dtype is np.uint8 else (values / 255).astype(dtype)


def _hwc(array: np.ndarray) -> torch.Tensor:
    """HWC / HW NumPy -> CHW tensor (the core's layout)."""
    tensor = torch.from_numpy(array)
    return tensor.permute(2, 0, 1) if array.ndim == 3 else tensor[None]


def _chw(tensor: torch.Tensor, like: np.ndarray) -> np.ndarray:
    return (tensor.permute(1, 2, 0) if like.ndim == 3 else tensor[0]).numpy()


def _shift(transform: RandomTranslate) -> torch.Tensor:
    return transform.get_applied_params()["shiftaug_params"].shift[0]


@pytest.mark.parametrize("mode", PADDING_MODES)
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_image_and_mask_equal_the_kernel_for_every_padding_mode(mode: str, dtype: type) -> None:
    fill = (9, 8, 7) if mode == "constant" else 0
    mask_fill = 255 if mode == "constant" else 0
    t = RandomTranslate(shift_px=30, padding_mode=mode, fill=fill, mask_fill=mask_fill, p=1.0)
    image, mask = _image(dtype), np.random.default_rng(1).integers(0, 4, (H, W)).astype(np.uint8)
    out = A.Compose([t], seed=0)(image=image, mask=mask)
    shift = _shift(t)
    expected = translate_image(_hwc(image), shift, padding_mode=mode, fill=fill)
    assert np.array_equal(out["image"], _chw(expected, image))
    # Masks are never padded with image content (the shared mask-padding rule).
    moved = rule_mask(torch.from_numpy(mask), shift, mode, mask_fill)
    assert np.array_equal(out["mask"], moved.numpy())


def test_grey_images_stacks_of_images_and_masks_and_the_bilinear_path() -> None:
    t = RandomTranslate(shift_frac=0.3, interpolation="bilinear", p=1.0)
    grey = _image(np.float32, channels=None)
    images = np.stack([_image(np.float32, seed=s) for s in range(3)])
    masks = np.stack([_image(channels=None, seed=s) % 3 for s in range(2)])
    out = A.Compose([t], seed=1)(image=grey, images=images, masks=masks)
    shift = _shift(t)
    assert not torch.equal(shift, shift.round())  # a genuinely sub-pixel shift
    bilinear = {"interpolation": "bilinear"}
    assert np.array_equal(out["image"], _chw(translate_image(_hwc(grey), shift, **bilinear), grey))
    expected = translate_image(torch.from_numpy(images).permute(0, 3, 1, 2), shift, **bilinear)
    assert np.array_equal(out["images"], expected.permute(0, 2, 3, 1).numpy())
    assert np.array_equal(out["masks"], translate_mask(torch.from_numpy(masks), shift).numpy())


@pytest.mark.parametrize("fmt", ["pascal_voc", "coco", "yolo"])
def test_bboxes_in_every_format_are_moved_and_filtered_by_albumentations(fmt: str) -> None:
    xyxy = np.array([[2.0, 3.0, 10.0, 9.0], [14.0, 2.0, 24.0, 20.0], [0.0, 12.0, 5.0, 18.0]])
    boxes = A.core.bbox_utils.convert_bboxes_from_albumentations(
        A.core.bbox_utils.normalize_bboxes(xyxy, (H, W)), fmt, {"height": H, "width": W}
    )
    t = RandomTranslate(shift_px=((-6, -6), (2, 2)), p=1.0)  # 6 left, 2 down
    params = A.BboxParams(format=fmt, label_fields=["labels"], min_visibility=0.5, min_area=10)
    pipeline = A.Compose([A.HorizontalFlip(p=1.0), t], bbox_params=params, seed=2)
    out = pipeline(image=_image(), bboxes=boxes, labels=[0, 1, 2])
    flipped = A.Compose([A.HorizontalFlip(p=1.0)], bbox_params=params)(
        image=_image(), bboxes=boxes, labels=[0, 1, 2]
    )
    pixels = A.core.bbox_utils.denormalize_bboxes(
        A.core.bbox_utils.convert_bboxes_to_albumentations(
            np.asarray(flipped["bboxes"]), fmt, {"height": H, "width": W}
        ),
        (H, W),
    )
    moved, visible = translate_boxes(
        torch.from_numpy(pixels), _shift(t), canvas_size=(H, W), min_visibility=0.5, min_area=10
    )
    expected = A.core.bbox_utils.convert_bboxes_from_albumentations(
        A.core.bbox_utils.normalize_bboxes(moved[visible].numpy(), (H, W)), fmt,
        {"height": H, "width": W},
    )  # fmt: skip
    assert list(out["labels"]) == [
        label for label, v in zip([0, 1, 2], visible.tolist(), strict=True) if v
    ]
    np.testing.assert_allclose(np.asarray(out["bboxes"]), expected, rtol=0, atol=1e-5)


def test_keypoints_move_and_invisible_ones_are_removed() -> None:
    t = RandomTranslate(shift_px=((5, 5), (-3, -3)), p=1.0)
    points = torch.tensor([[1.0, 1.0], [20.5, 10.0], [3.0, 19.0]])
    out = A.Compose([t], keypoint_params=A.KeypointParams(format="xy"), seed=3)(
        image=_image(), keypoints=points.numpy()
    )
    moved, visible = translate_keypoints(points, _shift(t), canvas_size=(H, W))
    assert visible.tolist() == [False, False, True]
    assert np.array_equal(np.asarray(out["keypoints"]), moved[visible].numpy())


def test_seeded_pipelines_are_reproducible_and_p_is_per_call() -> None:
    def run(seed: int) -> list[np.ndarray]:
        pipeline = A.Compose([RandomTranslate(shift_px=5, p=0.5)], seed=seed)
        return [pipeline(image=_image())["image"] for _ in range(8)]

    first, again = run(4), run(4)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    unchanged = [np.array_equal(out, _image()) for out in first]
    assert any(unchanged) and not all(unchanged)


def _pipeline() -> A.Compose:
    return A.Compose(
        [
            A.HorizontalFlip(p=0.5),
            RandomTranslate(shift_px=(4, (0, 3)), padding_mode="constant", fill=(1, 2, 3), p=0.8),
            A.RandomBrightnessContrast(p=0.5),
        ],
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"]),
    )


def _outputs(pipeline: A.Compose, seed: int) -> list[dict[str, object]]:
    pipeline.set_random_seed(seed)
    data = {"image": _image(), "bboxes": [[2, 2, 12, 12]], "labels": [1]}
    return [pipeline(**data) for _ in range(6)]


def _same(a: list[dict[str, object]], b: list[dict[str, object]]) -> bool:
    return all(
        np.array_equal(x["image"], y["image"]) and np.array_equal(x["bboxes"], y["bboxes"])
        for x, y in zip(a, b, strict=True)
    )


@pytest.mark.parametrize("data_format", ["yaml", "json"])
def test_save_and_load_round_trip_with_identical_outputs(data_format: str) -> None:
    pipeline = _pipeline()
    buffer = io.StringIO()
    A.save(pipeline, buffer, data_format=data_format)
    text = buffer.getvalue()
    assert "shiftaug.RandomTranslate" in text
    loaded = A.load(io.StringIO(text), data_format=data_format)
    assert json.dumps(A.to_dict(loaded)) == json.dumps(A.to_dict(pipeline))
    assert _same(_outputs(pipeline, 5), _outputs(loaded, 5))


def test_to_dict_from_dict_round_trip() -> None:
    pipeline = _pipeline()
    loaded = A.from_dict(A.to_dict(pipeline))
    assert isinstance(loaded.transforms[1], RandomTranslate)
    assert _same(_outputs(pipeline, 6), _outputs(loaded, 6))


def test_the_documented_example_config_loads_and_runs() -> None:
    pipeline = A.load(ROOT / "docs" / "adapters" / "example_pipeline.yaml", data_format="yaml")
    assert any(isinstance(t, RandomTranslate) for t in pipeline.transforms)
    out = pipeline(image=_image(), bboxes=[[2, 2, 12, 12]], labels=[1])
    assert out["image"].shape == (H, W, 3)


def test_import_shiftaug_is_all_a_user_needs_before_load(tmp_path: Path) -> None:
    path = tmp_path / "pipeline.yaml"
    A.save(_pipeline(), str(path), data_format="yaml")
    script = (
        "import sys, shiftaug\n"
        "assert 'albumentations' not in sys.modules  # not imported eagerly\n"
        "import albumentations as A\n"
        f"pipeline = A.load({str(path)!r}, data_format='yaml')\n"
        "print(type(pipeline.transforms[1]).__module__)\n"
    )
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", script],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "shiftaug.adapters.albumentations"


@pytest.mark.parametrize(
    "first",
    ["import shiftaug.adapters.albumentations", "import albumentations; import shiftaug",
     "import shiftaug.adapters.placement_albumentations"],
)  # fmt: skip
def test_every_shiftaug_transform_registers_in_any_import_order(first: str) -> None:
    script = (
        f"{first}\n"
        "import albumentations\n"
        "from albumentations.core.serialization import SERIALIZABLE_REGISTRY as registry\n"
        "names = ('shiftaug.RandomTranslate', 'shiftaug.RandomRelocate', 'shiftaug.CopyPaste')\n"
        "print(all(name in registry for name in names))\n"
    )
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", script],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr  # -W error: a failed registration warns
    assert result.stdout.strip() == "True"


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({}, ValueError, "A shift range is required"),
        ({"shift_px": (1, 2, 3)}, TypeError, "`shift_px` must be"),
        ({"shift_px": 2, "p": -0.1}, ValueError, "`p` must be a float in"),
        ({"shift_px": 2, "interpolation": "cubic"}, ValueError, "`interpolation` must be one of"),
        (
            {"shift_px": 2, "mask_fill": 1, "padding_mode": "circular"},
            ValueError,
            "`mask_fill` is not used with padding_mode='circular'",
        ),
    ],
)
def test_bad_arguments_raise_instead_of_warning(
    kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        RandomTranslate(**kwargs)  # type: ignore[arg-type]


def test_inputs_albumentations_would_reject_get_a_clear_message() -> None:
    t = RandomTranslate(shift_px=2, p=1.0)
    with pytest.raises(TypeError, match="must have dtype uint8 or float32"):
        t(image=_image().astype(np.int16))
    with pytest.raises(ValueError, match="looks channels-first"):
        t(image=np.zeros((3, H, W), dtype=np.uint8))
    with pytest.raises(TypeError, match="must be a NumPy array"):
        t(image=torch.zeros(H, W, 3, dtype=torch.uint8))
    with pytest.raises(ValueError, match="integers in"):
        RandomTranslate(shift_px=2, padding_mode="constant", fill=300.0, p=1.0)(image=_image())


def test_inputs_are_not_modified() -> None:
    image = _image()
    before = image.copy()
    A.Compose([RandomTranslate(shift_px=4, p=1.0)], seed=0)(image=image)
    assert np.array_equal(image, before)
