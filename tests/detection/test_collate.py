"""``CopyPasteCollate`` against the per-image NumPy reference, and its contract."""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pytest
import torch

from shiftaug.detection import CopyPasteCollate, CopyPasteParams
from shiftaug.functional import blend_images
from tests.detection.helpers import make_sample, to_reference, xyxy
from tests.detection.reference import copy_paste_one

pytest.importorskip("torchvision")
from torchvision import tv_tensors

SIZES = [(30, 34), (30, 34), (22, 40), (36, 26), (30, 34)]


def batch(
    counts: list[int | None], sizes: list[tuple[int, int]] | None = None, **options: Any
) -> list[tuple[Any, dict[str, Any]]]:
    sizes = sizes or SIZES
    return [make_sample(i, sizes[i % len(sizes)], c, **options) for i, c in enumerate(counts)]


def check_against_reference(
    samples: list[Any], collate: CopyPasteCollate, out: tuple[list[Any], list[dict[str, Any]]]
) -> None:
    params = collate.last_params
    assert params is not None
    images, targets = out
    references = [to_reference(*s) for s in samples]
    for n, (image, target) in enumerate(zip(images, targets, strict=True)):
        partner = int(params.partner[n])
        rows = torch.nonzero(params.chosen[n]).flatten().tolist()
        expected = copy_paste_one(
            references[n], references[partner], rows,
            collate.options.min_visibility, collate.options.min_area,
        )  # fmt: skip
        np.testing.assert_array_equal(image.as_subclass(torch.Tensor).numpy(), expected["image"])
        masks = target["masks"].as_subclass(torch.Tensor).numpy()
        np.testing.assert_array_equal(masks != 0, expected["masks"])
        assert masks.dtype == (np.uint8 if collate_mask_dtype(samples) == torch.uint8 else bool)
        boxes = xyxy(target["boxes"]).view(-1, 4)
        torch.testing.assert_close(
            boxes, torch.tensor(expected["boxes"]).view(-1, 4), atol=1e-4, rtol=0
        )
        area = target["area"]
        area = area.tolist() if isinstance(area, torch.Tensor) else area
        assert area == [float(a) for a in expected["area"]]
        for key in ("labels", "iscrowd"):
            value = target[key]
            got = value.tolist() if isinstance(value, torch.Tensor) else value
            assert got == expected["values"].get(key, []), key
        assert target["image_id"] == samples[n][1]["image_id"]


def collate_mask_dtype(samples: list[Any]) -> torch.dtype:
    return next(t["masks"].dtype for _, t in samples if "masks" in t)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(
    "num_objects, min_visibility, min_area",
    [("subset", 0.0, 1.0), ("all", 0.3, 1.0), (2, 0.0, 40.0), ((0, 3), 0.6, 5.0)],
)
def test_matches_the_numpy_reference(seed, num_objects, min_visibility, min_area) -> None:
    samples = batch([4, 6, 3, 5, 2], seed=seed)
    collate = CopyPasteCollate(
        num_objects, min_visibility=min_visibility, min_area=min_area,
        generator=torch.Generator().manual_seed(seed),
    )  # fmt: skip
    check_against_reference(samples, collate, collate(samples))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_torchvision_types_formats_and_lists_match_the_reference(seed) -> None:
    samples = batch([3, None, 5, 0, 4], tv=True, lists=True, image_dtype=torch.uint8, seed=seed)
    collate = CopyPasteCollate("all", generator=torch.Generator().manual_seed(seed))
    images, targets = collate(samples)
    check_against_reference(samples, collate, (images, targets))
    for (image_in, _), image, target in zip(samples, images, targets, strict=True):
        assert type(image) is tv_tensors.Image and image.dtype == torch.uint8
        assert image.shape == image_in.shape
        boxes, masks = target["boxes"], target["masks"]
        assert type(boxes) is tv_tensors.BoundingBoxes and boxes.format.name == "XYWH"
        assert tuple(boxes.canvas_size) == tuple(image.shape[-2:])
        assert type(masks) is tv_tensors.Mask and masks.dtype == torch.uint8
        assert isinstance(target["area"], list) and isinstance(target["iscrowd"], list)
        assert target["labels"].dtype == torch.int64
        assert len(boxes) == len(masks) == len(target["labels"]) == len(target["area"])


def test_bool_masks_and_float64_images() -> None:
    samples = batch([3, 4, 2], mask_dtype=torch.bool, image_dtype=torch.float64)
    collate = CopyPasteCollate(generator=torch.Generator().manual_seed(5))
    check_against_reference(samples, collate, collate(samples))


def test_masks_are_read_as_nonzero() -> None:
    """255-valued uint8 masks (PIL style) and int64 masks count as ``!= 0``; outputs hold 0/1."""
    samples = batch([3, 4, 2])
    scaled = [(i, {**t, "masks": t["masks"] * 255}) for i, t in samples[:2]]
    wide = [(samples[2][0], {**samples[2][1], "masks": samples[2][1]["masks"].long() * 7})]
    collate = CopyPasteCollate("all", generator=torch.Generator().manual_seed(4))
    _, targets = collate(scaled + wide)
    expected = CopyPasteCollate("all")(samples, params=collate.last_params)[1]
    for got, want in zip(targets, expected, strict=True):
        assert torch.equal(got["masks"], want["masks"].to(got["masks"].dtype))
        assert not bool((got["masks"] > 1).any())
        assert got["area"].tolist() == want["area"].tolist()


def test_images_without_annotations_get_every_object_key() -> None:
    """The COCO wrapper gives ``{"image_id": i}`` for an image without annotations."""
    samples = batch([None, None, 3], tv=True)
    collate = CopyPasteCollate("all", generator=torch.Generator().manual_seed(0))
    images, targets = collate(samples)
    check_against_reference(samples, collate, (images, targets))
    for (image, _), target in zip(samples, targets, strict=True):
        assert set(target) == {"image_id", "labels", "boxes", "masks", "area", "iscrowd"}
        assert target["masks"].shape[-2:] == image.shape[-2:]
        assert target["boxes"].shape[-1] == 4
    # Nobody has objects: both get the keys the batch uses, empty.
    empty = batch([None, 0], tv=True)
    _, targets = CopyPasteCollate()(empty)
    assert [len(t["masks"]) for t in targets] == [0, 0]
    assert targets[0]["masks"].shape == (0, 30, 34) and targets[0]["boxes"].format.name == "XYWH"
    assert CopyPasteCollate()(batch([None, None]))[1] == [{"image_id": 0}, {"image_id": 1}]


def test_unchanged_objects_keep_their_input_boxes() -> None:
    samples = batch([3, 3])
    collate = CopyPasteCollate(p=0.0)
    images, targets = collate(samples)
    for (image, target_in), image_out, target in zip(samples, images, targets, strict=True):
        assert torch.equal(image_out, image)
        torch.testing.assert_close(target["boxes"], target_in["boxes"])
        assert torch.equal(target["masks"], target_in["masks"])
        assert target["area"].tolist() == target_in["masks"].flatten(1).sum(1).float().tolist()


def test_area_is_recomputed_whatever_it_held() -> None:
    """``v2.SanitizeBoundingBoxes`` drops boxes without filtering ``area``: no harm done."""
    image, target = batch([3])[0]
    stale = {**target, "area": [1.0, 2.0, 3.0, 4.0, 5.0]}
    _, (out,) = CopyPasteCollate()([(image, stale)])
    assert out["area"] == target["masks"].flatten(1).sum(1).float().tolist()


def test_inputs_are_not_modified() -> None:
    samples = batch([4, 3, None])
    before = [
        (i.clone(), {k: v.clone() if isinstance(v, torch.Tensor) else v for k, v in t.items()})
        for i, t in samples
    ]
    CopyPasteCollate("all")(samples)
    for (image, target), (image0, target0) in zip(samples, before, strict=True):
        assert torch.equal(image, image0) and set(target) == set(target0)
        for key, value in target.items():
            assert (
                torch.equal(value, target0[key])
                if isinstance(value, torch.Tensor)
                else value == target0[key]
            )


@pytest.mark.parametrize("blend, options", [("feather", {"sigma": 2.0}), ("antialias", {})])
def test_soft_blends_match_blend_images_per_image(blend: str, options: dict[str, Any]) -> None:
    samples = batch([3, 4, 2], sizes=[(28, 28)])
    collate = CopyPasteCollate(
        "all", blend=blend, **options, generator=torch.Generator().manual_seed(1)
    )
    images, _ = collate(samples)
    params = collate.last_params
    assert params is not None
    for n, image in enumerate(images):
        partner = samples[int(params.partner[n])]
        rows = torch.nonzero(params.chosen[n]).flatten()
        union = (partner[1]["masks"][rows] != 0).any(0)
        expected = blend_images(
            samples[n][0][None], partner[0][None], union[None, None], mode=blend, **options
        )[0]
        torch.testing.assert_close(image, expected)
        assert not torch.equal(image, torch.where(union, partner[0], samples[n][0]))  # not hard


def test_draws_respect_the_count_rule() -> None:
    counts = [5, 0, 3, 7, 1, 4]
    for rule, check in [
        ("all", lambda wanted, k: wanted == k),
        ("subset", lambda wanted, k: (1 <= wanted <= k) if k else wanted == 0),
        (2, lambda wanted, k: wanted == min(2, k)),
        ((1, 3), lambda wanted, k: min(1, k) <= wanted <= min(3, k)),
    ]:
        collate = CopyPasteCollate(rule, generator=torch.Generator().manual_seed(3))
        for _ in range(20):
            params = collate.make_params(counts)
            assert all(int(params.partner[n]) != n for n in range(len(counts)))
            for n in range(len(counts)):
                k = counts[int(params.partner[n])]
                assert not params.chosen[n, k:].any()
                assert check(int(params.chosen[n].sum()), k), (rule, n)


def test_subset_sizes_are_uniform() -> None:
    """``"subset"`` draws 1..K objects uniformly (chi-square over 3000 draws, K = 4)."""
    collate = CopyPasteCollate("subset", generator=torch.Generator().manual_seed(0))
    sizes = torch.cat([collate.make_params([4, 4, 4]).chosen.sum(1) for _ in range(1000)])
    observed = torch.bincount(sizes, minlength=5)[1:].double()
    expected = observed.sum() / 4
    assert float(((observed - expected) ** 2 / expected).sum()) < 16.3  # p = 0.001, 3 dof


def test_params_replay_and_seeds() -> None:
    samples = batch([3, 4, 5])
    first = CopyPasteCollate(generator=torch.Generator().manual_seed(7))
    again = CopyPasteCollate(generator=torch.Generator().manual_seed(7))
    out_a, out_b = first(samples), again(samples)
    replay = CopyPasteCollate()(samples, params=first.last_params)
    for out in (out_b, replay):
        for a, b in zip(out_a[1], out[1], strict=True):
            assert torch.equal(a["masks"], b["masks"]) and torch.equal(a["labels"], b["labels"])
    draws = {
        tuple(
            CopyPasteCollate(generator=torch.Generator().manual_seed(s))
            .make_params([4] * 6)
            .partner.tolist()
        )
        for s in range(5)
    }
    assert len(draws) > 1


def test_single_sample_and_p_zero_paste_nothing() -> None:
    for samples, collate in [
        (batch([3]), CopyPasteCollate("all")),
        (batch([3, 2]), CopyPasteCollate("all", p=0.0)),
    ]:
        images, targets = collate(samples)
        for (image, target_in), image_out, target in zip(samples, images, targets, strict=True):
            assert torch.equal(image_out, image)
            assert torch.equal(target["labels"], target_in["labels"])


def test_pickles_and_runs_in_dataloader_workers() -> None:
    from torch.utils.data import DataLoader

    samples = batch([3, 4, 2, 5, 6, 3]) * 2  # the two workers get the same four batches
    collate = CopyPasteCollate(generator=torch.Generator().manual_seed(0))
    clone = pickle.loads(pickle.dumps(collate))
    assert repr(clone) == repr(collate)
    loader = DataLoader(samples, batch_size=6, num_workers=2, collate_fn=collate)

    def labels() -> list[list[list[int]]]:
        return [[t["labels"].tolist() for t in targets] for _, targets in loader]

    torch.manual_seed(0)
    first = labels()
    torch.manual_seed(0)
    assert labels() == first and len(first) == 2  # reproducible under torch.manual_seed
    assert first[0] != first[1]  # but the workers do not repeat each other


def test_threads_are_restored_after_each_call() -> None:
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        samples = batch([2, 3])
        CopyPasteCollate()(samples)
        assert torch.get_num_threads() == 2
        with pytest.raises(TypeError):
            CopyPasteCollate()([samples[0], (samples[1][0], [])])
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_replayed_params_must_fit_the_batch() -> None:
    samples = batch([3, 4])
    collate = CopyPasteCollate()
    wrong = CopyPasteParams(torch.tensor([1, 0]), torch.ones(2, 2, dtype=torch.bool))
    with pytest.raises(ValueError, match=r"`params` must be drawn for 2 samples with at most 4"):
        collate(samples, params=wrong)
    beyond = CopyPasteParams(torch.tensor([1, 0]), torch.ones(2, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match="only objects they have"):
        collate(samples, params=beyond)
    with pytest.raises(TypeError, match="`params` must be CopyPasteParams"):
        collate(samples, params={"partner": [1, 0]})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"num_objects": 0}, ValueError, "`num_objects` must be 'subset', 'all'"),
        ({"num_objects": (3, 1)}, ValueError, "`num_objects` must be"),
        ({"num_objects": "some"}, ValueError, "`num_objects` must be"),
        ({"num_objects": 2.5}, TypeError, r"`num_objects` must be .* but got 2\.5\."),
        ({"num_objects": None}, TypeError, r"`num_objects` must be .* but got None\."),
        ({"p": 1.5}, ValueError, "`p` must be a float in"),
        ({"p": "1"}, TypeError, "`p` must be a float in"),
        ({"blend": "soft"}, ValueError, "`blend` must be one of"),
        ({"min_visibility": 2.0}, ValueError, r"`min_visibility` must be a finite number in \["),
        ({"min_area": -1}, ValueError, "`min_area` must be a finite number >= 0"),
        ({"jitter": 1024}, TypeError, "`jitter` must be a LargeScaleJitter"),
        ({"object_keys": "masks"}, TypeError, "`object_keys` must be a sequence of str"),
        ({"object_keys": ("boxes",)}, ValueError, "`object_keys` must include 'masks'"),
        ({"box_format": "XYXY"}, ValueError, "`box_format` must be one of"),
        ({"generator": 0}, TypeError, "`generator` must be a torch.Generator"),
        ({"threads": 0}, ValueError, "`threads` must be an int >= 1, but got 0"),
        ({"threads": 1.5}, TypeError, "`threads` must be an int >= 1, but got"),
    ],
)
def test_constructor_errors(kwargs, error, match) -> None:
    with pytest.raises(error, match=match):
        CopyPasteCollate(**kwargs)


def _with(sample: tuple[Any, dict[str, Any]], **changes: Any) -> tuple[Any, dict[str, Any]]:
    image, target = sample
    target = dict(target)
    for key, value in changes.items():
        if key == "image":
            image = value
        elif value is None:
            target.pop(key)
        else:
            target[key] = value
    return image, target


def test_sample_errors_name_the_entry() -> None:
    good = batch([2, 3])
    collate = CopyPasteCollate()
    cases = [
        ([], TypeError, r"`samples` must be a non-empty list of \(image, target\) pairs"),
        ("abc", TypeError, "`samples` must be a non-empty list"),
        ([good[0], (good[1][0],)], TypeError, r"`samples\[1\]` must be an \(image, target\) pair"),
        (
            [good[0], (np.zeros((3, 4, 4)), {})],
            TypeError,
            r"`samples\[1\]\[0\]` must be a \(C, H, W\) image tensor",
        ),
        ([good[0], (good[1][0], [1])], TypeError, r"`samples\[1\]\[1\]` must be a dict target"),
        (
            [_with(good[0], masks=torch.rand(2, 30, 34))],
            TypeError,
            r"`samples\[0\]\[1\]\['masks'\]` must hold bool or integer",
        ),
        (
            [_with(good[0], masks=[1, 2])],
            TypeError,
            r"`samples\[0\]\[1\]\['masks'\]` must be a \(K, H, W\) tensor",
        ),
        (
            [_with(good[0], masks=torch.zeros(2, 30, 30, dtype=torch.bool))],
            ValueError,
            r"must have shape \(K, 30, 34\)",
        ),
        (
            [_with(good[0], labels=torch.zeros(3))],
            ValueError,
            r"`samples\[0\]\[1\]\['labels'\]` must hold one entry per object \(2",
        ),
        ([_with(good[0], masks=None)], ValueError, r"`samples\[0\]\[1\]` has objects"),
        (
            [_with(good[0], boxes=torch.zeros(2, 5))],
            ValueError,
            r"`samples\[0\]\[1\]\['boxes'\]` must be a \(K, 4\) tensor",
        ),
        (
            [good[0], _with(good[1], iscrowd=None)],
            ValueError,
            r"`samples\[1\]\[1\]` must hold every object key",
        ),
        (
            [good[0], _with(good[1], image=good[1][0].to(torch.float64))],
            ValueError,
            r"`samples\[1\]\[0\]` must have the channels and dtype",
        ),
    ]
    for samples, error, match in cases:
        with pytest.raises(error, match=match):
            collate(samples)


def test_rotated_boxes_are_refused() -> None:
    image, target = batch([2])[0]
    rotated = tv_tensors.BoundingBoxes(torch.zeros(2, 5), format="XYWHR", canvas_size=(30, 34))
    with pytest.raises(ValueError, match="must use one of the formats"):
        CopyPasteCollate()([(image, {**target, "boxes": rotated})])


@pytest.mark.cuda
def test_cuda_matches_cpu() -> None:
    samples = batch([3, 4, None, 2])
    cpu = CopyPasteCollate(generator=torch.Generator().manual_seed(0))
    images, targets = cpu(samples)
    gpu = CopyPasteCollate(device="cuda")
    images_gpu, targets_gpu = gpu(samples, params=cpu.last_params)
    for a, b, ta, tb in zip(images, images_gpu, targets, targets_gpu, strict=True):
        assert b.device.type == "cuda" and torch.equal(a, b.cpu())
        assert torch.equal(ta["masks"], tb["masks"].cpu()) and torch.equal(
            ta["boxes"], tb["boxes"].cpu()
        )


def test_integer_boxes_that_no_longer_fit_their_dtype_are_an_error_not_a_wrap() -> None:
    def sample(column: int, dtype: torch.dtype) -> tuple[torch.Tensor, dict[str, Any]]:
        masks = torch.zeros(1, 20, 300, dtype=torch.uint8)
        masks[0, 5:10, column : column + 10] = 1
        boxes = torch.tensor([[column, 5, column + 10, 10]], dtype=dtype)
        return torch.rand(3, 20, 300), {"masks": masks, "boxes": boxes, "labels": torch.ones(1)}

    collate = CopyPasteCollate("all", p=1.0)
    _, (_, target) = collate([sample(260, torch.int32), sample(0, torch.int16)])
    assert target["boxes"].dtype == torch.int16
    assert target["boxes"].tolist() == [[0, 5, 10, 10], [260, 5, 270, 10]]
    samples = [sample(260, torch.int32), sample(0, torch.uint8)]
    before = samples[1][1]["boxes"].clone()
    match = r"`target\['boxes'\]` after pasting must fit their dtype torch.uint8 \(\[0, 255\]\)"
    with pytest.raises(ValueError, match=match):
        collate(samples)
    assert torch.equal(samples[1][1]["boxes"], before)
