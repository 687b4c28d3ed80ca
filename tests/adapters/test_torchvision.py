"""torchvision v2 adapter: pixels and targets equal the core kernels for the reported shift."""

from __future__ import annotations

import pickle

import numpy as np
import PIL.Image
import pytest
import torch
from torch.utils.data import DataLoader, Dataset
from torchvision import tv_tensors
from torchvision.transforms import v2

from shiftaug.adapters.torchvision import RandomTranslate
from shiftaug.functional import (
    translate_boxes,
    translate_image,
    translate_keypoints,
    translate_mask,
)

SIZE = (12, 14)


def _image(n: int | None = None, seed: int = 0) -> tv_tensors.Image:
    shape = (3, *SIZE) if n is None else (n, 3, *SIZE)
    g = torch.Generator().manual_seed(seed)
    return tv_tensors.Image(torch.randint(0, 256, shape, dtype=torch.uint8, generator=g))


def _boxes(fmt: str = "XYXY") -> tv_tensors.BoundingBoxes:
    xyxy = tv_tensors.BoundingBoxes(
        [[1, 2, 6, 8], [9, 0, 14, 5], [0, 0, 2, 2]], format="XYXY", canvas_size=SIZE
    )
    return v2.ConvertBoundingBoxFormat(fmt)(xyxy)


@pytest.mark.parametrize("fmt", ["XYXY", "XYWH", "CXCYWH"])
def test_one_sample_in_a_stock_pipeline_matches_the_kernels(fmt: str) -> None:
    torch.manual_seed(0)
    t = RandomTranslate(shift_px=(4, 3), padding_mode="constant", fill=7, mask_fill=255)
    pipeline = v2.Compose(
        [v2.RandomHorizontalFlip(p=1.0), t, v2.ToDtype(torch.float32, scale=True)]
    )
    image, boxes = _image(), _boxes(fmt)
    mask = tv_tensors.Mask(torch.randint(0, 3, SIZE, dtype=torch.uint8))
    points = tv_tensors.KeyPoints([[1.5, 2.5], [13.0, 11.0]], canvas_size=SIZE)
    out = pipeline({"image": image, "mask": mask, "boxes": boxes, "points": points, "id": 3})
    shift = t.last_params.shift[0]
    flipped = v2.RandomHorizontalFlip(p=1.0)({"i": image, "m": mask, "b": boxes, "k": points})
    expected = translate_image(
        flipped["i"].as_subclass(torch.Tensor), shift, padding_mode="constant", fill=7
    )
    assert torch.equal(out["image"], v2.functional.to_dtype(expected, torch.float32, scale=True))
    assert isinstance(out["image"], tv_tensors.Image) and isinstance(out["mask"], tv_tensors.Mask)
    assert torch.equal(
        out["mask"], translate_mask(flipped["m"], shift, padding_mode="constant", fill=255)
    )
    moved, visible = translate_boxes(
        flipped["b"].as_subclass(torch.Tensor), shift, canvas_size=SIZE, format=fmt.lower()
    )
    assert torch.equal(out["boxes"][visible], moved[visible])
    assert out["boxes"].format.name == fmt and out["boxes"].canvas_size == SIZE
    kp, _ = translate_keypoints(flipped["k"].as_subclass(torch.Tensor), shift, canvas_size=SIZE)
    assert torch.equal(out["points"], kp) and isinstance(out["points"], tv_tensors.KeyPoints)
    assert out["id"] == 3


def test_a_batch_gets_per_sample_shifts_and_targets_follow_their_image(device: str) -> None:
    torch.manual_seed(1)
    t = RandomTranslate(shift_px=5)
    images = _image(6).to(device)
    masks = tv_tensors.Mask(torch.randint(0, 2, (6, 2, *SIZE), dtype=torch.bool, device=device))
    points = tv_tensors.KeyPoints(torch.rand(6, 4, 2, device=device) * 10, canvas_size=SIZE)
    boxes = [_boxes().to(device) for _ in range(6)]
    out_images, out_masks, out_points, out_boxes = t(images, masks, points, boxes)
    shift = t.last_params.shift
    assert len(set(map(tuple, shift.tolist()))) > 1  # per sample, unlike stock v2 transforms
    assert shift.device == out_images.device == images.device
    assert torch.equal(out_images, translate_image(images.as_subclass(torch.Tensor), shift))
    assert torch.equal(out_masks, translate_mask(masks, shift))
    assert torch.equal(out_points, translate_keypoints(points, shift, canvas_size=SIZE)[0])
    for index, moved in enumerate(out_boxes):
        expected, visible = translate_boxes(boxes[index], shift[index], canvas_size=SIZE)
        assert torch.equal(moved[visible], expected[visible])


def test_same_on_batch_and_p_zero() -> None:
    torch.manual_seed(2)
    same = RandomTranslate(shift_px=5, same_on_batch=True)
    same(_image(5))
    assert (same.last_params.shift == same.last_params.shift[0]).all()
    images = _image(5)
    assert torch.equal(RandomTranslate(shift_px=5, p=0.0)(images), images)


def test_a_video_clip_shares_one_shift_and_a_batch_of_clips_does_not() -> None:
    torch.manual_seed(3)
    t = RandomTranslate(shift_px=4)
    clip = tv_tensors.Video(torch.rand(5, 3, *SIZE))
    out = t(clip)
    assert isinstance(out, tv_tensors.Video) and len(t.last_params) == 1
    assert torch.equal(out, translate_image(clip.as_subclass(torch.Tensor), t.last_params.shift[0]))
    clips = tv_tensors.Video(torch.rand(3, 2, 3, *SIZE))
    out = t(clips)
    shift = t.last_params.shift[:, None]  # (N, 1, 2): frames share their clip's shift
    assert torch.equal(out, translate_image(clips.as_subclass(torch.Tensor), shift))


def test_pil_images_and_plain_tensors_as_torchvision_treats_them() -> None:
    torch.manual_seed(4)
    t = RandomTranslate(shift_px=3, padding_mode="reflect")
    array = np.random.default_rng(0).integers(0, 256, (*SIZE, 3), dtype=np.uint8)
    out = t(PIL.Image.fromarray(array))
    assert isinstance(out, PIL.Image.Image) and out.mode == "RGB"
    expected = translate_image(
        torch.from_numpy(array).permute(2, 0, 1), t.last_params.shift[0], padding_mode="reflect"
    )
    assert np.array_equal(np.asarray(out), expected.permute(1, 2, 0).numpy())
    plain, labels = torch.rand(3, *SIZE), torch.arange(4.0)
    out_plain, out_labels = t(plain, labels)  # the first plain tensor is the image
    assert torch.equal(out_labels, labels)
    assert torch.equal(
        out_plain, translate_image(plain, t.last_params.shift[0], padding_mode="reflect")
    )


def test_boxes_are_clamped_and_sanitize_drops_the_invisible_ones() -> None:
    torch.manual_seed(5)
    t = RandomTranslate(shift_px=((10, 10), 0), min_visibility=0.5)  # everything moves 10 right
    boxes = _boxes()
    out = v2.Compose([t, v2.SanitizeBoundingBoxes()])(
        {"image": _image(), "boxes": boxes, "labels": torch.tensor([1, 2, 3])}
    )
    moved, visible = translate_boxes(boxes, (10, 0), canvas_size=SIZE, min_visibility=0.5)
    assert visible.tolist() == [True, False, True]
    assert torch.equal(out["boxes"], moved[visible]) and out["labels"].tolist() == [1, 3]
    assert (out["boxes"][:, 2] <= SIZE[1]).all()


def test_legacy_names_pickling_and_repr() -> None:
    t = RandomTranslate(shift_px=2)
    images = _image(2)
    torch.manual_seed(6)
    params = t._get_params([images])
    assert torch.equal(t._transform(images, params), t.transform(images, params))
    clone = pickle.loads(pickle.dumps(t))
    torch.manual_seed(7)
    first = t(images)
    torch.manual_seed(7)
    assert torch.equal(clone(images), first)
    assert "shift_px=2" in repr(t)


class _Shifted(Dataset[torch.Tensor]):
    def __init__(self, transform: RandomTranslate) -> None:
        self.transform = transform

    def __len__(self) -> int:
        return 8

    def __getitem__(self, index: int) -> torch.Tensor:
        return self.transform(torch.ones(1, 5, 5))


def _epoch(transform: RandomTranslate) -> torch.Tensor:
    loader = DataLoader(_Shifted(transform), batch_size=2, num_workers=2, collate_fn=torch.stack)
    return torch.cat(list(loader))


def test_dataloader_workers_differ_and_manual_seed_reproduces() -> None:
    t = RandomTranslate(shift_px=2)
    torch.manual_seed(8)
    first = _epoch(t)
    torch.manual_seed(8)
    assert torch.equal(_epoch(t), first)
    # Batches 0 and 1 come from different workers: their shifts (hence pixels) differ.
    assert not torch.equal(first[0:2], first[2:4])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({}, ValueError, "A shift range is required"),
        ({"shift_px": -1}, ValueError, "must be a finite number >= 0"),
        ({"shift_px": 2, "p": 1.5}, ValueError, "`p` must be a float in"),
        ({"shift_px": 2, "padding_mode": "wrap"}, ValueError, "`padding_mode` must be one of"),
        (
            {"shift_px": 2, "padding_mode": "reflect", "fill": 3},
            ValueError,
            "only used with padding_mode='constant'",
        ),
        ({"shift_px": 2, "min_visibility": 2}, ValueError, "`min_visibility` must be"),
    ],
)
def test_bad_arguments_fail_at_construction_like_the_core(
    kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        RandomTranslate(**kwargs)  # type: ignore[arg-type]


def test_inputs_torchvision_would_reject_get_a_clear_message() -> None:
    t = RandomTranslate(shift_px=2)
    rotated = tv_tensors.BoundingBoxes(
        [[5.0, 5.0, 4.0, 4.0, 30.0]], format="XYWHR", canvas_size=SIZE
    )
    with pytest.raises(ValueError, match="must be axis-aligned"):
        t(_image(), rotated)
    with pytest.raises(ValueError, match="one per image of the batch"):
        t(_image(3), [_boxes(), _boxes()])
    with pytest.raises(ValueError, match=r"share one \(H, W\)"):
        t(_image(), tv_tensors.Mask(torch.zeros(5, 5, dtype=torch.uint8)))
    with pytest.raises(ValueError, match="batch's 3 samples as its first dimension"):
        t(_image(3), tv_tensors.Mask(torch.zeros(SIZE, dtype=torch.uint8)))
    with pytest.raises(ValueError, match="add the channel dimension"):
        t(torch.rand(SIZE))


def test_inputs_are_not_modified() -> None:
    t = RandomTranslate(shift_px=3)
    images, boxes = _image(2), [_boxes(), _boxes()]
    before = images.clone(), [b.clone() for b in boxes]
    t(images, boxes)
    assert torch.equal(images, before[0]) and all(map(torch.equal, boxes, before[1]))


def test_a_fill_alone_means_constant_padding_and_edge_means_replicate() -> None:
    images = _image(2)
    plain = images.as_subclass(torch.Tensor)
    torch.manual_seed(9)
    t = RandomTranslate(shift_px=5, fill=114)
    out = t(images)
    expected = translate_image(plain, t.last_params.shift, padding_mode="constant", fill=114)
    assert torch.equal(out, expected)
    edge = RandomTranslate(shift_px=5, padding_mode="edge")
    out = edge(images)
    assert torch.equal(
        out, translate_image(plain, edge.last_params.shift, padding_mode="replicate")
    )


def test_a_per_type_fill_dict_as_in_torchvision() -> None:
    t = RandomTranslate(
        shift_px=((4, 4), 0),
        fill={tv_tensors.Image: 114, tv_tensors.Video: 7, "others": 3, tv_tensors.Mask: 9},
    )
    image, video, plain = (
        _image(),
        tv_tensors.Video(torch.zeros(2, 3, *SIZE)),
        torch.zeros(3, *SIZE),
    )
    mask = tv_tensors.Mask(torch.ones(SIZE, dtype=torch.uint8))
    out_image, out_video, out_mask = t(image, video, mask)
    assert (out_image[..., :4] == 114).all() and torch.equal(out_image[..., 4:], image[..., :-4])
    assert (out_video[..., :4] == 7).all() and (out_video[..., 4:] == 0).all()
    assert (out_mask[:, :4] == 9).all() and (out_mask[:, 4:] == 1).all()
    assert (t(plain)[..., :4] == 3).all()  # a plain tensor is an "other" image type
    mask_only = RandomTranslate(shift_px=((4, 4), 0), fill={tv_tensors.Mask: 255})
    _, out_mask = mask_only(image, mask)
    assert (out_mask[:, :4] == 255).all()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"fill": {tv_tensors.BoundingBoxes: 1}}, ValueError, "`fill` keys must be among"),
        ({"fill": {tv_tensors.Mask: 1}, "mask_fill": 2}, ValueError, "must not contradict"),
        ({"fill": {tv_tensors.Image: "grey"}}, TypeError, "`fill` must be a number"),
    ],
)
def test_bad_fill_dicts_are_errors(
    kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        RandomTranslate(shift_px=2, **kwargs)  # type: ignore[arg-type]


def test_boxes_with_clamping_mode_none_move_exactly() -> None:
    torch.manual_seed(10)
    t = RandomTranslate(shift_px=6)
    boxes = tv_tensors.BoundingBoxes(
        [[0.0, 0.0, 14.0, 12.0], [1.0, 2.0, 3.0, 4.0]], format="XYWH", canvas_size=SIZE,
        clamping_mode=None,
    )  # fmt: skip
    _, out = t(_image(), boxes)
    expected, _ = translate_boxes(
        boxes.as_subclass(torch.Tensor), t.last_params.shift[0], canvas_size=SIZE,
        format="xywh", clip=False,
    )  # fmt: skip
    assert torch.equal(out, expected) and out.clamping_mode is None
