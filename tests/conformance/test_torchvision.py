"""torchvision ``transforms.v2`` conformance: the checks torchvision runs over its own transforms.

torchvision's ``test/test_transforms_v2.py`` runs ``check_transform`` over every transform: it
pickles, keeps each input's type (and a box's format), keeps the structure of a big mixed sample
in a dict, list or tuple, passes unknown inputs through as the very same objects, never revives
a degenerate box past ``SanitizeBoundingBoxes``, and its kernels keep dtype and device and accept
empty batch dimensions. The same checks, in our words, run here over every shiftaug v2 adapter,
with a stock transform as the control that must pass them too; the detection-sample checks
(``(image, target)`` dicts) run over the placement adapters with a stock flip as control.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import PIL.Image
import pytest
import torch
from torch.utils._pytree import tree_flatten
from torch.utils.data import DataLoader, Dataset
from torchvision import tv_tensors
from torchvision.transforms import v2
from torchvision.transforms.v2 import Transform

from shiftaug.adapters import placement_torchvision as ptv
from shiftaug.adapters import torchvision as tv
from shiftaug.functional import masks_to_boxes

SIZE = (17, 11)
FORMATS = ("XYXY", "XYWH", "CXCYWH")


def _translate() -> Transform:
    return tv.RandomTranslate(shift_px=3)


def _stock() -> Transform:
    return v2.RandomAffine(degrees=0.0, translate=(0.2, 0.2))


# Every shiftaug v2 adapter that takes loose inputs, and the stock control.
LOOSE: dict[str, Callable[[], Transform]] = {
    "RandomTranslate": _translate,
    "RandomTranslate-bilinear-reflect": lambda: tv.RandomTranslate(
        shift_frac=0.2, interpolation="bilinear", padding_mode="reflect"
    ),
    "stock-RandomAffine": _stock,
}
# Every adapter that takes detection samples (image, target), and the stock control.
DETECTION: dict[str, Callable[[], Transform]] = {
    "RandomRelocate": lambda: ptv.RandomRelocate("mean", num_objects="all", shift_px=3),
    "CopyPaste": lambda: ptv.CopyPaste(num_objects=2),
    "stock-RandomHorizontalFlip": lambda: v2.RandomHorizontalFlip(p=1.0),
}
ADAPTER_CLASSES = {tv.RandomTranslate, ptv.RandomRelocate, ptv.CopyPaste}


def _image(size: tuple[int, int] = SIZE, batch: tuple[int, ...] = (), dtype: Any = torch.uint8):
    values = torch.randint(0, 256, (*batch, 3, *size), generator=torch.Generator().manual_seed(0))
    return tv_tensors.Image(values.to(dtype))


def _boxes(fmt: str, size: tuple[int, int] = SIZE) -> tv_tensors.BoundingBoxes:
    xyxy = tv_tensors.BoundingBoxes(
        [[1, 2, 6, 9], [4, 0, 11, 5], [0, 12, 3, 17]], format="XYXY", canvas_size=size
    )
    return v2.ConvertBoundingBoxFormat(fmt)(xyxy)


def _degenerate(fmt: str) -> tv_tensors.BoundingBoxes:
    """Zero-size boxes (torchvision's list also has inverted ones, which its own affine
    transforms turn into valid boxes, so they are no check)."""
    rows = [[0, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0], [4, 4, 4, 9]]
    return v2.ConvertBoundingBoxFormat(fmt)(
        tv_tensors.BoundingBoxes(rows, format="XYXY", canvas_size=SIZE)
    )


def _sample(image_or_video: Any) -> dict[str, Any]:
    """A big mixed sample, as torchvision's check builds one around the input under test."""
    size = SIZE
    sample: dict[str, Any] = {
        "image_or_video": image_or_video,
        "image": _image(size),
        "video": tv_tensors.Video(torch.rand(2, 3, *size)),
        "pil": PIL.Image.new("RGB", (size[1], size[0]), (10, 200, 30)),
        "detection_mask": tv_tensors.Mask(torch.zeros(3, *size, dtype=torch.bool)),
        "segmentation_mask": tv_tensors.Mask(torch.randint(0, 4, size, dtype=torch.uint8)),
        "keypoints": tv_tensors.KeyPoints([[1.5, 2.5], [9.0, 16.0]], canvas_size=size),
    }
    for fmt in FORMATS:
        sample[f"boxes_{fmt}"] = _boxes(fmt)
        sample[f"degenerate_{fmt}"] = _degenerate(fmt)
    sample.update(
        int=0, float=0.0, bool=True, none=None, str="str", path=Path.cwd(), object=object(),
        tensor=torch.empty(5), array=np.empty(5),
    )  # fmt: skip
    return sample


@pytest.fixture(params=list(LOOSE))
def loose(request: pytest.FixtureRequest) -> Transform:
    return LOOSE[request.param]()


@pytest.fixture(params=list(DETECTION))
def detection(request: pytest.FixtureRequest) -> Transform:
    return DETECTION[request.param]()


def _inputs() -> list[Any]:
    return [
        _image(),
        _image(batch=(2,)),
        tv_tensors.Video(torch.rand(4, 3, *SIZE)),
        tv_tensors.Video(torch.rand(2, 4, 3, *SIZE)),  # a batch of clips
        PIL.Image.new("RGB", (SIZE[1], SIZE[0]), (1, 2, 3)),
        torch.rand(3, *SIZE),  # a plain tensor is an image to torchvision
    ]


def test_pickled_transform_gives_the_same_outputs(loose: Transform) -> None:
    clone = pickle.loads(pickle.dumps(loose))
    image = _image()
    torch.manual_seed(0)
    first = loose(image)
    torch.manual_seed(0)
    assert torch.equal(clone(image), first)


@pytest.mark.parametrize("index", range(len(_inputs())))
def test_every_image_input_keeps_its_type_and_shape(loose: Transform, index: int) -> None:
    inpt = _inputs()[index]
    out = loose(inpt)
    assert type(out) is type(inpt)
    if isinstance(inpt, PIL.Image.Image):
        assert out.size == inpt.size and out.mode == inpt.mode
    else:
        assert out.shape == inpt.shape and out.dtype == inpt.dtype


@pytest.mark.parametrize("fmt", FORMATS)
def test_targets_keep_type_format_and_canvas(loose: Transform, fmt: str) -> None:
    boxes = _boxes(fmt)
    mask = tv_tensors.Mask(torch.randint(0, 3, SIZE, dtype=torch.uint8))
    points = tv_tensors.KeyPoints([[1.0, 2.0]], canvas_size=SIZE)
    _, out_boxes, out_mask, out_points = loose(_image(), boxes, mask, points)
    assert type(out_boxes) is tv_tensors.BoundingBoxes and out_boxes.format == boxes.format
    assert out_boxes.canvas_size == SIZE and out_boxes.dtype == boxes.dtype
    assert type(out_mask) is tv_tensors.Mask and out_mask.dtype == mask.dtype
    assert type(out_points) is tv_tensors.KeyPoints and out_points.canvas_size == SIZE


@pytest.mark.parametrize("container", [dict, list, tuple])
@pytest.mark.parametrize("index", [0, 2, 4, 5])  # Image, Video, PIL, plain tensor
def test_a_mixed_sample_keeps_its_structure_and_passes_the_rest_through(
    loose: Transform, container: type, index: int
) -> None:
    sample = _sample(_inputs()[index])
    inpt = sample if container is dict else container(sample.values())
    flat, spec = tree_flatten(inpt)
    torch.manual_seed(0)
    out_flat, out_spec = tree_flatten(loose(inpt))
    assert out_spec == spec
    for out_item, in_item, moved in zip(
        out_flat, flat, Transform()._needs_transform_list(flat), strict=True
    ):
        if moved:
            assert type(out_item) is type(in_item)
        else:
            assert out_item is in_item  # unknown inputs (and later plain tensors) untouched


@pytest.mark.parametrize("fmt", FORMATS)
def test_degenerate_boxes_stay_degenerate(loose: Transform, fmt: str) -> None:
    boxes = _degenerate(fmt)
    _, moved = loose(_image(), boxes)
    sample = {"boxes": moved, "labels": torch.arange(len(boxes))}
    assert v2.SanitizeBoundingBoxes()(sample)["boxes"].shape == (0, 4)


@pytest.mark.parametrize("clamping", [None, "soft", "hard"])
def test_clamping_mode_none_never_clamps(loose: Transform, clamping: str | None) -> None:
    """Stock transforms clamp boxes unless ``clamping_mode`` is None; so do we."""
    boxes = tv_tensors.BoundingBoxes(
        [[0.0, 0.0, SIZE[1], SIZE[0]]], format="XYXY", canvas_size=SIZE, clamping_mode=clamping
    )  # the whole canvas: any move pushes it partly out
    outside = []
    for seed in range(8):
        torch.manual_seed(seed)
        _, out = loose(_image(), boxes)
        assert out.clamping_mode == clamping
        outside.append(bool((out[:, :2] < 0).any() or (out[:, 2:] > boxes[:, 2:]).any()))
        if clamping is None:  # moved as a whole, never cut
            torch.testing.assert_close(out[:, 2:] - out[:, :2], boxes[:, 2:] - boxes[:, :2])
    assert any(outside) == (clamping is None)


def test_sanitize_after_us_drops_the_boxes_that_left(loose: Transform) -> None:
    boxes = tv_tensors.BoundingBoxes(
        [[0, 0, 2, 2], [0, 0, SIZE[1], SIZE[0]]], format="XYXY", canvas_size=SIZE
    )
    sample = {"image": _image(), "boxes": boxes, "labels": torch.tensor([7, 8])}
    torch.manual_seed(1)
    out = v2.Compose([loose, v2.SanitizeBoundingBoxes()])(sample)
    assert len(out["boxes"]) == len(out["labels"]) >= 1 and 8 in out["labels"].tolist()
    assert bool((out["boxes"][:, 2:] > out["boxes"][:, :2]).all())  # only real boxes remain
    assert bool((out["boxes"] >= 0).all() and (out["boxes"][:, 2] <= SIZE[1]).all())


@pytest.mark.parametrize("dims", [(0,), (5, 0), (0, 5)])
@pytest.mark.parametrize("kind", [tv_tensors.Image, tv_tensors.Video])
def test_empty_batch_dimensions(loose: Transform, dims: tuple[int, ...], kind: type) -> None:
    inpt = kind(torch.rand(*dims, 3, *SIZE))
    out = loose(inpt)
    assert type(out) is kind and out.shape == inpt.shape


@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32, torch.float64])
def test_dtype_and_device_are_kept(loose: Transform, dtype: torch.dtype, device: str) -> None:
    image = _image(dtype=dtype).to(device)
    mask = tv_tensors.Mask(torch.zeros(SIZE, dtype=torch.int64, device=device))
    out, out_mask = loose(image, mask)
    assert out.dtype == dtype and out.device == image.device
    assert out_mask.dtype == torch.int64 and out_mask.device == image.device


class _Shifted(Dataset[torch.Tensor]):
    def __init__(self, transform: Transform) -> None:
        self.transform = transform

    def __len__(self) -> int:
        return 8

    def __getitem__(self, index: int) -> torch.Tensor:
        return self.transform(tv_tensors.Image(torch.arange(121.0).view(1, 11, 11)))


def test_dataloader_workers_differ_and_torch_seed_reproduces(loose: Transform) -> None:
    def epoch() -> torch.Tensor:
        loader = DataLoader(_Shifted(loose), batch_size=4, num_workers=2, collate_fn=torch.stack)
        return torch.cat(list(loader))

    torch.manual_seed(3)
    first = epoch()
    torch.manual_seed(3)
    assert torch.equal(epoch(), first)
    assert not torch.equal(first[:4], first[4:])  # the two workers drew different moves


# ---- detection samples (image, target): placement adapters, stock flip as the control ----


def _detection(batch: int | None = None, objects: int = 3, dtype: Any = torch.uint8):
    """``(image, target)`` with rectangle objects whose boxes are the masks' boxes."""
    lead = () if batch is None else (batch,)
    image = _image(SIZE, lead, dtype)
    masks = torch.zeros(*lead, objects, *SIZE, dtype=torch.bool)
    for k in range(objects):
        masks[..., k, 2 + 4 * k : 5 + 4 * k, 1 + 3 * k : 4 + 3 * k] = True
    boxes = masks_to_boxes(masks)[0]
    target: dict[str, Any] = {
        "masks": tv_tensors.Mask(masks.to(torch.uint8)),
        "labels": torch.arange(objects).expand(*lead, objects) + 1,
        "iscrowd": torch.zeros(*lead, objects, dtype=torch.int64),
        "image_id": 42,
        "name": "x",
        "extra": object(),
    }
    if batch is None:
        target["boxes"] = tv_tensors.BoundingBoxes(boxes, format="XYXY", canvas_size=SIZE)
    return image, target


def _sample_for(transform: Transform, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
    """One image, or a batch for CopyPaste (it takes objects from the other images)."""
    return _detection(3 if isinstance(transform, ptv.CopyPaste) else None, **kwargs)


def test_detection_transforms_pickle(detection: Transform) -> None:
    image, target = _sample_for(detection)
    clone = pickle.loads(pickle.dumps(detection))
    torch.manual_seed(0)
    first = detection(image, target)
    torch.manual_seed(0)
    again = clone(image, target)
    assert torch.equal(first[0], again[0]) and torch.equal(first[1]["masks"], again[1]["masks"])


@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
def test_detection_targets_keep_types_and_pass_the_rest_through(
    detection: Transform, dtype: torch.dtype
) -> None:
    image, target = _sample_for(detection, dtype=dtype)
    out_image, out = detection(image, target)
    assert type(out_image) is tv_tensors.Image and out_image.dtype == dtype
    assert type(out["masks"]) is tv_tensors.Mask and out["masks"].dtype == torch.uint8
    for key in ("image_id", "name", "extra"):
        assert out[key] is target[key]
    if "boxes" in target:
        assert type(out["boxes"]) is tv_tensors.BoundingBoxes
        assert len(out["boxes"]) == len(out["labels"]) == len(out["masks"]) == len(out["iscrowd"])


def test_detection_pil_images_stay_pil(detection: Transform) -> None:
    image, target = _sample_for(detection)
    if image.ndim == 4:
        pytest.skip("a PIL image is one image; CopyPaste needs a batch")
    pil = v2.functional.to_pil_image(image)
    out_image, _ = detection(pil, target)
    assert isinstance(out_image, PIL.Image.Image) and out_image.size == pil.size


def test_sanitize_after_detection_transforms(detection: Transform) -> None:
    image, target = _sample_for(detection)
    if image.ndim == 4:
        pytest.skip("SanitizeBoundingBoxes takes one image's 2-D boxes")
    out = v2.Compose([detection, v2.SanitizeBoundingBoxes()])(image, target)[1]
    assert len(out["boxes"]) == len(out["labels"]) == len(out["masks"])
    assert torch.equal(out["boxes"], masks_to_boxes(out["masks"].bool())[0].to(out["boxes"].dtype))


@pytest.mark.parametrize("batch", [None, 3])
def test_samples_without_objects_pass_through_unchanged(
    detection: Transform, batch: int | None
) -> None:
    """Stock transforms take samples without objects (torchvision's COCO wrapper then gives
    no ``masks``); their targets come back as they were, and ours leave the image too."""
    if isinstance(detection, ptv.CopyPaste) and batch is None:
        pytest.skip("CopyPaste needs a batch")
    ours = not isinstance(detection, v2.RandomHorizontalFlip)
    image, target = _detection(batch, objects=0)
    out_image, out = detection(image, target)
    assert out_image.shape == image.shape and out["masks"].shape == target["masks"].shape
    assert torch.equal(out_image, image) or not ours
    bare = {"image_id": 7}
    out_image, out = detection(image, bare)
    assert out == bare and out_image.shape == image.shape
    assert torch.equal(out_image, image) or not ours
